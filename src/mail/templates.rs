//! The fixed system emails ("Forgot Login", "password changed", a staff user's set-password
//! link). Their text is compiled into
//! the binary and cannot be edited; only the values differ. Values are escaped for HTML and
//! rendered in one pass, so a name like `{{link}}` or `<a href=…>` shows as typed.

use std::borrow::Cow;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::{MergeTemplate, escape_html, human_time};

/// A finished message body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// One login and its set-password link, as listed in a "Forgot Login" email.
#[derive(Debug, Clone)]
pub struct AccountLink {
    pub profile_name: String,
    pub login: String,
    pub link: String,
    pub expires_at: DateTime<Utc>,
}

struct Template {
    subject: MergeTemplate,
    html: MergeTemplate,
    text: MergeTemplate,
}

fn parse(src: &str, fields: &[&str]) -> MergeTemplate {
    // A broken built-in template is a programming error caught by the unit test below.
    MergeTemplate::parse(src, fields).expect("built-in template parses")
}

const LETTER: &[&str] = &[
    "association_name",
    "portal",
    "accounts",
    "login",
    "changed_at",
];

/// The portal's name in headings: "Harbour Chamber Members Only portal", but just
/// "Members Only" when the association's name already says it (the default), so no mail reads
/// "Members Only Members Only portal".
fn portal_name(association: &str) -> String {
    if association.to_lowercase().contains("members only") {
        association.to_owned()
    } else {
        format!("{association} Members Only portal")
    }
}
const ACCOUNT: &[&str] = &["profile_name", "login", "link", "expires_at"];

static FORGOT_LOGIN: LazyLock<Template> = LazyLock::new(|| Template {
    subject: parse(include_str!("templates/forgot_login.subject.txt"), LETTER),
    html: parse(include_str!("templates/forgot_login.html"), LETTER),
    text: parse(include_str!("templates/forgot_login.txt"), LETTER),
});
static ACCOUNT_HTML: LazyLock<MergeTemplate> =
    LazyLock::new(|| parse(include_str!("templates/forgot_login_account.html"), ACCOUNT));
static ACCOUNT_TEXT: LazyLock<MergeTemplate> =
    LazyLock::new(|| parse(include_str!("templates/forgot_login_account.txt"), ACCOUNT));
static PASSWORD_CHANGED: LazyLock<Template> = LazyLock::new(|| Template {
    subject: parse(
        include_str!("templates/password_changed.subject.txt"),
        LETTER,
    ),
    html: parse(include_str!("templates/password_changed.html"), LETTER),
    text: parse(include_str!("templates/password_changed.txt"), LETTER),
});
const STAFF_LINK: &[&str] = &["association_name", "login", "link", "expires_at"];
static STAFF_PASSWORD_LINK: LazyLock<Template> = LazyLock::new(|| Template {
    subject: parse(
        include_str!("templates/staff_password_link.subject.txt"),
        STAFF_LINK,
    ),
    html: parse(
        include_str!("templates/staff_password_link.html"),
        STAFF_LINK,
    ),
    text: parse(
        include_str!("templates/staff_password_link.txt"),
        STAFF_LINK,
    ),
});

fn account_value<'a>(a: &'a AccountLink, field: &str, zone: Tz) -> Cow<'a, str> {
    match field {
        "profile_name" => Cow::Borrowed(&a.profile_name),
        "login" => Cow::Borrowed(&a.login),
        "link" => Cow::Borrowed(&a.link),
        _ => Cow::Owned(human_time(a.expires_at, zone)),
    }
}

/// The standard "Forgot Login" email: one entry per account that uses the address.
pub fn forgot_login(association: &str, zone: Tz, accounts: &[AccountLink]) -> Rendered {
    let html_list: String = accounts
        .iter()
        .map(|a| {
            ACCOUNT_HTML
                .render(|f| Cow::Owned(escape_html(&account_value(a, f, zone)).into_owned()))
        })
        .collect();
    let text_list: String = accounts
        .iter()
        .map(|a| ACCOUNT_TEXT.render(|f| account_value(a, f, zone)))
        .collect();
    let t = &*FORGOT_LOGIN;
    let portal = portal_name(association);
    Rendered {
        subject: t
            .subject
            .render(|_| Cow::Borrowed(association))
            .trim()
            .to_owned(),
        html: t.html.render(|f| match f {
            "accounts" => Cow::Borrowed(html_list.as_str()),
            "portal" => escape_html(&portal),
            _ => escape_html(association),
        }),
        text: t.text.render(|f| match f {
            "accounts" => Cow::Borrowed(text_list.as_str()),
            "portal" => Cow::Borrowed(portal.as_str()),
            _ => Cow::Borrowed(association),
        }),
    }
}

/// The notice that a password was changed. It carries no password and no link.
pub fn password_changed(
    association: &str,
    zone: Tz,
    login: &str,
    changed_at: DateTime<Utc>,
) -> Rendered {
    let when = human_time(changed_at, zone);
    let portal = portal_name(association);
    let value = |f: &str| -> Cow<'_, str> {
        match f {
            "login" => Cow::Owned(login.to_owned()),
            "changed_at" => Cow::Owned(when.clone()),
            "portal" => Cow::Owned(portal.clone()),
            _ => Cow::Owned(association.to_owned()),
        }
    };
    let t = &*PASSWORD_CHANGED;
    Rendered {
        subject: t.subject.render(value).trim().to_owned(),
        html: t
            .html
            .render(|f| Cow::Owned(escape_html(&value(f)).into_owned())),
        text: t.text.render(value),
    }
}

