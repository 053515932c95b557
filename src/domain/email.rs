use std::fmt;
use std::str::FromStr;

use super::{InvalidInput, reject_control_chars};

/// A syntactically valid email address (RFC 5322 addr-spec, at most 254 characters), trimmed.
/// The domain part is lower-cased; the local part is kept as entered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// The most characters an address may have, counted after trimming.
    pub const MAX_LEN: usize = 254;

    /// Trims the input, refuses anything we could not mail safely and lower-cases the domain.
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let trimmed = raw.trim();
        reject_control_chars(trimmed)?;
        if trimmed.is_empty() {
            return Err(InvalidInput::new("must not be empty"));
        }
        if trimmed.chars().count() > Self::MAX_LEN {
            return Err(InvalidInput::new(format!(
                "must be at most {} characters",
                Self::MAX_LEN
            )));
        }
        let parsed = email_address::EmailAddress::from_str(trimmed)
            .map_err(|e| InvalidInput::new(format!("is not a valid email address ({e})")))?;
        // Addresses with display names or comments are refused: only a bare address is stored.
        if parsed.email() != trimmed || parsed.domain().starts_with('[') {
            return Err(InvalidInput::new("is not a valid email address"));
        }
        let (local, domain) = trimmed
            .rsplit_once('@')
            .ok_or_else(|| InvalidInput::new("is not a valid email address"))?;
        if !domain.contains('.') {
            return Err(InvalidInput::new(
                "must have a domain with a dot, such as example.org",
            ));
        }
        // Quoted local parts (`"x>,bcc@evil.example"@example.org`) are valid RFC 5322 but
        // cannot be mailed safely; only dot-atoms are stored. The final word is the mail
        // builder's own parser, so nothing accepted here can fail at sending.
        let atext = |c: char| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
        let dot_atom = local
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(atext));
        if !dot_atom || lettre::Address::from_str(trimmed).is_err() {
            return Err(InvalidInput::new(
                "is not an email address we can send to (use letters, digits and . _ - + before the @)",
            ));
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    /// The address as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises_domain() {
        assert_eq!(
            EmailAddress::parse("  Ann@Example.ORG ").unwrap().as_str(),
            "Ann@example.org"
        );
    }

    #[test]
    fn refuses_garbage_and_headers() {
        for bad in [
            "",
            "ann",
            "ann@",
            "@x.org",
            "ann@x",
            "a\r\nBcc: x@y.org",
            "Ann <ann@x.org>",
            "\"x>,bcc@evil.example\"@example.org",
            "\"ann\"@example.org",
            "ann..b@example.org",
            ".ann@example.org",
        ] {
            assert!(
                EmailAddress::parse(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
    }
}
