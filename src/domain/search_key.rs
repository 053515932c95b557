use unicode_normalization::UnicodeNormalization;

/// The form in which names, emails and usernames are indexed and searched: NFKC, lower-case,
/// white space collapsed. Both the stored keys and the search term go through it, so search is
/// case- and width-insensitive on SQLite and PostgreSQL alike.
pub fn search_key(raw: &str) -> String {
    let folded: String = raw.nfkc().flat_map(char::to_lowercase).collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_width_and_space() {
        assert_eq!(search_key("  ＡＬＩＣＥ   Smith "), "alice smith");
    }
}

/// A quick-search term, parsed. `key` is in search-key form; `exact_id` is set when the term
/// is also a valid profile ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerm {
    /// The term in search-key form.
    pub key: String,
    /// The profile ID the term spells, if it is one.
    pub exact_id: Option<super::ProfileId>,
}

impl SearchTerm {
    /// The most characters a term may have, counted in search-key form.
    pub const MAX_LEN: usize = 100;
    /// Substring matching needs a trigram; shorter terms match whole values and prefixes only.
    pub const MIN_SUBSTRING_LEN: usize = 3;

    /// `None` for a blank term, which means "no search".
    pub fn parse(raw: &str) -> Result<Option<Self>, super::InvalidInput> {
        super::reject_control_chars(raw)?;
        let key = search_key(raw);
        if key.is_empty() {
            return Ok(None);
        }
        if key.chars().count() > Self::MAX_LEN {
            return Err(super::InvalidInput::new(format!(
                "must be at most {} characters",
                Self::MAX_LEN
            )));
        }
        let exact_id = super::ProfileId::parse(&key).ok();
        Ok(Some(Self { key, exact_id }))
    }

    /// Whether the term is long enough for substring matching.
    pub fn allows_substring(&self) -> bool {
        self.key.chars().count() >= Self::MIN_SUBSTRING_LEN
    }
}

/// Where a quick-search page ended: the match tier of the last result and its profile ID.
/// Results come tier by tier (exact ID, then prefixes, then substrings), each in ID order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchCursor {
    /// The tier of the last result.
    pub tier: u8,
    /// The last result's profile ID.
    pub id: i64,
}
