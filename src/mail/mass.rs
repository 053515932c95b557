//! Rendering one mass communication for one recipient. The staff HTML was sanitised when
//! saved; here every merge value is escaped for HTML (and folded to one line in the subject),
//! and the plain-text part is derived from the same template.

use std::borrow::Cow;

use super::templates::Rendered;
use super::{html_text, one_line};
use crate::domain::{
    CREDENTIALS_FIELD, InvalidInput, MergeTemplate, escape_html, is_special_field,
};

/// A communication's subject and body, parsed once for all its recipients.
#[derive(Debug, Clone)]
pub struct MassTemplate {
    subject: MergeTemplate,
    html: MergeTemplate,
    text: MergeTemplate,
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
}

impl MassTemplate {
    /// Parses a subject and sanitised HTML. Errors name the field and position.
    pub fn parse(subject: &str, html: &str) -> Result<Self, (&'static str, InvalidInput)> {
        let subject =
            MergeTemplate::parse(subject, is_special_field).map_err(|e| ("subject", e))?;
        let html_t = MergeTemplate::parse(html, is_special_field).map_err(|e| ("html", e))?;
        let text = MergeTemplate::parse(&html_text::to_text(html), is_special_field)
            .map_err(|e| ("html", e))?;
        Ok(Self {
            subject,
            html: html_t,
            text,
        })
    }

    /// Whether any part carries the credentials field (so each recipient needs a link).
    pub fn uses_credentials(&self) -> bool {
        [&self.subject, &self.html, &self.text]
            .iter()
            .any(|t| t.fields().any(|f| f == CREDENTIALS_FIELD))
    }

    pub fn render(&self, v: &RecipientValues) -> Rendered {
        let plain = |field: &str| -> String {
            match field {
                "first_name" => v.first_name.clone(),
                "last_name" => v.last_name.clone(),
                "full_name" => v.full_name.clone(),
                "organization_name" => v.organization_name.clone(),
                "email" => v.email.clone(),
                "username" => v.login.clone(),
                "profile_id" => v.profile_id.clone(),
                _ => format!(
                    "Username: {}\nSet your portal password: {}",
                    v.login, v.link
                ),
            }
        };
        let html_value = |field: &str| -> Cow<'static, str> {
            if field == CREDENTIALS_FIELD {
                Cow::Owned(format!(
                    "<p>Username: <strong>{}</strong><br><a href=\"{}\">Set your portal password</a></p>",
                    escape_html(&v.login),
                    escape_html(&v.link)
                ))
            } else {
                Cow::Owned(escape_html(&plain(field)).into_owned())
            }
        };
        Rendered {
            subject: one_line(&self.subject.render(|f| Cow::Owned(plain(f))))
                .trim()
                .to_owned(),
            html: self.html.render(html_value),
            text: self.text.render(|f| Cow::Owned(plain(f))),
        }
    }
}

/// Cleans staff HTML: no scripts, event handlers, `javascript:` URLs or other active content.
pub fn sanitize(html: &str) -> String {
    ammonia::Builder::default().clean(html).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
