//! The alias limit. Depth and complexity limits come with async-graphql; aliases do not, and
//! without a cap one request could ask for the same expensive field a thousand times.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Selection, SelectionSet,
};
use async_graphql::{Name, ServerError, ServerResult, Variables};

pub struct AliasLimit {
    max: usize,
}

impl AliasLimit {
    pub fn new(max: usize) -> Self {
        Self { max }
    }
}

impl ExtensionFactory for AliasLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AliasLimitExtension { max: self.max })
    }
}

struct AliasLimitExtension {
    max: usize,
}

#[async_trait::async_trait]
impl Extension for AliasLimitExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let count = count_aliases(&doc);
        if count > self.max {
            let mut err = ServerError::new(
                format!(
                    "The query uses {count} aliases; at most {} are allowed. Split it into several requests.",
                    self.max
                ),
                None,
            );
            let mut ext = async_graphql::ErrorExtensionValues::default();
            ext.set("code", "BAD_USER_INPUT");
            ext.set("field", "query");
            err.extensions = Some(ext);
            return Err(err);
        }
        Ok(doc)
    }
}

/// Aliases as executed: a fragment counts once per spread. Memoised per fragment, and a
/// fragment cycle (rejected later by validation) counts as zero instead of looping.
pub fn count_aliases(doc: &ExecutableDocument) -> usize {
    let mut memo: HashMap<Name, usize> = HashMap::new();
    let mut stack: Vec<Name> = Vec::new();
    let ops: Vec<&SelectionSet> = match &doc.operations {
        DocumentOperations::Single(op) => vec![&op.node.selection_set.node],
        DocumentOperations::Multiple(ops) => {
            ops.values().map(|op| &op.node.selection_set.node).collect()
        }
    };
    ops.into_iter().fold(0usize, |acc, set| {
        acc.saturating_add(in_set(doc, set, &mut memo, &mut stack))
    })
}

fn in_set(
    doc: &ExecutableDocument,
    set: &SelectionSet,
    memo: &mut HashMap<Name, usize>,
    stack: &mut Vec<Name>,
) -> usize {
    let mut total = 0usize;
    for item in &set.items {
        let n = match &item.node {
            Selection::Field(f) => usize::from(f.node.alias.is_some()).saturating_add(in_set(
                doc,
                &f.node.selection_set.node,
                memo,
                stack,
            )),
            Selection::InlineFragment(f) => in_set(doc, &f.node.selection_set.node, memo, stack),
            Selection::FragmentSpread(s) => {
                let name = &s.node.fragment_name.node;
                if let Some(n) = memo.get(name) {
                    *n
                } else if stack.contains(name) {
                    0
                } else if let Some(frag) = doc.fragments.get(name) {
                    stack.push(name.clone());
                    let n = in_set(doc, &frag.node.selection_set.node, memo, stack);
                    stack.pop();
                    memo.insert(name.clone(), n);
                    n
                } else {
                    0
                }
            }
        };
        total = total.saturating_add(n);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_aliases_through_fragments() {
        let doc = async_graphql::parser::parse_query(
            "query { a: viewer { id } b: viewer { ...F } ...F ...F } fragment F on StaffUser { x: id y: id }",
        )
        .unwrap();
        assert_eq!(count_aliases(&doc), 2 + 2 * 3);
    }

    #[test]
    fn fragment_cycles_terminate() {
        let doc = async_graphql::parser::parse_query(
            "{ ...A } fragment A on Q { a: x ...B } fragment B on Q { b: y ...A }",
        )
        .unwrap();
        assert!(count_aliases(&doc) <= 2);
    }
}
