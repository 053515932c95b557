//! A plain-text part from (sanitised) HTML: block elements become line breaks, links keep
//! their address in brackets, entities are decoded, other markup is dropped. Merge fields
//! pass through untouched, so the result is itself a template.

/// Converts HTML to readable text.
pub fn to_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    let mut pending_href: Vec<Option<String>> = Vec::new();
    let mut skip_depth = 0usize;
    while let Some(lt) = rest.find('<') {
        if skip_depth == 0 {
            out.push_str(&decode(&rest[..lt]));
        }
        let Some(gt) = rest[lt..].find('>') else {
            rest = "";
            break;
        };
        let tag = &rest[lt + 1..lt + gt];
        rest = &rest[lt + gt + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        match (name.as_str(), closing) {
            ("style" | "head" | "title", false) => skip_depth += 1,
            ("style" | "head" | "title", true) => skip_depth = skip_depth.saturating_sub(1),
            ("br", _) => out.push('\n'),
            (
                "p" | "div" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "table" | "tr" | "ul"
                | "ol" | "blockquote",
                _,
            ) if !out.ends_with("\n\n") && !out.is_empty() => {
                out.push_str(if out.ends_with('\n') { "\n" } else { "\n\n" });
            }
            ("li", false) => out.push_str("\n- "),
            ("td" | "th", true) => out.push(' '),
            ("a", false) => pending_href.push(attribute(tag, "href")),
            ("a", true) => {
                if let Some(Some(href)) = pending_href.pop()
                    && !href.starts_with("mailto:")
                    && !out.ends_with(&href)
                {
                    out.push_str(&format!(" ({href})"));
                }
            }
            _ => {}
        }
    }
    if skip_depth == 0 {
        out.push_str(&decode(rest));
    }
    let lines: Vec<&str> = out.lines().map(str::trim_end).collect();
    let mut text = lines.join("\n");
    while text.contains("\n\n\n") {
        text = text.replace("\n\n\n", "\n\n");
    }
    text.trim().to_owned() + "\n"
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let at = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let end = tag[at..].find('"')?;
    Some(decode(&tag[at..at + end]))
}

fn decode(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    s.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_text_links_and_fields() {
        let html = "<h1>News</h1><p>Hello {{first_name}} &amp; friends,<br>see <a href=\"https://x.example/a\">our page</a>.</p><ul><li>one</li><li>two</li></ul>";
        assert_eq!(
            to_text(html),
            "News\n\nHello {{first_name}} & friends,\nsee our page (https://x.example/a).\n\n- one\n- two\n"
        );
    }
}
