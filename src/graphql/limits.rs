//! Query cost, depth and alias limits, checked right after parsing and before anything else
//! looks at the document.
//!
//! async-graphql's own recursion-depth check (run while parsing) and its depth and complexity
//! visitors expand every fragment spread afresh, so fragments that each spread the next one
//! twice cost 2ⁿ work before any limit is compared. This extension therefore parses the
//! document itself when the request is prepared, hands the parsed document on (it is not
//! parsed twice), and measures it first.
//! Here each fragment's cost is computed once (memoised per fragment and context), so the
//! check takes time linear in the document, and a document over budget never reaches the
//! library's validation. Because every field costs at least 1 and every list multiplier is at
//! least 1, a document that passes has at most `max_complexity` fields once expanded, which
//! also bounds the work of the validation that follows.
//!
//! The cost model: a field costs 1 plus its selection's cost times a multiplier. The
//! multiplier is the field's `first` argument (its default when left out) when it has one, 1
//! for the `edges`/`nodes` of a connection (the connection field already counted them), and
//! [`LIST_CAP`] for any other list. Introspection is measured on its own terms: inside a real
//! root `__schema` or `__type` field lists count once and depth is not counted, but the nesting
//! of `fields`/`inputFields`/`interfaces`/`possibleTypes` is capped as graphql-js's
//! `MaxIntrospectionDepthRule` caps it.

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Field, OperationDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql::registry::{MetaType, Registry};
use async_graphql::{Name, Value as ConstValue, Variables};

use async_graphql::ServerError;

use super::errors::refused;
use crate::error::ErrorCode;

/// The multiplier of a list field that takes no `first`: the most items it can return.
pub(super) const LIST_CAP: u64 = 100;

/// The multiplier of a `first` argument that is neither given nor defaulted.
const DEFAULT_FIRST: u64 = 100;

/// Nested `fields`/`inputFields`/`interfaces`/`possibleTypes` allowed in introspection
/// (graphql-js allows fewer than 3).
const MAX_INTROSPECTION_LISTS: u32 = 3;

/// The limits one operation must keep.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_aliases: usize,
}

/// What an operation measured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Measure {
    pub cost: u64,
    pub depth: u32,
    pub aliases: u64,
    /// The most nested introspection lists on one path.
    pub introspection_lists: u32,
}

impl Measure {
    /// Siblings: costs and aliases add up, depths take the deeper.
    fn beside(self, other: Measure) -> Measure {
        Measure {
            cost: self.cost.saturating_add(other.cost),
            depth: self.depth.max(other.depth),
            aliases: self.aliases.saturating_add(other.aliases),
            introspection_lists: self.introspection_lists.max(other.introspection_lists),
        }
    }
}

/// Checks every operation of the document against `limits`.
pub(super) fn check(
    registry: &Registry,
    doc: &ExecutableDocument,
    variables: &Variables,
    limits: Limits,
) -> Result<Measure, ServerError> {
    let operations: Vec<&OperationDefinition> = match &doc.operations {
        DocumentOperations::Single(op) => vec![&op.node],
        DocumentOperations::Multiple(ops) => ops.values().map(|op| &op.node).collect(),
    };
    unused_fragments(doc, &operations)?;
    // The library validates every operation in the document, so all of them count.
    let mut total = Measure::default();
    for op in operations {
        let mut walker = Walker::new(registry, doc, variables, op);
        let root = match op.ty {
            OperationType::Query => Some(registry.query_type.as_str()),
            OperationType::Mutation => registry.mutation_type.as_deref(),
            OperationType::Subscription => registry.subscription_type.as_deref(),
        };
        let mode = if op.ty == OperationType::Query {
            Mode::QueryRoot
        } else {
            Mode::Normal
        };
        let measured = walker.set(&op.selection_set.node, root, mode)?;
        total = total.beside(measured);
        enforce(total, limits)?;
    }
    Ok(total)
}

fn too_complex(message: String) -> ServerError {
    refused(ErrorCode::QueryTooComplex, message)
}

