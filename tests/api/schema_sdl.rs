//! The committed `schema.graphql` must match the code, and every type and field must say
//! what it is.

use serde_json::Value;

#[test]
fn committed_sdl_matches_the_code() {
    let current = memberkey::graphql::sdl();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == current,
        "schema.graphql is out of date. Refresh it with:\n    cargo run -q -- schema > schema.graphql\nand commit the result."
    );
}

#[test]
fn the_consoles_enum_lists_match_the_code() {
    let current = memberkey::graphql::console_enums_js();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http/staff/enums.js");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == current,
        "src/http/staff/enums.js is out of date. Refresh it with:\n    cargo run -q -- schema --console-enums > src/http/staff/enums.js\nand commit the result."
    );
}

#[tokio::test]
async fn every_type_field_argument_and_enum_value_has_a_description() {
    let schema = memberkey::graphql::schema_builder().finish();
    let q = "{ __schema { types { name kind description \
             fields { name description args { name description } } \
             inputFields { name description } enumValues { name description } } } }";
    let resp = schema.execute(q).await;
    assert!(resp.errors.is_empty(), "{:?}", resp.errors);
    let data = resp.data.into_json().unwrap();
    let undocumented = |v: &Value| {
        v["description"]
            .as_str()
            .is_none_or(|s| s.trim().is_empty())
    };
    let mut missing = Vec::new();
    for ty in data["__schema"]["types"].as_array().unwrap() {
        let name = ty["name"].as_str().unwrap();
        let builtin =
            name.starts_with("__") || matches!(name, "String" | "Int" | "Float" | "Boolean" | "ID");
        if builtin {
            continue;
        }
        if undocumented(ty) && !matches!(name, "QueryRoot" | "MutationRoot") {
            missing.push(name.to_owned());
        }
        for list in ["fields", "inputFields", "enumValues"] {
            for item in ty[list].as_array().into_iter().flatten() {
                let item_name = item["name"].as_str().unwrap();
                if undocumented(item) {
                    missing.push(format!("{name}.{item_name}"));
                }
                for arg in item["args"].as_array().into_iter().flatten() {
                    // Self-explanatory arguments (`id`, `input`, credentials) may rely on the
                    // field's own description.
                    let arg_name = arg["name"].as_str().unwrap();
                    let obvious = matches!(
                        arg_name,
                        "id" | "input" | "username" | "password" | "staffUserId" | "rights"
                    );
                    if undocumented(arg) && !obvious {
                        missing.push(format!("{name}.{item_name}({arg_name})"));
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "undocumented schema items: {missing:?}");
}
