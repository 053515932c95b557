//! Rendering one mass communication for one recipient. The staff HTML was sanitised when
//! saved; here every merge value is escaped for HTML (and folded to one line in the subject),
//! and the plain-text part is derived from the same template.

use std::borrow::Cow;

use super::templates::Rendered;
use super::{html_text, one_line};
use crate::domain::{
    CREDENTIALS_FIELD, InvalidInput, MergeField, MergeTemplate, escape_html, special_field_tokens,
};

/// A communication's subject and body, parsed once for all its recipients.
#[derive(Debug, Clone)]
pub struct MassTemplate {
    subject: MergeTemplate,
    html: MergeTemplate,
    text: MergeTemplate,
    /// A merge field sits inside a tag (e.g. `<a href="{{first_name}}">`), so a value could
    /// make an attribute active: each recipient's HTML is sanitised again after merging.
    fields_in_tags: bool,
}

/// The merge values of one recipient.
#[derive(Debug, Clone, Default)]
pub struct RecipientValues {
    pub first_name: String,
    pub last_name: String,
    pub full_name: String,
    pub organization_name: String,
    pub email: String,
    /// The username, else the email.
    pub login: String,
    pub profile_id: String,
    /// The recipient's own set-password link.
    pub link: String,
    /// When that link stops working, as the recipient reads it; empty without a link.
    pub link_expires: String,
    /// The recipient's own unsubscribe page (NEWS only); empty otherwise.
    pub unsubscribe: String,
}

impl MassTemplate {
    /// Parses a subject and sanitised HTML. Errors name the field and position.
    pub fn parse(subject: &str, html: &str) -> Result<Self, (&'static str, InvalidInput)> {
        let known = special_field_tokens();
        let subject = MergeTemplate::parse(subject, &known).map_err(|e| ("subject", e))?;
        let html_t = MergeTemplate::parse(html, &known).map_err(|e| ("html", e))?;
        let text =
            MergeTemplate::parse(&html_text::to_text(html), &known).map_err(|e| ("html", e))?;
        let template = Self {
            subject,
            html: html_t,
            text,
            fields_in_tags: fields_in_tags(html),
        };
        if template.uses(MergeField::LinkExpires) && !template.uses_credentials() {
            let expiry = MergeField::LinkExpires.token();
            let part = if template.subject.fields().any(|f| f == expiry) {
                "subject"
            } else {
                "html"
            };
            return Err((
                part,
                InvalidInput::new(format!(
                    "uses {{{{{expiry}}}}} without {{{{{CREDENTIALS_FIELD}}}}}: the date is when that link stops working, so add the Portal Login Credentials Link too"
                )),
            ));
        }
        Ok(template)
    }

    /// Whether any part carries the credentials field (so each recipient needs a link).
    pub fn uses_credentials(&self) -> bool {
        self.uses(MergeField::CredentialsLink)
    }

    /// Whether any part carries this merge field.
    pub fn uses(&self, field: MergeField) -> bool {
        [&self.subject, &self.html, &self.text]
            .iter()
            .any(|t| t.fields().any(|f| f == field.token()))
    }

    /// Each recipient's copy: the body in the page every memberkey mail uses.
    pub fn render(&self, v: &RecipientValues) -> Rendered {
        let plain = |token: &str| -> String {
            match MergeField::from_token(token) {
                Some(MergeField::FirstName) => v.first_name.clone(),
                Some(MergeField::LastName) => v.last_name.clone(),
                Some(MergeField::FullName) => v.full_name.clone(),
                Some(MergeField::OrganizationName) => v.organization_name.clone(),
                Some(MergeField::Email) => v.email.clone(),
                Some(MergeField::Username) => v.login.clone(),
                Some(MergeField::ProfileId) => v.profile_id.clone(),
                Some(MergeField::CredentialsLink) => {
                    let mut text = format!(
                        "Username: {}\nSet your portal password: {}",
                        v.login, v.link
                    );
                    if !v.link_expires.is_empty() {
                        text.push_str(&format!("\nThis link works until {}.", v.link_expires));
                    }
                    text
                }
                Some(MergeField::LinkExpires) => v.link_expires.clone(),
                Some(MergeField::UnsubscribeLink) => {
                    format!("Unsubscribe from these emails: {}", v.unsubscribe)
                }
                // Parsing admits only known fields; anything else prints nothing, never a
                // credential.
                None => String::new(),
            }
        };
        let html_value = |field: &str| -> Cow<'static, str> {
            if MergeField::from_token(field) == Some(MergeField::CredentialsLink) {
                // Inline markup only: staff put the field inside their own paragraph as often
                // as on a line of its own, and a <p> here would nest paragraphs.
                let mut html = format!(
                    "Username: <strong>{}</strong><br><a href=\"{}\">Set your portal password</a>",
                    escape_html(&v.login),
                    escape_html(&v.link)
                );
                if !v.link_expires.is_empty() {
                    html.push_str(&format!(
                        "<br>This link works until {}.",
                        escape_html(&v.link_expires)
                    ));
                }
                Cow::Owned(html)
            } else if MergeField::from_token(field) == Some(MergeField::UnsubscribeLink) {
                Cow::Owned(format!(
                    "<a href=\"{}\">Unsubscribe from these emails</a>",
                    escape_html(&v.unsubscribe)
                ))
            } else {
                Cow::Owned(escape_html(&plain(field)).into_owned())
            }
        };
        let html = self.html.render(html_value);
        Rendered {
            subject: one_line(&self.subject.render(|f| Cow::Owned(plain(f))))
                .trim()
                .to_owned(),
            html: document(&if self.fields_in_tags {
                sanitize_merged(&html)
            } else {
                html
            }),
            text: self.text.render(|f| Cow::Owned(plain(f))),
        }
    }
}