fn enforce(m: Measure, limits: Limits) -> Result<(), ServerError> {
    if m.aliases > limits.max_aliases as u64 {
        return Err(too_complex(format!(
            "The query uses {} aliases; at most {} are allowed. Split it into several requests",
            m.aliases, limits.max_aliases
        )));
    }
    if m.depth as usize > limits.max_depth {
        return Err(too_complex(format!(
            "The query is nested {} levels deep; at most {} are allowed. Ask for less nested data, or follow the links in a second request",
            m.depth, limits.max_depth
        )));
    }
    if m.cost > limits.max_complexity as u64 {
        return Err(too_complex(format!(
            "The query would cost {} (each field counts once per item its lists can return); the limit is {}. Ask for smaller pages (a lower `first`) or fewer nested lists",
            m.cost, limits.max_complexity
        )));
    }
    if m.introspection_lists >= MAX_INTROSPECTION_LISTS {
        return Err(too_complex(
            "The introspection query nests `fields`, `inputFields`, `interfaces` or `possibleTypes` too deeply. Use the standard introspection query".into(),
        ));
    }
    Ok(())
}

/// A fragment no operation uses is refused here, as the spec's validation would refuse it, so
/// that nothing outside the measured operations reaches the library's validation.
fn unused_fragments(
    doc: &ExecutableDocument,
    operations: &[&OperationDefinition],
) -> Result<(), ServerError> {
    let mut reached: HashSet<&Name> = HashSet::new();
    let mut todo: Vec<&SelectionSet> = operations.iter().map(|op| &op.selection_set.node).collect();
    while let Some(set) = todo.pop() {
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => todo.push(&f.node.selection_set.node),
                Selection::InlineFragment(f) => todo.push(&f.node.selection_set.node),
                Selection::FragmentSpread(s) => {
                    let name = &s.node.fragment_name.node;
                    if let Some(frag) = doc.fragments.get(name)
                        && reached.insert(name)
                    {
                        todo.push(&frag.node.selection_set.node);
                    }
                }
            }
        }
    }
    match doc.fragments.keys().find(|name| !reached.contains(name)) {
        Some(name) => Err(refused(
            ErrorCode::GraphqlValidationFailed,
            format!("The fragment \"{name}\" is never used. Remove it"),
        )),
        None => Ok(()),
    }
}

/// Where a selection set sits, which changes how it is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Mode {
    /// The root of a query, where `__schema` and `__type` start introspection.
    QueryRoot,
    Normal,
    /// Inside `__schema` or `__type`.
    Introspection,
}

struct Walker<'a> {
    registry: &'a Registry,
    doc: &'a ExecutableDocument,
    variables: &'a Variables,
    defaults: HashMap<&'a Name, &'a ConstValue>,
    memo: HashMap<(&'a Name, Mode), Measure>,
    in_progress: HashSet<&'a Name>,
}

impl<'a> Walker<'a> {
    fn new(
        registry: &'a Registry,
        doc: &'a ExecutableDocument,
        variables: &'a Variables,
        op: &'a OperationDefinition,
    ) -> Self {
        let defaults = op
            .variable_definitions
            .iter()
            .filter_map(|d| Some((&d.node.name.node, &d.node.default_value.as_ref()?.node)))
            .collect();
        Walker {
            registry,
            doc,
            variables,
            defaults,
            memo: HashMap::new(),
            in_progress: HashSet::new(),
        }
    }

