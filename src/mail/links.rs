//! Set-password links and each recipient's merge values. Both the use cases (previews, links
//! staff pass on) and the delivery worker (the mail itself) build them, so they live here,
//! below both, and take only the settings.

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::domain::human_time;
use crate::domain::{Profile, Token};
use crate::mail::mass::RecipientValues;

/// A set-password link as a message shows it: where it points and when it stops working.
#[derive(Debug, Clone)]
pub struct MailedLink {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// Where a set-password link points: the configured SPA, else the built-in page. The token
/// rides in the fragment, so it never reaches a server log or a Referer header.
pub fn set_password_link(config: &Config, token: &Token) -> String {
    format!("{}#token={}", link_base(config), token.expose())
}

/// A staff user's set-password link: the staff console, which reads the token from the
/// fragment. Never the members' page, so neither kind of link is mistaken for the other.
pub fn staff_password_link(config: &Config, token: &Token) -> String {
    format!(
        "{}/staff/#set-password={}",
        config.public_url,
        token.expose()
    )
}

/// The configured set-password page: the association's SPA, else the built-in page.
fn link_base(config: &Config) -> String {
    config
        .mail
        .set_password_url
        .clone()
        .unwrap_or_else(|| format!("{}/portal/set-password", config.public_url))
}

/// A link that looks like the real one but grants nothing: its token is not a token.
pub fn sample_link(config: &Config) -> String {
    format!("{}#token=SAMPLE-LINK-FOR-PREVIEW-ONLY", link_base(config))
}

/// One recipient's merge values. A person's organisation is their parent's name. `link` is
/// `None` for a message that carries no set-password link.
pub fn recipient_values(
    config: &Config,
    profile: &Profile,
    username: Option<&str>,
    parent: Option<&Profile>,
    link: Option<MailedLink>,
) -> RecipientValues {
    let email = profile.email.clone().unwrap_or_default();
    let (link, link_expires) = shown(config, link);
    RecipientValues {
        first_name: profile.first_name.clone().unwrap_or_default(),
        last_name: profile.last_name.clone().unwrap_or_default(),
        full_name: profile.display_name(),
        organization_name: profile
            .organization_name
            .clone()
            .or_else(|| parent.and_then(|p| p.organization_name.clone()))
            .unwrap_or_default(),
        login: username.map_or_else(|| email.clone(), str::to_owned),
        email,
        profile_id: profile.id.to_string(),
        link,
        link_expires,
        // A sample (it unsubscribes nobody); a NEWS send puts each member's own in its place.
        unsubscribe: unsubscribe_url(config, SAMPLE_UNSUBSCRIBE),
    }
}

/// The token of previews and test copies: it names nobody, so its page says the link is
/// not valid.
const SAMPLE_UNSUBSCRIBE: &str = "0-sample";

/// The page where a member leaves news: `<public URL>/portal/unsubscribe/<token>`. The token
/// names the member and is signed; it carries no credential.
pub fn unsubscribe_url(config: &Config, token: &str) -> String {
    format!(
        "{}/portal/unsubscribe/{token}",
        config.public_url.trim_end_matches('/')
    )
}

fn shown(config: &Config, link: Option<MailedLink>) -> (String, String) {
    link.map(|l| (l.url, human_time(l.expires_at, config.time_zone)))
        .unwrap_or_default()
}

/// The sample link of a preview or test copy, shown as expiring when a real one sent now would.
pub fn sample_mailed_link(config: &Config, expires_at: DateTime<Utc>) -> MailedLink {
    MailedLink {
        url: sample_link(config),
        expires_at,
    }
}

/// Values for a preview or test copy without a recipient.
pub fn sample_values(config: &Config, expires_at: DateTime<Utc>) -> RecipientValues {
    let (link, link_expires) = shown(config, Some(sample_mailed_link(config, expires_at)));
    RecipientValues {
        first_name: "Alex".into(),
        last_name: "Sample".into(),
        full_name: "Alex Sample".into(),
        organization_name: "Sample Trading Ltd".into(),
        email: "alex.sample@example.org".into(),
        login: "alex.sample".into(),
        profile_id: "0".into(),
        link,
        link_expires,
        unsubscribe: unsubscribe_url(config, SAMPLE_UNSUBSCRIBE),
    }
}