/// Cleans staff HTML when it is saved: no scripts, event handlers or other active content,
/// and links only with the http, https and mailto schemes. A relative URL may stay, since it
/// The font and width of every memberkey mail (the "Forgot Login" mail's too), which the
/// console's live preview uses as well: staff see the letter as it arrives, not in the
/// browser's serif default.
pub const BODY_STYLE: &str =
    "font-family: Arial, Helvetica, sans-serif; color: #222; max-width: 36em;";

/// The sanitised body as a whole HTML document in `BODY_STYLE`. Wrapped after sanitising,
/// which keeps only what goes inside a body.
fn document(body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>\n<body style=\"{BODY_STYLE}\">\n{body}\n</body></html>"
    )
}

/// may be a merge field that becomes a whole URL.
pub fn sanitize(html: &str) -> String {
    builder().clean(html).to_string()
}

/// Cleans one recipient's merged HTML: the same rules, and now no relative URL either, so a
/// merge value can neither bring its own scheme (`javascript:`) nor leave a dangling link.
fn sanitize_merged(html: &str) -> String {
    let mut b = builder();
    b.url_relative(ammonia::UrlRelative::Deny);
    b.clean(html).to_string()
}

fn builder() -> ammonia::Builder<'static> {
    let mut b = ammonia::Builder::default();
    b.url_schemes(std::collections::HashSet::from(["http", "https", "mailto"]));
    b
}

