//! Who a communication goes to, as saved, so a draft can be shown and edited as it is.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::types::{DeliveryStatus, LinkState};
use crate::domain::{self, Recipients};
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

/// A saved recipient filter; a field that is null (or an empty list) does not narrow it.
#[derive(SimpleObject)]
pub(super) struct RecipientFilter {
    /// Only organisations or only people.
    kind: Option<ProfileKind>,
    /// Only profiles with this membership status.
    member_status: Option<MemberStatus>,
    /// Only profiles the quick search finds for this term.
    search: Option<String>,
    /// Also the people related to each matching organisation.
    include_related_profiles: bool,
    /// Only profiles with (true) or without (false) a portal username or password.
    has_credentials: Option<bool>,
    /// Only profiles with (true) or without (false) a portal password.
    has_password: Option<bool>,
    /// Only profiles that have (true) or have never (false) signed in.
    signed_in: Option<bool>,
    /// Only profiles that signed in at or after this moment.
    signed_in_since: Option<DateTime<Utc>>,
    /// Only profiles with one of these membership statuses.
    member_statuses: Vec<MemberStatus>,
    /// Only recipients of this earlier communication (a reminder).
    from_communication_id: Option<ID>,
    /// Of those, only recipients whose link is in one of these states.
    from_communication_link_states: Vec<LinkState>,
    /// Of those, only recipients whose delivery has one of these statuses.
    from_communication_statuses: Vec<DeliveryStatus>,
}

impl From<&domain::RecipientFilter> for RecipientFilter {
    fn from(f: &domain::RecipientFilter) -> Self {
        let follow = f.from_communication.as_ref();
        Self {
            kind: f.kind.map(Into::into),
            member_status: f.member_status.map(Into::into),
            search: f.search.clone(),
            include_related_profiles: f.include_related_profiles,
            has_credentials: f.has_credentials,
            has_password: f.has_password,
            signed_in: f.signed_in,
            signed_in_since: f.signed_in_since,
            member_statuses: f.member_statuses.iter().copied().map(Into::into).collect(),
            from_communication_id: follow.map(|c| ID(c.communication.to_string())),
            from_communication_link_states: follow
                .map(|c| c.link_states.iter().copied().map(Into::into).collect())
                .unwrap_or_default(),
            from_communication_statuses: follow
                .map(|c| {
                    c.delivery_statuses
                        .iter()
                        .copied()
                        .map(Into::into)
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}
