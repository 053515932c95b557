//! Documents seen before, kept parsed. Clients send the same few documents over and over (an
//! SPA's queries, GraphiQL's introspection), so parsing each one again is wasted work: a hit
//! costs a hash and a clone instead of a parse. A document that references no variables also
//! keeps its successful validation, which then cannot change (validation depends only on the
//! schema, the document, the operation name and, through variables, nothing else).
//!
//! Only documents that passed the limits *and* validation are kept, only up to
//! [`MAX_QUERY_BYTES`] of text each (a parsed document is some 50 times its text at worst) and
//! [`MAX_ENTRIES`] in all, so memory stays within a few tens of MB whatever is sent. When full,
//! one entry makes room for the next.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::ValidationResult;
use async_graphql::parser::types::ExecutableDocument;

use super::lock;

/// The longest document kept.
pub(super) const MAX_QUERY_BYTES: usize = 4 * 1024;
/// The most documents kept.
pub(super) const MAX_ENTRIES: usize = 256;

/// One document as first parsed.
pub(super) struct Entry {
    pub doc: ExecutableDocument,
    /// Whether validation may be kept: the text has no `$` at all.
    variable_free: bool,
    /// A successful validation, by operation name.
    validated: Mutex<Vec<(Option<String>, ValidationResult)>>,
}

impl Entry {
    /// The kept validation of `operation`, if any.
    pub(super) fn validation(&self, operation: Option<&str>) -> Option<ValidationResult> {
        if !self.variable_free {
            return None;
        }
        lock(&self.validated)
            .iter()
            .find(|(op, _)| op.as_deref() == operation)
            .map(|(_, v)| *v)
    }

    /// Keeps a successful validation of `operation` when it cannot depend on variables.
    pub(super) fn keep_validation(&self, operation: Option<&str>, result: ValidationResult) {
        if self.variable_free {
            let mut validated = lock(&self.validated);
            if validated.len() < 8 && !validated.iter().any(|(op, _)| op.as_deref() == operation) {
                validated.push((operation.map(str::to_owned), result));
            }
        }
    }
}

#[derive(Default)]
pub(super) struct DocumentCache {
    entries: Mutex<HashMap<Arc<str>, Arc<Entry>>>,
}

impl DocumentCache {
    pub(super) fn get(&self, query: &str) -> Option<Arc<Entry>> {
        lock(&self.entries).get(query).cloned()
    }

    /// Keeps `doc` as the parse of `query` (which passed validation), and returns the entry.
    pub(super) fn insert(&self, query: &str, doc: ExecutableDocument) -> Option<Arc<Entry>> {
        if query.len() > MAX_QUERY_BYTES {
            return None;
        }
        let entry = Arc::new(Entry {
            doc,
            variable_free: !query.contains('$'),
            validated: Mutex::default(),
        });
        let mut entries = lock(&self.entries);
        if entries.len() >= MAX_ENTRIES
            && let Some(old) = entries.keys().next().cloned()
        {
            // Any one: the map's order is as good as random, and one slot is all we need.
            entries.remove(&old);
        }
        entries.insert(Arc::from(query), entry.clone());
        Some(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(q: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(q).unwrap()
    }

    fn valid() -> ValidationResult {
        ValidationResult {
            cache_control: Default::default(),
            complexity: 1,
            depth: 1,
        }
    }

    #[test]
    fn validation_is_kept_only_without_variables() {
        let cache = DocumentCache::default();
        let plain = cache
            .insert("{ __typename }", doc("{ __typename }"))
            .unwrap();
        plain.keep_validation(None, valid());
        assert!(plain.validation(None).is_some());
        assert!(plain.validation(Some("Other")).is_none());
        let q = "query($n: Int) { __typename }";
        let with_vars = cache.insert(q, doc(q)).unwrap();
        with_vars.keep_validation(None, valid());
        assert!(with_vars.validation(None).is_none());
        assert!(cache.get(q).is_some());
    }

    #[test]
    fn size_is_bounded() {
        let cache = DocumentCache::default();
        let long = format!("{{ __typename {} }}", " ".repeat(MAX_QUERY_BYTES));
        assert!(cache.insert(&long, doc(&long)).is_none());
        for i in 0..=MAX_ENTRIES {
            let q = format!("{{ a{i}: __typename }}");
            cache.insert(&q, doc(&q));
        }
        assert!(lock(&cache.entries).len() <= MAX_ENTRIES);
    }
}
