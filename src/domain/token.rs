use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Why a set-password token was issued, as stored in the `purpose` column of
/// `credential_tokens` (members) and `staff_password_tokens` (staff).
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
    /// A staff user's set-password link, sent by an administrator.
    StaffPassword,
}

db_enum!(TokenPurpose {
    ForgotLogin => "FORGOT_LOGIN",
    StaffReset => "STAFF_RESET",
    StaffLink => "STAFF_LINK",
    Mass => "MASS",
    StaffPassword => "STAFF_PASSWORD",
});

/// A bearer secret: its creation time (48 bits of milliseconds) followed by 256 random bits,
/// shown to its holder once as 51 base64url characters and stored only as that time and the
/// token's SHA-256 digest (`TokenHash`). `Debug` never shows it.
///
/// Why the time leads: the database finds a token by its stored digest, through a unique
/// index. Keys that start with the time land at the end of that index, so minting a mass
/// send's thousands of links writes a few index pages instead of one random page per link
/// (measured: ten times fewer writes per link on SQLite). The time is no secret; the random
/// part alone is what makes a token unguessable.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

/// Milliseconds since the Unix epoch, big-endian: six bytes last until the year 10889.
const TIME_BYTES: usize = 6;
const SECRET_BYTES: usize = 32;
/// `TIME_BYTES` encode to exactly this many base64url characters.
const TIME_CHARS: usize = 8;
/// A token as issued: 38 bytes in base64url without padding.
const TOKEN_CHARS: usize = 51;
/// A token issued before the time led (32 random bytes). Such links and sessions stay valid
/// until they expire; their stored digest is the plain SHA-256.
const LEGACY_TOKEN_CHARS: usize = 43;

impl Token {
    /// Draws a fresh token from the operating system's random source.
    pub fn generate() -> Result<Self, getrandom::Error> {
        Ok(Self::generate_many(1)?.remove(0))
    }

    /// Draws `n` fresh tokens with one call to the operating system's random source (a mass
    /// send mints hundreds at once).
    pub fn generate_many(n: usize) -> Result<Vec<Self>, getrandom::Error> {
        let mut secrets = vec![0u8; n * SECRET_BYTES];
        getrandom::fill(&mut secrets)?;
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let time = &millis.to_be_bytes()[8 - TIME_BYTES..];
        Ok(secrets
            .chunks_exact(SECRET_BYTES)
            .map(|secret| {
                let mut bytes = [0u8; TIME_BYTES + SECRET_BYTES];
                bytes[..TIME_BYTES].copy_from_slice(time);
                bytes[TIME_BYTES..].copy_from_slice(secret);
                Self(URL_SAFE_NO_PAD.encode(bytes))
            })
            .collect())
    }

    /// Accepts what a client presents. Only the shape is checked; whether it is known is the
    /// database's answer. Anything that is not 51 (or, issued before, 43) base64url
    /// characters cannot be a token.
    pub fn from_presented(raw: &str) -> Option<Self> {
        let ok = (raw.len() == TOKEN_CHARS || raw.len() == LEGACY_TOKEN_CHARS)
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(raw.to_owned()))
    }

    /// The token as base64url, to show its holder once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The key the database keeps for this token: its creation time, then its digest.
    pub fn hash(&self) -> TokenHash {
        let digest = TokenHash::of(self.0.as_bytes());
        if self.0.len() == LEGACY_TOKEN_CHARS {
            return digest;
        }
        // A presented token is base64url of the right length, so its first eight characters
        // always decode to the six time bytes.
        let time = URL_SAFE_NO_PAD
            .decode(&self.0[..TIME_CHARS])
            .unwrap_or_default();
        TokenHash(format!("{}{}", hex(&time), digest.0))
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// What the database keeps of a secret and looks it up by: the hex SHA-256 of the secret,
/// preceded for a `Token` by its creation time (12 hex digits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHash(String);

impl TokenHash {
    /// The digest of any high-entropy secret (a recovery code, a token issued before the time
    /// led).
    pub fn of(bytes: &[u8]) -> Self {
        Self(hex(&Sha256::digest(bytes)))
    }

    /// The stored form: lower-case hex, 76 digits for a token (64 for a code or an older
    /// token).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_time_then_256_random_bits_and_distinct() {
        let a = Token::generate().unwrap();
        let b = Token::generate().unwrap();
        assert_eq!(a.expose().len(), 51);
        assert_ne!(a, b);
        assert!(Token::from_presented(a.expose()).is_some());
        assert!(Token::from_presented("short").is_none());
        assert!(Token::from_presented(&"é".repeat(51)).is_none());
        // The random part differs even between tokens of one millisecond.
        let many = Token::generate_many(200).unwrap();
        let mut secrets: Vec<&str> = many.iter().map(|t| &t.expose()[8..]).collect();
        secrets.sort_unstable();
        secrets.dedup();
        assert_eq!(secrets.len(), 200);
        let hash = a.hash();
        assert_eq!(hash.as_str().len(), 76);
        assert!(hash.as_str().bytes().all(|c| c.is_ascii_hexdigit()));
        assert!(!hash.as_str().contains(a.expose()));
        // The digest part is the SHA-256 of the whole token, as for older tokens.
        assert_eq!(
            &hash.as_str()[12..],
            TokenHash::of(a.expose().as_bytes()).as_str()
        );
    }

    #[test]
    fn stored_keys_follow_the_order_tokens_were_made_in() {
        let first = Token::generate().unwrap().hash();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let later = Token::generate_many(3).unwrap();
        for t in later {
            assert!(t.hash().as_str() > first.as_str());
        }
    }

    #[test]
    fn tokens_issued_before_keep_their_plain_digest() {
        let legacy = "q5h0Dy3m2u9xWzRt7pKa1LbN8cVe4JfGsTy6Ui0Op2A";
        let token = Token::from_presented(legacy).unwrap();
        assert_eq!(token.hash(), TokenHash::of(legacy.as_bytes()));
        assert_eq!(token.hash().as_str().len(), 64);
    }
}
