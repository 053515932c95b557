use std::borrow::Cow;

use super::InvalidInput;

/// The old WebLink spelling of the credentials field, kept so existing templates still work.
pub const LEGACY_CREDENTIALS_ALIAS: &str = "[[PORTALLOGINLINK]]";
/// The field the legacy alias stands for.
pub const CREDENTIALS_FIELD: &str = "portal_login_credentials_link";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Text(String),
    Field(String),
}

/// A text with `{{field_name}}` merge fields, parsed once. Rendering is a single pass over
/// the parsed pieces, so a value that itself looks like `{{field}}` is never expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeTemplate {
    segments: Vec<Segment>,
}

/// Where in the source a template went wrong: 1-based line and column, in characters.
fn position(src: &str, byte: usize) -> (usize, usize) {
    let before = &src[..byte];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit_once('\n')
        .map_or(before, |(_, rest)| rest)
        .chars()
        .count()
        + 1;
    (line, column)
}

impl MergeTemplate {
    /// Parses `src`, accepting only the fields named in `known`. Errors name the field and its
    /// line and column, and for an unknown field the known one it was probably meant to be.
    pub fn parse(src: &str, known: &[&str]) -> Result<Self, InvalidInput> {
        let mut segments = Vec::new();
        let mut text = String::new();
        let mut rest = src;
        while !rest.is_empty() {
            let offset = src.len() - rest.len();
            if let Some(after) = rest.strip_prefix(LEGACY_CREDENTIALS_ALIAS) {
                push_text(&mut segments, &mut text);
                segments.push(Segment::Field(CREDENTIALS_FIELD.into()));
                rest = after;
            } else if let Some(after) = rest.strip_prefix("{{") {
                let (line, column) = position(src, offset);
                let Some(end) = after.find("}}") else {
                    return Err(InvalidInput::new(format!(
                        "has an unclosed \"{{{{\" at line {line}, column {column}"
                    )));
                };
                let name = after[..end].trim();
                let valid = !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                if !valid {
                    return Err(InvalidInput::new(format!(
                        "has a malformed merge field {:?} at line {line}, column {column}",
                        &after[..end]
                    )));
                }
                if !known.contains(&name) {
                    let hint = super::closest(name, known.iter().copied(), 2.max(name.len() / 3))
                        .map(|f| format!("; did you mean {{{{{f}}}}}?"))
                        .unwrap_or_default();
                    return Err(InvalidInput::new(format!(
                        "uses the unknown merge field {{{{{name}}}}} at line {line}, column {column}{hint}"
                    )));
                }
                push_text(&mut segments, &mut text);
                segments.push(Segment::Field(name.to_owned()));
                rest = &after[end + 2..];
            } else {
                let ch = rest.chars().next().unwrap_or_default();
                text.push(ch);
                rest = &rest[ch.len_utf8()..];
            }
        }
        push_text(&mut segments, &mut text);
        Ok(Self { segments })
    }

    /// The fields used, in order of appearance (with repeats).
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Field(name) => Some(name.as_str()),
            Segment::Text(_) => None,
        })
    }

    /// Fills in every field with `value(name)`. The caller escapes values for their context.
    pub fn render<'v>(&self, mut value: impl FnMut(&str) -> Cow<'v, str>) -> String {
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Text(t) => out.push_str(t),
                Segment::Field(name) => out.push_str(&value(name)),
            }
        }
        out
    }
}

fn push_text(segments: &mut Vec<Segment>, text: &mut String) {
    if !text.is_empty() {
        segments.push(Segment::Text(std::mem::take(text)));
    }
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape_html(raw: &str) -> Cow<'_, str> {
    if !raw.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len() + 16);
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["first_name", "full_name", CREDENTIALS_FIELD];

    #[test]
    fn renders_fields_once_without_expanding_values() {
        let t = MergeTemplate::parse("Hi {{ first_name }}, [[PORTALLOGINLINK]]!", KNOWN).unwrap();
        let out = t.render(|name| match name {
            "first_name" => "{{portal_login_credentials_link}}".into(),
            _ => "LINK".into(),
        });
        assert_eq!(out, "Hi {{portal_login_credentials_link}}, LINK!");
        assert_eq!(
            t.fields().collect::<Vec<_>>(),
            ["first_name", CREDENTIALS_FIELD]
        );
    }

    #[test]
    fn errors_name_the_field_and_position() {
        let e = MergeTemplate::parse("ok\n  {{shoe_size}}", KNOWN).unwrap_err();
        assert!(
            e.message.contains("shoe_size") && e.message.contains("line 2, column 3"),
            "{e}"
        );
        assert!(!e.message.contains("did you mean"), "nothing is close: {e}");
        let e = MergeTemplate::parse("{{fulname}}", KNOWN).unwrap_err();
        assert!(e.message.ends_with("did you mean {{full_name}}?"), "{e}");
        let e = MergeTemplate::parse("{{first_name", KNOWN).unwrap_err();
        assert!(e.message.contains("unclosed"), "{e}");
        let e = MergeTemplate::parse("{{First Name}}", KNOWN).unwrap_err();
        assert!(e.message.contains("malformed"), "{e}");
    }

    #[test]
    fn escapes_html() {
        assert_eq!(
            escape_html("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert!(matches!(escape_html("plain"), Cow::Borrowed(_)));
    }
}
