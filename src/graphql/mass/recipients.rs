//! Who a communication goes to: the one recipient filter staff send and read back, so a
//! draft can be shown and edited as it is.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::types::{DeliveryStatus, LinkState};
use crate::domain::{self, Recipients};
use crate::error::AppError;
use crate::graphql::types::{MemberStatus, Profile, ProfileKind};

/// Who a communication goes to: profiles chosen one by one, or everyone a filter matches
/// when it is sent.
pub(super) struct MassRecipients(pub(super) Recipients);

/// Who a communication goes to: profiles chosen one by one, or everyone a filter matches
/// when it is sent.
#[Object]
impl MassRecipients {
    /// The profiles chosen one by one, in the order chosen; empty for a filter. A profile
    /// deleted since is left out.
    async fn profiles(&self, ctx: &Context<'_>) -> Result<Vec<Profile>> {
        let Recipients::ProfileIds(ids) = &self.0 else {
            return Ok(Vec::new());
        };
        let found = crate::graphql::loaders(ctx)?
            .profile
            .load_many(ids.iter().copied())
            .await?;
        Ok(ids
            .iter()
            .filter_map(|id| found.get(id).cloned().flatten())
            .map(Profile)
            .collect())
    }

    /// The filter, or null for chosen profiles.
    async fn filter(&self) -> Option<RecipientFilter> {
        let Recipients::Filter(f) = &self.0 else {
            return None;
        };
        Some(RecipientFilter::from(f))
    }
}

/// Which profiles a filtered communication goes to; a field that is null (or an empty list)
/// does not narrow it. The same type is what staff send (`RecipientFilterInput`) and what a
/// saved communication shows, so a filter read back can be sent again unchanged.
#[derive(SimpleObject, InputObject)]
#[graphql(input_name = "RecipientFilterInput")]
pub(in crate::graphql) struct RecipientFilter {
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
    /// Only profiles with one of these membership statuses; all when empty.
    #[graphql(default)]
    member_statuses: Vec<MemberStatus>,
    /// Only recipients of an earlier communication, e.g. those whose link is still UNUSED or
    /// EXPIRED: a reminder.
    from_communication: Option<FromCommunication>,
}

/// The recipients of an earlier communication, as they stand when this one is sent.
#[derive(SimpleObject, InputObject)]
#[graphql(input_name = "FromCommunicationInput")]
pub(super) struct FromCommunication {
    /// The earlier communication.
    id: ID,
    /// Only recipients whose link is in one of these states; all when empty.
    #[graphql(default)]
    link_states: Vec<LinkState>,
    /// Only recipients whose delivery has one of these statuses; all when empty.
    #[graphql(default)]
    delivery_statuses: Vec<DeliveryStatus>,
}

fn all<T: Copy, U: From<T>>(values: &[T]) -> Vec<U> {
    values.iter().copied().map(Into::into).collect()
}

impl From<&domain::RecipientFilter> for RecipientFilter {
    fn from(f: &domain::RecipientFilter) -> Self {
        Self {
            kind: f.kind.map(Into::into),
            member_status: f.member_status.map(Into::into),
            search: f.search.clone(),
            include_related_profiles: f.include_related_profiles,
            has_credentials: f.has_credentials,
            has_password: f.has_password,
            signed_in: f.signed_in,
            signed_in_since: f.signed_in_since,
            member_statuses: all(&f.member_statuses),
            from_communication: f.from_communication.as_ref().map(|c| FromCommunication {
                id: ID(c.communication.to_string()),
                link_states: all(&c.link_states),
                delivery_statuses: all(&c.delivery_statuses),
            }),
        }
    }
}

impl TryFrom<RecipientFilter> for domain::RecipientFilter {
    type Error = AppError;

    fn try_from(f: RecipientFilter) -> Result<Self, AppError> {
        let from_communication = f
            .from_communication
            .map(|c| {
                Ok::<_, AppError>(domain::FollowUp {
                    communication: crate::graphql::ids::mass_communication_id(&c.id)?,
                    link_states: all(&c.link_states),
                    delivery_statuses: all(&c.delivery_statuses),
                })
            })
            .transpose()?;
        Ok(Self {
            kind: f.kind.map(Into::into),
            member_status: f.member_status.map(Into::into),
            search: f.search,
            include_related_profiles: f.include_related_profiles,
            has_credentials: f.has_credentials,
            has_password: f.has_password,
            signed_in: f.signed_in,
            signed_in_since: f.signed_in_since,
            member_statuses: all(&f.member_statuses),
            from_communication,
        })
    }
}
