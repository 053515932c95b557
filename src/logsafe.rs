//! Values an outsider chose (a header, a path, a provider's or a database's message that
//! quotes input) go into the log through [`Field`]: control characters and line breaks are
//! escaped, so nobody can forge a log line, and length is capped, so nobody can swell the
//! log with one request.

use std::fmt;

/// Characters of an outsider's value kept in a log line; the rest is counted, not written.
pub const MAX_CHARS: usize = 512;

/// Displays a string escaped (`\n`, `\u{1b}`, …) and cut to [`MAX_CHARS`].
pub struct Field<'a>(pub &'a str);

impl fmt::Display for Field<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut chars = self.0.chars();
        for c in chars.by_ref().take(MAX_CHARS) {
            // Line and paragraph separators and every control character, escaped; a quote or
            // a backslash stays readable as it is.
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}') {
                write!(f, "{}", c.escape_default())?;
            } else {
                fmt::Write::write_char(f, c)?;
            }
        }
        let rest = chars.count();
        if rest > 0 {
            write!(f, "…({rest} more characters)")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forged_line_stays_on_one_line_and_long_values_are_cut() {
        let forged = "alice\n2026-01-01 INFO login ok admin\r\u{1b}[31m\u{2028}";
        let shown = Field(forged).to_string();
        assert!(!shown.contains('\n') && !shown.contains('\r') && !shown.contains('\u{1b}'));
        assert!(
            shown.starts_with("alice\\n2026-01-01 INFO login ok admin\\r"),
            "{shown}"
        );
        assert!(shown.contains("\\u{2028}"), "{shown}");
        let long = "x".repeat(10_000);
        let shown = Field(&long).to_string();
        assert!(shown.len() < 600, "{}", shown.len());
        assert!(shown.ends_with("…(9488 more characters)"), "{shown}");
        assert_eq!(Field("plain text").to_string(), "plain text");
    }
}
