//! What staff send: a communication's content and recipients, and its ID.

use async_graphql::{ID, InputObject, OneofObject, Result};
use chrono::{DateTime, Utc};

use super::types::{DeliveryStatus, LinkState};
use crate::domain::{self};
use crate::error::AppError;
use crate::graphql::types::{MemberStatus, ProfileKind};
use crate::services::mass;

/// Who receives the communication: chosen profiles, or everyone a filter matches when it is sent.
#[derive(OneofObject)]
pub(super) enum RecipientsInput {
    /// These profiles (at most 100,000).
    ProfileIds(Vec<ID>),
    /// Every profile matching the filter at the moment of sending.
    Filter(RecipientFilterInput),
}

/// Which profiles a filtered communication goes to.
#[derive(InputObject)]
pub(super) struct RecipientFilterInput {
    /// Only organisations or only people.
    kind: Option<ProfileKind>,
    /// Only profiles with this membership status.
    member_status: Option<MemberStatus>,
    /// Only profiles the quick search finds for this term.
    search: Option<String>,
    /// Also the people related to each matching organisation.
    #[graphql(default)]
    include_related_profiles: bool,
    /// Only profiles with (true) or without (false) a portal username or password.
    has_credentials: Option<bool>,
    /// Only profiles with (true) or without (false) a portal password: `false` finds who still
    /// has none.
    has_password: Option<bool>,
    /// Only profiles that have (true) or have never (false) signed in to the portal.
    signed_in: Option<bool>,
    /// Only profiles that signed in at or after this moment.
    signed_in_since: Option<DateTime<Utc>>,
    /// Only profiles with one of these membership statuses.
    member_statuses: Option<Vec<MemberStatus>>,
    /// Only recipients of an earlier communication, e.g. those whose link is still UNUSED or
    /// EXPIRED: a reminder.
    from_communication: Option<FromCommunicationInput>,
}

/// The recipients of an earlier communication, as they stand when this one is sent.
#[derive(InputObject)]
pub(super) struct FromCommunicationInput {
    /// The earlier communication.
    id: ID,
    /// Only recipients whose link is in one of these states; all when left out.
    link_states: Option<Vec<LinkState>>,
    /// Only recipients whose delivery has one of these statuses; all when left out.
    delivery_statuses: Option<Vec<DeliveryStatus>>,
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
}

fn recipients(input: RecipientsInput) -> Result<domain::Recipients, AppError> {
    Ok(match input {
        RecipientsInput::ProfileIds(ids) => domain::Recipients::ProfileIds(
            ids.iter()
                .map(|i| crate::graphql::ids::profile_id(i))
                .collect::<Result<_, _>>()?,
        ),
        RecipientsInput::Filter(f) => domain::Recipients::Filter(domain::RecipientFilter {
            kind: f.kind.map(Into::into),
            member_status: f.member_status.map(Into::into),
            search: f.search,
            include_related_profiles: f.include_related_profiles,
            has_credentials: f.has_credentials,
            has_password: f.has_password,
            signed_in: f.signed_in,
            signed_in_since: f.signed_in_since,
            member_statuses: f
                .member_statuses
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            from_communication: f
                .from_communication
                .map(|u| {
                    Ok::<_, AppError>(domain::FollowUp {
                        communication: crate::graphql::ids::mass_communication_id(&u.id)?,
                        link_states: u
                            .link_states
                            .unwrap_or_default()
                            .into_iter()
                            .map(Into::into)
                            .collect(),
                        delivery_statuses: u
                            .delivery_statuses
                            .unwrap_or_default()
                            .into_iter()
                            .map(Into::into)
                            .collect(),
                    })
                })
                .transpose()?,
        }),
    })
}

fn input_of(
    subject: Option<String>,
    html: Option<String>,
    r: Option<RecipientsInput>,
    hours: Option<i32>,
) -> Result<mass::MassInput, AppError> {
    Ok(mass::MassInput {
        subject,
        html,
        recipients: r.map(recipients).transpose()?,
        link_validity_hours: hours.map(i64::from),
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
        )
    }
}

impl UpdateMassCommunicationInput {
    /// The communication's ID and the changes.
    pub(super) fn into_parts(
        self,
    ) -> Result<(crate::domain::MassCommunicationId, mass::MassInput), AppError> {
        let id = crate::graphql::ids::mass_communication_id(&self.id)?;
        let changes = input_of(self.subject, self.html, self.recipients, self.link_validity)?;
        Ok((id, changes))
    }
}
