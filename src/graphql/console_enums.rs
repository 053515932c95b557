//! The enum lists the staff console offers as choices, generated from the schema into
//! `src/http/staff/enums.js` (`memberkey schema --console-enums`), so a value the API gains
//! reaches the console's lists without a hand copy. A test keeps the committed file current.

use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};

/// The enums the console lists, in the order the file holds them.
const LISTED: [&str; 7] = [
    "ProfileKind",
    "MemberStatus",
    "Right",
    "MassPurpose",
    "MassCommunicationStatus",
    "DeliveryStatus",
    "LinkState",
];

/// `enums.js`: one exported array per listed enum of `[value, description]` pairs, in the
/// schema's order.
pub fn console_enums_js() -> String {
    let doc = async_graphql::parser::parse_schema(super::sdl()).expect("the schema's SDL parses");
    let mut enums: Vec<(String, Vec<(String, String)>)> = doc
        .definitions
        .into_iter()
        .filter_map(|def| match def {
            TypeSystemDefinition::Type(t) => Some(t.node),
            _ => None,
        })
        .filter_map(|t| match t.kind {
            TypeKind::Enum(e) => Some((
                t.name.node.to_string(),
                e.values
                    .into_iter()
                    .map(|v| {
                        let about = v.node.description.map(|d| d.node).unwrap_or_default();
                        let about = about.split_whitespace().collect::<Vec<_>>().join(" ");
                        (v.node.value.node.to_string(), about)
                    })
                    .collect(),
            )),
            _ => None,
        })
        .collect();
    let mut out = String::from(
        "// Generated from the GraphQL schema by `cargo run -q -- schema --console-enums > \
         src/http/staff/enums.js`.\n// Do not edit: a test compares this file with the schema.\n",
    );
    for name in LISTED {
        let at = enums
            .iter()
            .position(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("the schema has no enum {name}"));
        let (_, values) = enums.swap_remove(at);
        out.push_str(&format!(
            "\n/** {name}: [value, description] */\nexport const {name} = [\n"
        ));
        for (value, about) in values {
            let about = serde_json::to_string(&about).expect("a string serialises");
            out.push_str(&format!("  ['{value}', {about}],\n"));
        }
        out.push_str("];\n");
    }
    out
}
