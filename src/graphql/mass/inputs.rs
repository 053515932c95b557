//! What staff send: a communication's content and recipients, and its ID.

use async_graphql::{ID, InputObject, OneofObject, Result};

use super::recipients::RecipientFilter;
use crate::domain::{self};
use crate::error::AppError;
use crate::services::mass;

/// Who receives the communication: chosen profiles, or everyone a filter matches when it is sent.
#[derive(OneofObject)]
pub(super) enum RecipientsInput {
    /// These profiles (at most 100,000).
    ProfileIds(Vec<ID>),
    /// Every profile matching the filter at the moment of sending.
    Filter(RecipientFilter),
}

/// When a draft sends by itself, or that it no longer does.
#[derive(InputObject)]
pub(super) struct ScheduleMassCommunicationInput {
    /// The draft.
    pub(super) id: ID,
    /// When the server sends it, on behalf of whoever schedules it: at least a minute and at
    /// most a year from now. Null removes the schedule; it stays a draft either way.
    pub(super) send_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A new mass communication (saved as a draft).
#[derive(InputObject)]
pub(super) struct CreateMassCommunicationInput {
    /// The subject line; merge fields allowed.
    subject: String,
    /// The HTML body with `{{field}}` merge fields (see `specialFields`). It is sanitised:
    /// scripts, event handlers and `javascript:` links are removed.
    html: String,
    /// Who receives it.
    recipients: RecipientsInput,
    /// Hours each recipient's set-password link works (1–2160); default 168 (7 days).
    link_validity: Option<i32>,
    /// SERVICE (the default: credentials and notices, which every member gets) or NEWS
    /// (must contain `{{unsubscribe_link}}`; opted-out members are skipped).
    purpose: Option<super::types::MassPurpose>,
    /// Who it comes from: the `id` of one of `mailSenders`. Leave it out for the default
    /// sender.
    sender: Option<ID>,
}

/// Changes to a draft; leave a field out to keep it.
#[derive(InputObject)]
pub(super) struct UpdateMassCommunicationInput {
    /// The draft to change.
    id: ID,
    /// A new subject line.
    subject: Option<String>,
    /// A new HTML body.
    html: Option<String>,
    /// New recipients.
    recipients: Option<RecipientsInput>,
    /// New link lifetime in hours (1–2160).
    link_validity: Option<i32>,
    /// A new purpose.
    purpose: Option<super::types::MassPurpose>,
    /// A new sender: the `id` of one of `mailSenders` (`default` for the default sender).
    sender: Option<ID>,
}

fn recipients(input: RecipientsInput) -> Result<domain::Recipients, AppError> {
    Ok(match input {
        RecipientsInput::ProfileIds(ids) => domain::Recipients::ProfileIds(
            ids.iter()
                .map(|i| crate::graphql::ids::profile_id(i))
                .collect::<Result<_, _>>()?,
        ),
        RecipientsInput::Filter(f) => domain::Recipients::Filter(f.try_into()?),
    })
}

fn input_of(
    subject: Option<String>,
    html: Option<String>,
    r: Option<RecipientsInput>,
    hours: Option<i32>,
    purpose: Option<super::types::MassPurpose>,
    sender: Option<ID>,
) -> Result<mass::MassInput, AppError> {
    Ok(mass::MassInput {
        subject,
        html,
        recipients: r.map(recipients).transpose()?,
        link_validity_hours: hours.map(i64::from),
        purpose: purpose.map(Into::into),
        sender: sender.map(|id| id.0),
    })
}

impl CreateMassCommunicationInput {
    /// What the service takes.
    pub(super) fn into_input(self) -> Result<mass::MassInput, AppError> {
        input_of(
            Some(self.subject),
            Some(self.html),
            Some(self.recipients),
            self.link_validity,
            self.purpose,
            self.sender,
        )
    }
}

impl UpdateMassCommunicationInput {
    /// The communication's ID and the changes.
    pub(super) fn into_parts(
        self,
    ) -> Result<(crate::domain::MassCommunicationId, mass::MassInput), AppError> {
        let id = crate::graphql::ids::mass_communication_id(&self.id)?;
        let changes = input_of(
            self.subject,
            self.html,
            self.recipients,
            self.link_validity,
            self.purpose,
            self.sender,
        )?;
        Ok((id, changes))
    }
}
