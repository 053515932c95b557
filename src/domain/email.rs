use std::fmt;
use std::str::FromStr;

use super::{InvalidInput, reject_control_chars};

/// A syntactically valid email address (RFC 5322 addr-spec, at most 254 characters), trimmed.
/// The domain part is lower-cased; the local part is kept as entered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub const MAX_LEN: usize = 254;

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
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

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
        ] {
            assert!(
                EmailAddress::parse(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
    }
}
