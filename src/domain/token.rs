use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Why a set-password token was issued, as stored in `credential_tokens.purpose`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenPurpose {
    /// The member asked for "Forgot Login".
    ForgotLogin,
    /// Staff sent the "Forgot Login" email.
    StaffReset,
    /// Staff issued a link to pass on themselves.
    StaffLink,
    /// A mass communication's "Portal Login Credentials Link".
    Mass,
}

db_enum!(TokenPurpose {
    ForgotLogin => "FORGOT_LOGIN",
    StaffReset => "STAFF_RESET",
    StaffLink => "STAFF_LINK",
    Mass => "MASS",
});

/// A bearer secret: 256 random bits, shown to its holder once as base64url and stored only as
/// its SHA-256 digest. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Draws a fresh token from the operating system's random source.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        Ok(Self(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Accepts what a client presents. Only the shape is checked; whether it is known is the
    /// database's answer. Anything that is not 43 base64url characters cannot be a token.
    pub fn from_presented(raw: &str) -> Option<Self> {
        let ok = raw.len() == 43
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(raw.to_owned()))
    }

    /// The token as base64url, to show its holder once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The digest the database keeps for this token.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(self.0.as_bytes())
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// The hex SHA-256 of a token: what the database keeps and looks up by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHash(String);

impl TokenHash {
    /// The digest of any high-entropy secret (a token, a recovery code).
    pub fn of(bytes: &[u8]) -> Self {
        let digest = Sha256::digest(bytes);
        Self(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The digest as 64 lower-case hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_base64url_and_distinct() {
        let a = Token::generate().unwrap();
        let b = Token::generate().unwrap();
        assert_eq!(a.expose().len(), 43);
        assert_ne!(a, b);
        assert!(Token::from_presented(a.expose()).is_some());
        assert!(Token::from_presented("short").is_none());
        assert_eq!(a.hash().as_str().len(), 64);
        assert_ne!(a.hash().as_str(), a.expose());
    }
}
