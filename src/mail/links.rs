//! Set-password links and each recipient's merge values. Both the use cases (previews, links
//! staff pass on) and the delivery worker (the mail itself) build them, so they live here,
//! below both, and take only the settings.

use crate::config::Config;
use crate::domain::{Profile, Token};
use crate::mail::mass::RecipientValues;

/// Where a set-password link points: the configured SPA, else the built-in page. The token
/// rides in the fragment, so it never reaches a server log or a Referer header.
pub fn set_password_link(config: &Config, token: &Token) -> String {
    format!("{}#token={}", link_base(config), token.expose())
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

/// One recipient's merge values. A person's organisation is their parent's name.
pub fn recipient_values(
    profile: &Profile,
    username: Option<&str>,
    parent: Option<&Profile>,
    link: String,
) -> RecipientValues {
    let email = profile.email.clone().unwrap_or_default();
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
    }
}

/// Values for a preview or test copy without a recipient.
pub fn sample_values(config: &Config) -> RecipientValues {
    RecipientValues {
        first_name: "Alex".into(),
        last_name: "Sample".into(),
        full_name: "Alex Sample".into(),
        organization_name: "Sample Trading Ltd".into(),
        email: "alex.sample@example.org".into(),
        login: "alex.sample".into(),
        profile_id: "0".into(),
        link: sample_link(config),
    }
}