    fn set(
        &mut self,
        set: &'a SelectionSet,
        ty: Option<&'a str>,
        mode: Mode,
    ) -> Result<Measure, ServerError> {
        let mut total = Measure::default();
        for item in &set.items {
            let m = match &item.node {
                Selection::Field(f) => self.field(&f.node, ty, mode)?,
                Selection::InlineFragment(f) => {
                    let inner = f
                        .node
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.as_str())
                        .or(ty);
                    self.set(&f.node.selection_set.node, inner, mode)?
                }
                Selection::FragmentSpread(s) => self.spread(&s.node.fragment_name.node, mode)?,
            };
            total = total.beside(m);
        }
        Ok(total)
    }

    fn spread(&mut self, name: &'a Name, mode: Mode) -> Result<Measure, ServerError> {
        if let Some(m) = self.memo.get(&(name, mode)) {
            return Ok(*m);
        }
        let Some(frag) = self.doc.fragments.get(name) else {
            // Validation reports the unknown fragment.
            return Ok(Measure::default());
        };
        if !self.in_progress.insert(name) {
            return Err(refused(
                ErrorCode::GraphqlValidationFailed,
                format!("The fragment \"{name}\" spreads itself. Remove the cycle"),
            ));
        }
        let on = frag.node.type_condition.node.on.node.as_str();
        let m = self.set(&frag.node.selection_set.node, Some(on), mode)?;
        self.in_progress.remove(name);
        self.memo.insert((name, mode), m);
        Ok(m)
    }

    fn field(
        &mut self,
        field: &'a Field,
        parent: Option<&'a str>,
        mode: Mode,
    ) -> Result<Measure, ServerError> {
        let name = field.name.node.as_str();
        let def = parent
            .and_then(|p| self.registry.types.get(p))
            .and_then(|t| t.field_by_name(name));
        let child_type = def.map(|d| base_type_name(&d.ty));
        let starts_introspection =
            mode == Mode::QueryRoot && (name == "__schema" || name == "__type");
        let child_mode = match mode {
            Mode::Introspection => Mode::Introspection,
            _ if starts_introspection => Mode::Introspection,
            _ => Mode::Normal,
        };
        let children = self.set(&field.selection_set.node, child_type, child_mode)?;
        let alias = u64::from(field.alias.is_some());
        if child_mode == Mode::Introspection {
            let counted = parent == Some("__Type")
                && matches!(
                    name,
                    "fields" | "inputFields" | "interfaces" | "possibleTypes"
                );
            return Ok(Measure {
                cost: children.cost.saturating_add(1),
                // The root introspection field counts as one level; its inside does not.
                depth: u32::from(starts_introspection),
                aliases: children.aliases.saturating_add(alias),
                introspection_lists: children.introspection_lists + u32::from(counted),
            });
        }
        let multiplier = def.map_or(1, |d| self.multiplier(field, d, parent));
        Ok(Measure {
            cost: children.cost.saturating_mul(multiplier).saturating_add(1),
            depth: children.depth.saturating_add(1),
            aliases: children.aliases.saturating_add(alias),
            introspection_lists: children.introspection_lists,
        })
    }

    fn multiplier(
        &self,
        field: &Field,
        def: &async_graphql::registry::MetaField,
        parent: Option<&str>,
    ) -> u64 {
        if let Some(arg) = def.args.get("first") {
            let given = field.get_argument("first").and_then(|v| {
                v.node
                    .clone()
                    .into_const_with(|var| {
                        self.variables
                            .get(&var)
                            .or_else(|| self.defaults.get(&var).copied())
                            .cloned()
                            .ok_or(())
                    })
                    .ok()
                    .as_ref()
                    .and_then(as_count)
            });
            let default = arg.default_value.as_deref().and_then(|d| d.parse().ok());
            return given.or(default).unwrap_or(DEFAULT_FIRST).max(1);
        }
        let in_connection = parent.is_some_and(|p| {
            p.ends_with("Connection")
                && matches!(self.registry.types.get(p), Some(MetaType::Object { .. }))
        });
        if def.ty.starts_with('[') && !in_connection {
            LIST_CAP
        } else {
            1
        }
    }
}

