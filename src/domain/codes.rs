//! Codes people read out and type: staff recovery codes (`XXXXX-XXXXX`) and the short code
//! that goes with a link for the phone (`XXXX-XXXX-XX`). Each is 10 characters of Crockford
//! base32, 50 random bits, so it can be read out and typed without confusion; only its
//! SHA-256 is stored.

use std::fmt;

use super::TokenHash;

/// Crockford's base32 alphabet: no I, L, O or U.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// One recovery code, as issued or as typed back.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

/// Ten random Crockford letters.
fn random_letters() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 10];
    getrandom::fill(&mut bytes)?;
    // Each byte's low 5 bits pick a letter: uniform, since 256 is a multiple of 32.
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[(b & 31) as usize] as char)
        .collect())
}

/// Reads ten typed letters: case, spaces and dashes do not matter, and the letters Crockford
/// treats as look-alikes (O for 0, I and L for 1) are read as digits.
fn parse_letters(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(10);
    for c in raw.chars() {
        let c = match c.to_ascii_uppercase() {
            ' ' | '-' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
            return None;
        }
        out.push(c);
    }
    (out.len() == 10).then_some(out)
}

impl RecoveryCode {
    /// A fresh random code.
    pub fn generate() -> Result<Self, getrandom::Error> {
        random_letters().map(Self)
    }

    /// Reads a typed code; `None` when it cannot be a recovery code.
    pub fn parse(raw: &str) -> Option<Self> {
        parse_letters(raw).map(Self)
    }

    /// What the database keeps.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(self.0.as_bytes())
    }
}

/// The short code of a link for the phone, which a member types with their login on the
/// set-password page instead of opening the link.
#[derive(Clone, PartialEq, Eq)]
pub struct ShortCode(String);

impl ShortCode {
    /// A fresh random code.
    pub fn generate() -> Result<Self, getrandom::Error> {
        random_letters().map(Self)
    }

    /// Reads a typed code; `None` when it cannot be a short code.
    pub fn parse(raw: &str) -> Option<Self> {
        parse_letters(raw).map(Self)
    }

    /// What the database keeps.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(format!("short code {}", self.0).as_bytes())
    }
}

/// Shown as `XXXX-XXXX-XX`.
impl fmt::Display for ShortCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", &self.0[..4], &self.0[4..8], &self.0[8..])
    }
}

impl fmt::Debug for ShortCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ShortCode(<redacted>)")
    }
}

/// Shown as `XXXXX-XXXXX`.
impl fmt::Display for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", &self.0[..5], &self.0[5..])
    }
}

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCode(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_reads_back_however_it_is_typed() {
        let code = RecoveryCode::generate().unwrap();
        let shown = code.to_string();
        assert_eq!(shown.len(), 11);
        assert_eq!(RecoveryCode::parse(&shown), Some(code.clone()));
        assert_eq!(
            RecoveryCode::parse(&shown.to_lowercase()),
            Some(code.clone())
        );
        assert_eq!(RecoveryCode::parse(&shown.replace('-', " ")), Some(code));
        assert_eq!(
            RecoveryCode::parse("OIL23-45678"),
            RecoveryCode::parse("01123-45678")
        );
    }

    #[test]
    fn a_short_code_is_shown_in_three_groups() {
        let code = ShortCode::generate().unwrap();
        let shown = code.to_string();
        assert_eq!(shown.len(), 12);
        assert_eq!(shown.matches('-').count(), 2);
        assert_eq!(ShortCode::parse(&shown), Some(code.clone()));
        // A recovery code and a short code with the same letters hash apart.
        let same = RecoveryCode::parse(&shown).unwrap();
        assert_ne!(same.hash(), code.hash());
    }

    #[test]
    fn other_text_is_not_a_code() {
        assert_eq!(RecoveryCode::parse("123456"), None);
        assert_eq!(
            RecoveryCode::parse("ABCDE-FGHJU"),
            None,
            "U is not in the alphabet"
        );
        assert_eq!(RecoveryCode::parse("ABCDE-FGHJKM"), None);
        assert_eq!(RecoveryCode::parse("ÅBCDE-FGHJK"), None);
    }
}
