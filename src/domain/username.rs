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

impl Username {
    /// A username made from a name, for "Create Portal Logins": each word folded to lower-case
    /// ASCII letters and digits (`Søren Ærø-Müller` → `soren.aero.muller`), the words joined
    /// by `.`, then `suffix` (a number, when the plain form is taken). Leaves room for the
    /// suffix within [`Self::MAX_LEN`]. `None` when the name has no letter or digit that folds
    /// to ASCII, or is too short to be a username.
    pub fn from_name(words: &[&str], suffix: Option<u32>) -> Option<Self> {
        let folded: Vec<String> = words
            .iter()
            .flat_map(|w| w.split(|c: char| !c.is_alphanumeric()))
            .map(fold_ascii)
            .filter(|w| !w.is_empty())
            .collect();
        let mut base = folded.join(".");
        // 54 characters leave room for a ten-digit suffix.
        if let Some((cut, _)) = base.char_indices().nth(Self::MAX_LEN - 10) {
            base.truncate(cut);
            base = base.trim_end_matches('.').to_owned();
        }
        let name = match suffix {
            Some(n) => format!("{base}{n}"),
            None => base,
        };
        Self::parse(&name).ok()
    }
}

/// Lower-case ASCII letters and digits of `word`: accents dropped, and the letters that do
/// not decompose spelled out (`ø` → `o`, `æ` → `ae`, `ß` → `ss`).
fn fold_ascii(word: &str) -> String {
    let mut out = String::new();
    for c in word.nfkd().flat_map(char::to_lowercase) {
        match c {
            'a'..='z' | '0'..='9' => out.push(c),
            'ø' => out.push('o'),
            'æ' => out.push_str("ae"),
            'œ' => out.push_str("oe"),
            'ß' => out.push_str("ss"),
            'đ' | 'ð' => out.push('d'),
            'ł' => out.push('l'),
            'þ' => out.push_str("th"),
            'ı' => out.push('i'),
            // Combining accents and anything without an ASCII spelling.
            _ => {}
        }
    }
    out
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
    fn usernames_from_names_are_plain_ascii() {
        let name = |words: &[&str], n| Username::from_name(words, n).map(|u| u.to_string());
        assert_eq!(
            name(&["Maria", "Jensen"], None).as_deref(),
            Some("maria.jensen")
        );
        assert_eq!(
            name(&["Søren", "Ærø-Müller"], None).as_deref(),
            Some("soren.aero.muller")
        );
        assert_eq!(
            name(&["Zoë", "Straße"], Some(2)).as_deref(),
            Some("zoe.strasse2")
        );
        assert_eq!(
            name(&["Harbour Shipping A/S"], None).as_deref(),
            Some("harbour.shipping.a.s")
        );
        assert_eq!(
            name(&["Łukasz", "Ðorđević"], None).as_deref(),
            Some("lukasz.dordevic")
        );
        assert_eq!(name(&["李", "王"], None), None, "nothing folds to ASCII");
        assert_eq!(name(&["Al"], None), None, "too short");
        assert_eq!(name(&["Al"], Some(1)).as_deref(), Some("al1"));
        let long = "Abcdefghij ".repeat(10);
        let made = name(&[long.as_str()], Some(123_456_789)).unwrap();
        assert!(
            made.len() <= Username::MAX_LEN && made.ends_with("123456789"),
            "{made}"
        );
        assert!(!made.contains(".."));
    }

    #[test]
    fn refuses_bad_names() {
        for bad in ["ab", "a b c", "x\ny", "semi;colon", &"a".repeat(65)] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
    }
}
