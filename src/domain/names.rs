use super::{InvalidInput, reject_control_chars};

fn parse_name(raw: &str, max: usize) -> Result<String, InvalidInput> {
    // Inner runs of white space collapse to one space, so "Ann  Lee" and "Ann Lee" are one name.
    let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    reject_control_chars(raw)?;
    if collapsed.is_empty() {
        return Err(InvalidInput::new("must not be blank"));
    }
    if collapsed.chars().count() > max {
        return Err(InvalidInput::new(format!(
            "must be at most {max} characters"
        )));
    }
    Ok(collapsed)
}

/// A person's first or last name: trimmed, at most 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    /// The most characters a person's name may have, after white space is collapsed.
    pub const MAX_LEN: usize = 100;

    /// Collapses runs of white space; refuses a blank or over-long name and control characters.
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        parse_name(raw, Self::MAX_LEN).map(Self)
    }

    /// The name as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An organisation's name: trimmed, at most 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationName(String);

impl OrganizationName {
    /// The most characters an organisation's name may have, after white space is collapsed.
    pub const MAX_LEN: usize = 200;

    /// Collapses runs of white space; refuses a blank or over-long name and control characters.
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        parse_name(raw, Self::MAX_LEN).map(Self)
    }

    /// The name as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_collapses_and_caps() {
        assert_eq!(
            PersonName::parse("  Ann   Marie ").unwrap().as_str(),
            "Ann Marie"
        );
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"x".repeat(101)).is_err());
        assert!(PersonName::parse("X\r\nBcc: a@b.org").is_err());
        assert!(PersonName::parse("Ann\u{2028}Lee").is_err());
        assert!(OrganizationName::parse(&"x".repeat(200)).is_ok());
    }
}
