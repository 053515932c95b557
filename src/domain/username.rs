use std::fmt;

use unicode_normalization::UnicodeNormalization;

use super::InvalidInput;

/// A sign-in name: 3 to 64 characters of letters, digits and `. _ -`. Its `key` (NFKC, then
/// lower-cased) decides uniqueness, so `ALICE`, `alice` and full-width `ａｌｉｃｅ` are one name.
///
/// A username never contains `@`, so it can never equal (or look like) an email address: a
/// login string with `@` is an email, one without is a username, and each resolves to at most
/// one identity by construction. Otherwise member A could take member B's address as a
/// username and capture B's sign-ins and lock-outs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username {
    display: String,
    key: String,
}

impl Username {
    /// The fewest characters a username may have, counted after trimming.
    pub const MIN_LEN: usize = 3;
    /// The most characters a username may have, after trimming and again after folding.
    pub const MAX_LEN: usize = 64;

    /// Parses a name to be stored; refuses `@`, so no username can pass for an email address.
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let parsed = Self::parse_allowing_at(raw)?;
        if parsed.display.contains('@') {
            return Err(InvalidInput::new(
                "must not contain @ (members can already sign in with their email address; choose a name without @)",
            ));
        }
        Ok(parsed)
    }

    /// Reads a name for lookup only, accepting `@` so that staff accounts created before the
    /// rule above can still sign in. Never use it for a name about to be stored.
    pub fn parse_for_lookup(raw: &str) -> Result<Self, InvalidInput> {
        Self::parse_allowing_at(raw)
    }

    fn parse_allowing_at(raw: &str) -> Result<Self, InvalidInput> {
        let trimmed = raw.trim();
        let count = trimmed.chars().count();
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&count) {
            return Err(InvalidInput::new(format!(
                "must be {} to {} characters",
                Self::MIN_LEN,
                Self::MAX_LEN
            )));
        }
        let normalized: String = trimmed.nfkc().collect();
        if !normalized
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
        {
            return Err(InvalidInput::new(
                "may contain only letters, digits and . _ -",
            ));
        }
        let key: String = normalized.chars().flat_map(char::to_lowercase).collect();
        if key.chars().count() > Self::MAX_LEN {
            return Err(InvalidInput::new(format!(
                "must be at most {} characters",
                Self::MAX_LEN
            )));
        }
        Ok(Self {
            display: normalized,
            key,
        })
    }

    /// The name as the user chose it (NFKC).
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The case- and width-folded form used for uniqueness and lookup.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_width_fold_to_one_key() {
        let a = Username::parse("ALICE").unwrap();
        let b = Username::parse("ａｌｉｃｅ").unwrap();
        assert_eq!(a.key(), "alice");
        assert_eq!(a.key(), b.key());
        assert!(Username::parse("ann@example.org").is_err());
        assert!(
            Username::parse("ann＠example.org").is_err(),
            "full-width @ folds to @"
        );
        assert!(Username::parse_for_lookup("ann@example.org").is_ok());
    }

    #[test]
    fn refuses_bad_names() {
        for bad in ["ab", "a b c", "x\ny", "semi;colon", &"a".repeat(65)] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
    }
}