/// Whether a merge field opens inside a tag: after the last `<` before it and before the
/// next `>`. Values outside tags are HTML-escaped and cannot make markup.
fn fields_in_tags(html: &str) -> bool {
    let mut in_tag = false;
    let bytes = html.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'<' => in_tag = true,
            b'>' => in_tag = false,
            b'{' | b'[' if in_tag && bytes.get(i + 1) == Some(b) => return true,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_without_its_own_arm_prints_nothing_and_never_a_credential() {
        let values = RecipientValues {
            first_name: "Ann".into(),
            login: "annlee".into(),
            link: "https://members.example/set#token=secret".into(),
            ..Default::default()
        };
        // A template that got past parsing with a field no arm knows (it cannot today).
        let odd = MergeTemplate::parse(
            "{{first_name}} {{future_field}}",
            &["first_name", "future_field"],
        )
        .unwrap();
        let t = MassTemplate {
            subject: odd.clone(),
            html: odd.clone(),
            text: odd,
            fields_in_tags: false,
        };
        let out = t.render(&values);
        for part in [&out.subject, &out.html, &out.text] {
            assert!(part.contains("Ann"), "{part}");
            assert!(
                !part.contains("annlee") && !part.contains("secret"),
                "{part}"
            );
        }
        // Every real field has a token that parses back to it.
        for f in MergeField::ALL {
            assert_eq!(MergeField::from_token(f.token()), Some(f));
        }
    }

    #[test]
    fn the_credentials_field_is_inline_and_never_nests_paragraphs() {
        let clean = sanitize("<p>Dear Ann, {{portal_login_credentials_link}}</p>");
        let t = MassTemplate::parse("Hi", &clean).unwrap();
        let out = t.render(&RecipientValues {
            login: "annlee".into(),
            link: "https://members.example/set#token=abc".into(),
            ..Default::default()
        });
        assert_eq!(
            out.html.matches("<p").count(),
            1,
            "only the author's own paragraph: {}",
            out.html
        );
        assert!(
            out.html.contains("Dear Ann, Username: <strong>annlee</strong><br><a href=\"https://members.example/set#token=abc\">"),
            "{}",
            out.html
        );
    }

    #[test]
    fn the_credentials_field_says_when_its_link_stops_working() {
        let clean = sanitize(
            "<p>{{portal_login_credentials_link}}</p><p>Until {{portal_link_expires}}</p>",
        );
        let t = MassTemplate::parse("Your link, until {{portal_link_expires}}", &clean).unwrap();
        let out = t.render(&RecipientValues {
            login: "annlee".into(),
            link: "https://members.example/set#token=abc".into(),
            link_expires: "6 December 2026, 18:00 CET".into(),
            ..Default::default()
        });
        assert_eq!(out.subject, "Your link, until 6 December 2026, 18:00 CET");
        assert!(
            out.html
                .contains("</a><br>This link works until 6 December 2026, 18:00 CET.</p>"),
            "{}",
            out.html
        );
        assert!(
            out.html.contains("<p>Until 6 December 2026, 18:00 CET</p>"),
            "{}",
            out.html
        );
        assert!(
            out.text
                .contains("This link works until 6 December 2026, 18:00 CET."),
            "{}",
            out.text
        );
        // The date belongs to the link: without the link field it is refused, naming both.
        let (part, err) =
            MassTemplate::parse("Hi", "<p>Until {{portal_link_expires}}</p>").unwrap_err();
        assert_eq!(part, "html");
        assert!(
            err.message.contains("portal_login_credentials_link"),
            "{}",
            err.message
        );
        let (part, _) =
            MassTemplate::parse("Until {{portal_link_expires}}", "<p>Hi</p>").unwrap_err();
        assert_eq!(part, "subject");
    }

    #[test]
    fn a_merged_value_cannot_make_a_javascript_link() {
        let clean = sanitize("<p><a href=\"{{first_name}}\">Your page</a> {{first_name}}</p>");
        let t = MassTemplate::parse("Hi", &clean).unwrap();
        for evil in [
            "javascript:alert(1)",
            " JaVaScRiPt:alert(1)",
            "data:text/html,x",
            "vbscript:x",
        ] {
            let out = t.render(&RecipientValues {
                first_name: evil.into(),
                ..Default::default()
            });
            let lower = out.html.to_ascii_lowercase();
            assert!(
                !lower.contains("href=\"javascript")
                    && !lower.contains("href=\" javascript")
                    && !lower.contains("href=\"data:")
                    && !lower.contains("href=\"vbscript"),
                "{}",
                out.html
            );
            assert!(out.html.contains("Your page"), "{}", out.html);
        }
        let ok = t.render(&RecipientValues {
            first_name: "https://chamber.example/ann".into(),
            ..Default::default()
        });
        assert!(
            ok.html.contains("href=\"https://chamber.example/ann\""),
            "{}",
            ok.html
        );
    }

    #[test]
    fn finds_fields_inside_tags() {
        assert!(fields_in_tags("<a href=\"{{x}}\">y</a>"));
        assert!(fields_in_tags("<img alt=[[PORTALLOGINLINK]]>"));
        assert!(!fields_in_tags("<p>{{x}}</p> [[PORTALLOGINLINK]]"));
    }

    #[test]
    fn sanitises_and_escapes() {
        let clean = sanitize(
            "<p onclick=\"x()\">Hi {{first_name}}</p><script>alert(1)</script><a href=\"javascript:alert(1)\">x</a>[[PORTALLOGINLINK]]",
        );
        assert!(
            !clean.contains("script")
                && !clean.contains("onclick")
                && !clean.contains("javascript:"),
            "{clean}"
        );
        let t = MassTemplate::parse("News for {{first_name}}", &clean).unwrap();
        assert!(t.uses_credentials());
        let out = t.render(&RecipientValues {
            first_name: "<b>Ann</b>\r\nBcc: x@evil.example".into(),
            login: "ann".into(),
            link: "https://m.example/portal/set-password#token=abc".into(),
            ..Default::default()
        });
        assert!(
            !out.subject.contains('\n') && !out.subject.contains('\r'),
            "{}",
            out.subject
        );
        assert!(out.html.contains("&lt;b&gt;Ann&lt;/b&gt;"), "{}", out.html);
        assert!(
            out.html
                .contains("href=\"https://m.example/portal/set-password#token=abc\"")
        );
        assert!(
            out.text
                .contains("Username: ann\nSet your portal password: https://m.example/"),
            "{}",
            out.text
        );
    }

    #[test]
    fn the_console_allows_exactly_the_mail_body_style_and_previews_in_it() {
        use base64::Engine;
        use sha2::Digest;
        let hash = base64::engine::general_purpose::STANDARD
            .encode(sha2::Sha256::digest(BODY_STYLE.as_bytes()));
        // The console's CSP (read as text: the mail layer never names the http layer).
        assert!(
            include_str!("../http/staff.rs").contains(&format!("'sha256-{hash}'")),
            "{hash}"
        );
        assert!(include_str!("../http/staff/mass.js").contains(BODY_STYLE));
    }
}
