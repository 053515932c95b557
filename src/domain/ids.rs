use std::fmt;

use super::InvalidInput;

macro_rules! id_type {
    ($name:ident, $what:literal) => {
        #[doc = concat!("The numeric ID of a ", $what, ". Always positive.")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(i64);

        impl $name {
            /// Parses the decimal form clients send (`"42"`). Leading zeros, signs and spaces
            /// are refused so that every profile has exactly one spelling of its ID.
            pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
                let ok = !raw.is_empty()
                    && raw.len() <= 18
                    && raw.bytes().all(|b| b.is_ascii_digit())
                    && !raw.starts_with('0');
                match raw.parse::<i64>() {
                    Ok(n) if ok && n > 0 => Ok(Self(n)),
                    _ => Err(InvalidInput::new(concat!("is not a valid ", $what, " ID"))),
                }
            }

            /// Wraps a value read from the database.
            pub fn from_db(raw: i64) -> Self {
                Self(raw)
            }

            /// The plain number, as stored in the database.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id_type!(ProfileId, "profile");
id_type!(StaffUserId, "staff user");
id_type!(MassCommunicationId, "mass communication");
id_type!(OutboundId, "outbound message");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_ids() {
        assert_eq!(ProfileId::parse("42").unwrap().get(), 42);
        for bad in [
            "2q289i",
            "",
            "0",
            "-1",
            "042",
            " 4",
            "99999999999999999999",
            "1e3",
        ] {
            assert!(ProfileId::parse(bad).is_err(), "{bad:?}");
        }
    }
}

/// A profile's ID in the system it was imported from: any text that system used, trimmed,
/// 1 to 100 characters without control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExternalId(String);

impl ExternalId {
    /// Parses one cell of an import file.
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let v = raw.trim();
        if v.is_empty() {
            return Err(InvalidInput::new("must not be empty"));
        }
        if v.chars().count() > 100 {
            return Err(InvalidInput::new("must be at most 100 characters"));
        }
        if v.chars().any(char::is_control) {
            return Err(InvalidInput::new("must not contain control characters"));
        }
        Ok(Self(v.to_owned()))
    }

    /// The ID as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
