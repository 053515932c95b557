use std::fmt;

use unicode_normalization::UnicodeNormalization;

use super::{InvalidInput, PasswordPolicy};

/// A password that passed the policy, held in NFKC form. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Applies the policy. Never truncates: an over-long password is refused.
    pub fn parse(raw: &str, policy: PasswordPolicy) -> Result<Self, InvalidInput> {
        // Counted before normalising as well, so a huge input is refused without more work.
        if raw.len() > PasswordPolicy::MAX_CHARS * 4 {
            return Err(InvalidInput::new(format!(
                "must be at most {} characters",
                PasswordPolicy::MAX_CHARS
            )));
        }
        let normalized: String = raw.nfkc().collect();
        let count = normalized.chars().count();
        if count > PasswordPolicy::MAX_CHARS {
            return Err(InvalidInput::new(format!(
                "must be at most {} characters",
                PasswordPolicy::MAX_CHARS
            )));
        }
        if count < policy.min_chars {
            return Err(InvalidInput::new(format!(
                "must be at least {} characters",
                policy.min_chars
            )));
        }
        if normalized.chars().any(|c| c.is_control()) {
            return Err(InvalidInput::new("must not contain control characters"));
        }
        Ok(Self(normalized))
    }

    /// A candidate typed at sign-in: only normalised, never judged, so a policy change never
    /// locks out an existing password. Over-long input is cut off at the byte cap to bound the
    /// hashing cost; such input can never match a stored password anyway.
    pub fn for_verification(raw: &str) -> Option<Self> {
        if raw.len() > PasswordPolicy::MAX_CHARS * 4 {
            return None;
        }
        Some(Self(raw.nfkc().collect()))
    }

    /// The password in NFKC form, for hashing and sealing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl Password {
    /// Refuses a common password or one built from the account's own details.
    pub fn check_strength(&self, ctx: super::PasswordContext<'_>) -> Result<(), InvalidInput> {
        match super::password_weakness(&self.0, ctx) {
            Some(reason) => Err(InvalidInput::new(reason)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_in_code_points_and_never_truncated() {
        let policy = PasswordPolicy::default();
        assert!(Password::parse(&"é".repeat(11), policy).is_err());
        assert!(Password::parse(&"é".repeat(12), policy).is_ok());
        assert!(Password::parse(&"a".repeat(128), policy).is_ok());
        assert!(Password::parse(&"a".repeat(129), policy).is_err());
    }

    #[test]
    fn nfkc_makes_composed_and_decomposed_equal() {
        let policy = PasswordPolicy::default();
        let a = Password::parse("caf\u{e9} au lait!!", policy).unwrap();
        let b = Password::parse("cafe\u{301} au lait!!", policy).unwrap();
        assert_eq!(a, b);
        assert_eq!(format!("{a:?}"), "Password(<redacted>)");
    }
}
