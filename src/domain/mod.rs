//! Plain-Rust domain types. Each newtype parses its input once, so the layers behind it never
//! see an unchecked value. Nothing here knows about SeaORM or GraphQL.
#![warn(missing_docs)]

#[macro_use]
mod db_enum;

mod audit_record;
mod clock;
mod codes;
mod credential;
mod email;
mod ids;
mod mass;
mod member_status;
mod merge_template;
mod names;
mod oidc;
mod outbound;
mod password;
mod password_policy;
mod profile;
mod profile_kind;
mod right;
mod search_key;
mod staff_user;
mod suppression;
mod token;
mod username;

pub use audit_record::{AuditAction, AuditActor, AuditFilter, AuditRecord, NewAuditEvent};
pub use clock::{Clock, ManualClock, SystemClock, clock_time, human_time};
pub use codes::{RecoveryCode, ShortCode};
pub use credential::{CredentialInfo, PasswordSetBy};
pub use email::EmailAddress;
pub use ids::{ExternalId, MassCommunicationId, OutboundId, ProfileId, StaffUserId};
pub use mass::{
    Delivery, DeliveryCounts, FailureTally, FollowUp, LinkCounts, LinkState, MailSender,
    MassCommunication, MassListFilter, MassPauseRule, MassPurpose, MassStatus, MassTransition,
    MergeField, RecipientFilter, Recipients, special_field_tokens,
};
pub use member_status::MemberStatus;
pub use merge_template::{CREDENTIALS_FIELD, LEGACY_CREDENTIALS_ALIAS, MergeTemplate, escape_html};
pub use names::{OrganizationName, PersonName};
pub use oidc::{ConnectedSite, RedirectUri, Scope, Scopes};
pub use outbound::{
    DeliveryPause, DeliveryStatus, OutboundKind, OutboundMessage, ProviderReport, SetPasswordLinks,
    SkipReason,
};
pub use password::Password;
pub use password_policy::{PasswordContext, PasswordPolicy, weakness as password_weakness};
pub use profile::{OptOutVia, Profile, ProfileFilter};
pub use profile_kind::ProfileKind;
pub use right::Right;
pub use search_key::{SearchCursor, SearchTerm, search_key};
pub use staff_user::{StaffSessionInfo, StaffUser};
pub use suppression::{
    AddressKeys, ERASED_ADDRESS, ProviderFeedback, Pseudonyms, Suppression, SuppressionReason,
};
pub use token::{Token, TokenHash, TokenPurpose};
pub use username::Username;

/// Why an input value was refused. `field` is filled in by the caller that knows which
/// argument or input field the value came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidInput {
    /// Why the value was refused, e.g. `must not be empty`; read after the field's name.
    pub message: String,
}

impl InvalidInput {
    /// A refusal with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// The candidate closest to `word` by edit distance, when it is at most `max_distance` edits
/// away: the "did you mean" of a misspelt name.
pub fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    max_distance: usize,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(word, c), c))
        .min()
        .filter(|(d, _)| *d <= max_distance)
        .map(|(_, c)| c)
}

/// Refuses control characters (including CR, LF, NUL and the Unicode line separators) so no
/// value can forge a log line or a mail header, or cross a search-field boundary.
pub(crate) fn reject_control_chars(value: &str) -> Result<(), InvalidInput> {
    if value.chars().any(|c| {
        c.is_control()
            || matches!(
                c,
                '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}'
            )
    }) {
        return Err(InvalidInput::new("must not contain control characters"));
    }
    Ok(())
}
