//! The password policy: length limits, and the judgement beyond length (common passwords and
//! passwords built from what an attacker knows about the account). Every refusal says why
//! (NIST SP 800-63B).

use super::search_key;

/// Length rules for passwords (NIST SP 800-63B): a configurable minimum, a hard maximum of 128,
/// counted in code points after NFKC normalisation, and no composition rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// The fewest characters a password may have, counted in code points after NFKC normalisation.
    pub min_chars: usize,
}

impl PasswordPolicy {
    /// The most characters any password may have, counted the same way; not configurable.
    pub const MAX_CHARS: usize = 128;
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self { min_chars: 12 }
    }
}

/// Common passwords of 12 or more characters, compiled into the binary.
const COMMON: &str = include_str!("common_passwords.txt");

/// What is known about the account a password is for.
#[derive(Debug, Clone, Copy, Default)]
pub struct PasswordContext<'a> {
    /// The account's username, if it has one.
    pub username: Option<&'a str>,
    /// The account's email address; only the part before the `@` is checked.
    pub email: Option<&'a str>,
    /// The association's name, from the settings.
    pub association_name: Option<&'a str>,
}

/// Folds case, width and separators so `P@ssword-1234` and `password1234` compare alike.
fn skeleton(s: &str) -> String {
    search_key(s)
        .chars()
        .map(|c| match c {
            '@' => 'a',
            '0' => 'o',
            '$' => 's',
            '!' => 'i',
            other => other,
        })
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// Why a password of acceptable length is still refused, or `None`.
pub fn weakness(normalized: &str, ctx: PasswordContext<'_>) -> Option<String> {
    let folded = skeleton(normalized);
    if folded
        .chars()
        .collect::<std::collections::HashSet<_>>()
        .len()
        <= 2
    {
        return Some("it repeats one or two characters".into());
    }
    if COMMON
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .any(|l| skeleton(l) == folded)
    {
        return Some("it is on the list of commonly used passwords".into());
    }
    let checks = [
        (ctx.username, "it contains the username"),
        (
            ctx.email.and_then(|e| e.split('@').next()),
            "it contains the email address",
        ),
        (ctx.association_name, "it contains the association's name"),
    ];
    for (value, reason) in checks {
        let Some(value) = value else { continue };
        let part = skeleton(value);
        if part.chars().count() >= 4 && folded.contains(&part) {
            return Some(reason.into());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_common_and_contextual_passwords() {
        let none = PasswordContext::default();
        assert!(weakness("P@ssword-1234", none).is_some());
        assert!(weakness("aaaaaaaaaaaaaaa", none).is_some());
        assert!(weakness("correct horse battery staple", none).is_none());
        let ctx = PasswordContext {
            username: Some("maria.jensen"),
            email: Some("mj@x.org"),
            association_name: Some("Harbour Chamber"),
        };
        assert!(weakness("maria.jensen2026!", ctx).is_some());
        assert!(weakness("HarbourChamber2026", ctx).is_some());
        assert!(weakness("violet tram under the bridge", ctx).is_none());
    }
}