/// A count from an argument value; negative or non-numeric values count as absent.
fn as_count(v: &ConstValue) -> Option<u64> {
    match v {
        ConstValue::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// `[Profile!]!` → `Profile`.
fn base_type_name(ty: &str) -> &str {
    ty.trim_matches(|c| c == '[' || c == ']' || c == '!')
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use async_graphql::extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
    };
    use async_graphql::{ServerError, ServerResult};

    use super::*;

    /// Runs [`check`] against the real schema's registry, which only an extension can see.
    struct Probe(Arc<Mutex<Option<Result<Measure, String>>>>);

    impl ExtensionFactory for Probe {
        fn create(&self) -> Arc<dyn Extension> {
            Arc::new(Probe(self.0.clone()))
        }
    }

    #[async_trait::async_trait]
    impl Extension for Probe {
        async fn prepare_request(
            &self,
            ctx: &ExtensionContext<'_>,
            mut request: async_graphql::Request,
            _next: NextPrepareRequest<'_>,
        ) -> ServerResult<async_graphql::Request> {
            let variables = request.variables.clone();
            let doc = request.parsed_query()?;
            let measured =
                check(&ctx.schema_env.registry, doc, &variables, GENEROUS).map_err(|e| {
                    e.extensions
                        .and_then(|ext| ext.get("code").map(ToString::to_string))
                        .unwrap_or_default()
                        .trim_matches('"')
                        .to_owned()
                });
            *self.0.lock().unwrap() = Some(measured);
            Err(ServerError::new("measured only", None))
        }
    }

    fn measure(query: &str) -> Result<Measure, String> {
        let slot = Arc::new(Mutex::new(None));
        let schema = super::super::schema_builder()
            .extension(Probe(slot.clone()))
            .finish();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let resp = rt.block_on(schema.execute(query));
        slot.lock()
            .unwrap()
            .take()
            .unwrap_or_else(|| panic!("the probe did not run: {:?}", resp.errors))
    }

    const GENEROUS: Limits = Limits {
        max_depth: 100,
        max_complexity: usize::MAX,
        max_aliases: usize::MAX,
    };

    #[test]
    fn counts_aliases_through_fragments() {
        let m = measure(
            "query { a: viewer { id } b: viewer { ...F } ...G ...G } fragment F on StaffUser { x: id y: id } fragment G on QueryRoot { c: viewer { ...F } }",
        )
        .unwrap();
        assert_eq!(m.aliases, 2 + 2 + 2 * 3);
    }

    #[test]
    fn fragment_cycles_are_refused() {
        let err = measure(
            "{ ...A } fragment A on QueryRoot { viewer { id } ...B } fragment B on QueryRoot { ...A }",
        )
        .unwrap_err();
        assert_eq!(err, "GRAPHQL_VALIDATION_FAILED");
    }

    #[test]
    fn unused_fragments_are_refused() {
        let err =
            measure("{ viewer { id } } fragment A on QueryRoot { viewer { id } }").unwrap_err();
        assert_eq!(err, "GRAPHQL_VALIDATION_FAILED");
    }

    #[test]
    fn doubling_fragments_cost_what_they_expand_to() {
        let n = 40;
        let mut q = String::from("{ ...F0 }");
        for i in 0..n {
            q.push_str(&format!(
                " fragment F{i} on QueryRoot {{ ...F{} ...F{} }}",
                i + 1,
                i + 1
            ));
        }
        q.push_str(&format!(
            " fragment F{n} on QueryRoot {{ viewer {{ id }} }}"
        ));
        let m = measure(&q).unwrap();
        assert_eq!(m.cost, 2u64.pow(n) * 2);
    }

    #[test]
    fn first_multiplies_the_selection() {
        let m = measure("{ profiles(first: 7) { edges { node { id displayName } } } }").unwrap();
        // profiles: 1 + 7 × (edges: 1 + 1 × (node: 1 + 2)).
        assert_eq!(m.cost, 1 + 7 * 4);
        assert_eq!(m.depth, 4);
    }

    #[test]
    fn introspection_is_not_counted_as_depth_but_its_lists_are_capped() {
        let m = measure("{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } }").unwrap();
        assert_eq!(m.depth, 1);
        let m = measure("{ __schema { types { fields { type { fields { name } } } } } }").unwrap();
        assert_eq!(m.introspection_lists, 2);
        let deep = measure(
            "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }",
        );
        assert_eq!(deep.unwrap_err(), "QUERY_TOO_COMPLEX");
        // A field aliased as `__schema` gets no exemption.
        let m = measure(
            "{ __schema: profiles(first: 1) { edges { node { parent { parent { id } } } } } }",
        )
        .unwrap();
        assert_eq!(m.depth, 6);
    }
}
