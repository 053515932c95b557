//! A small builder for the hand-written SQL that SeaQuery cannot express portably (FTS5,
//! pg_trgm): it numbers placeholders for the backend and collects their values.

use sea_orm::{DatabaseBackend, Statement, Value};

pub struct Sql {
    backend: DatabaseBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub fn new(backend: DatabaseBackend) -> Self {
        Self {
            backend,
            text: String::new(),
            values: Vec::new(),
        }
    }

    pub fn backend(&self) -> DatabaseBackend {
        self.backend
    }

    /// Appends literal SQL. Never pass client input here; use `param`.
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.text.push_str(sql);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn param(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        match self.backend {
            DatabaseBackend::Postgres => {
                let n = self.values.len();
                self.text.push_str(&format!("${n}"));
            }
            _ => self.text.push('?'),
        }
        self
    }

    /// Appends placeholders bound to `values`, separated by commas: the inside of `IN (…)`.
    pub fn list<V: Into<Value>>(&mut self, values: impl IntoIterator<Item = V>) -> &mut Self {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.param(value);
        }
        self
    }

    /// Appends one of the fixed codes a `db_enum!` type stores (`QUEUED`), written into the
    /// text instead of bound: a partial index whose predicate names the code can then serve
    /// the statement under PostgreSQL's generic plan, which a bound value cannot prove.
    pub fn code(&mut self, code: &'static str) -> &mut Self {
        assert!(
            code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
            "{code:?} is not a stored code"
        );
        self.text.push('\'');
        self.text.push_str(code);
        self.text.push('\'');
        self
    }

    pub fn build(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
}

/// A LIKE pattern matching `term` anywhere, with LIKE's own wildcards in `term` escaped by
/// `\`: use it with `ESCAPE '\'`, so a search for `50%` or `a_b` means what it says.
pub fn contains_pattern(term: &str) -> String {
    let escaped = term
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}