/// A staff user's set-password link, sent by an administrator.
pub fn staff_password_link(
    association: &str,
    zone: Tz,
    login: &str,
    link: &str,
    expires_at: DateTime<Utc>,
) -> Rendered {
    let until = human_time(expires_at, zone);
    let value = |f: &str| -> Cow<'_, str> {
        match f {
            "login" => Cow::Borrowed(login),
            "link" => Cow::Borrowed(link),
            "expires_at" => Cow::Borrowed(until.as_str()),
            _ => Cow::Borrowed(association),
        }
    };
    let t = &*STAFF_PASSWORD_LINK;
    Rendered {
        subject: t.subject.render(value).trim().to_owned(),
        html: t
            .html
            .render(|f| Cow::Owned(escape_html(&value(f)).into_owned())),
        text: t.text.render(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgot_login_escapes_names_and_keeps_one_link_per_account() {
        let evil =
            "<a href=\"https://evil.example\">Click</a><img src=x onerror=alert(1)> {{link}}";
        let out = forgot_login(
            "Harbour Chamber",
            Tz::UTC,
            &[AccountLink {
                profile_name: evil.into(),
                login: "maria".into(),
                link: "https://members.example.org/portal/set-password#token=abc".into(),
                expires_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            }],
        );
        assert_eq!(out.html.matches("<a ").count(), 1, "{}", out.html);
        assert!(
            out.html
                .contains("&lt;a href=&quot;https://evil.example&quot;&gt;")
        );
        assert!(out.html.contains("{{link}}"), "a value is never expanded");
        assert!(
            out.text.contains(evil),
            "the text part shows the literal name"
        );
        assert_eq!(out.subject, "Harbour Chamber: set your portal password");
        assert!(
            out.text.contains("15 January 2027, 08:00 UTC"),
            "{}",
            out.text
        );
    }

    #[test]
    fn the_default_name_never_stutters() {
        let account = AccountLink {
            profile_name: "Maria Jensen".into(),
            login: "maria".into(),
            link: "https://members.example.org/portal/set-password#token=abc".into(),
            expires_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        };
        let mails = [
            forgot_login("Members Only", Tz::UTC, std::slice::from_ref(&account)),
            password_changed("Members Only", Tz::UTC, "maria", Utc::now()),
        ];
        for out in &mails {
            for part in [&out.subject, &out.html, &out.text] {
                assert!(!part.contains("Members Only Members Only"), "{part}");
            }
            assert_eq!(
                out.subject.matches("Members Only").count(),
                1,
                "{}",
                out.subject
            );
        }
        assert_eq!(mails[0].subject, "Members Only: set your portal password");
        let real = forgot_login("Harbour Chamber", Tz::UTC, &[account]);
        assert!(
            real.text.starts_with("Harbour Chamber Members Only portal"),
            "{}",
            real.text
        );
    }

    #[test]
    fn the_staff_link_escapes_the_login_and_carries_one_link() {
        let t = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let out = staff_password_link(
            "Harbour <Chamber>",
            Tz::UTC,
            "<b>ops</b>",
            "https://members.example.org/staff/#set-password=abc",
            t,
        );
        assert_eq!(out.html.matches("<a ").count(), 1, "{}", out.html);
        assert!(out.html.contains("&lt;b&gt;ops&lt;/b&gt;"), "{}", out.html);
        assert!(out.html.contains("Harbour &lt;Chamber&gt;"));
        assert!(out.text.contains("#set-password=abc"));
        assert!(out.text.contains("15 January 2027, 08:00 UTC"));
        assert_eq!(
            out.subject,
            "Harbour <Chamber>: set your staff console password"
        );
    }

    #[test]
    fn password_changed_has_no_link() {
        let out = password_changed("Harbour Chamber", Tz::UTC, "maria", Utc::now());
        assert!(!out.html.contains("href"));
        assert!(out.text.contains("maria"));
    }

    #[test]
    fn times_are_in_the_association_zone_and_name_it() {
        // 1 800 000 000 is 15 January 2027, 08:00 UTC: winter in Copenhagen (UTC+1).
        let t = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert_eq!(human_time(t, Tz::UTC), "15 January 2027, 08:00 UTC");
        assert_eq!(
            human_time(t, Tz::Europe__Copenhagen),
            "15 January 2027, 09:00 CET"
        );
        assert_eq!(
            crate::domain::clock_time(t, Tz::Europe__Copenhagen),
            "09:00 CET"
        );
        // Summer time is the zone's own business, not a fixed offset.
        let summer = DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        assert!(
            human_time(summer, Tz::Europe__Copenhagen).ends_with("CEST"),
            "{}",
            human_time(summer, Tz::Europe__Copenhagen)
        );
        // A zone without a lettered abbreviation shows its offset.
        assert_eq!(
            human_time(t, Tz::America__Sao_Paulo),
            "15 January 2027, 05:00 UTC-03"
        );
        let out = forgot_login(
            "Harbour Chamber",
            Tz::Europe__Copenhagen,
            &[AccountLink {
                profile_name: "Maria Jensen".into(),
                login: "maria".into(),
                link: "https://members.example.org/portal/set-password#token=abc".into(),
                expires_at: t,
            }],
        );
        assert!(
            out.text
                .contains("This link works until 15 January 2027, 09:00 CET."),
            "{}",
            out.text
        );
        assert!(
            out.html.contains("15 January 2027, 09:00 CET"),
            "{}",
            out.html
        );
        let changed = password_changed("Harbour Chamber", Tz::Europe__Copenhagen, "maria", t);
        assert!(
            changed.text.contains("15 January 2027, 09:00 CET"),
            "{}",
            changed.text
        );
    }
}
