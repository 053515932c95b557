//! A person's data, at their request.

use async_graphql::{Context, ID, Object, Result, SimpleObject};

use super::{Require, parts};
use crate::domain::Right;
use crate::services::{erasure, personal_data};

/// The result of `exportProfileData`.
#[derive(SimpleObject)]
pub(super) struct ExportProfileDataPayload {
    /// One JSON document (format `memberkey.profile-export.v1`): the profile and its
    /// relations, credential facts, sessions, every message sent with its link's state, the
    /// suppression entry and the audit rows about the person. It never holds a password
    /// hash, a sealed password, a token or a second-factor secret.
    document: String,
}

/// The result of `eraseProfile`.
#[derive(SimpleObject)]
pub(super) struct EraseProfilePayload {
    /// The profile that was erased; it no longer exists.
    erased_profile_id: ID,
    /// The people related to an organisation erased with it (`includePeople`); empty for a
    /// person.
    erased_people_ids: Vec<ID>,
}

#[derive(Default)]
pub(super) struct PersonalDataMutation;

#[Object]
impl PersonalDataMutation {
    /// Everything memberkey holds about a person, for their request to see it. Audited on the
    /// profile as PERSONAL_DATA_EXPORTED. Needs the MANAGE_PERSONAL_DATA right.
    #[graphql(guard = "Require::Right(Right::ManagePersonalData)")]
    async fn export_profile_data(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile whose data to export.")] profile_id: ID,
    ) -> Result<ExportProfileDataPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let id = crate::graphql::ids::profile_id(&profile_id)?;
        let document = personal_data::export(svc, principal, meta, id).await?;
        Ok(ExportProfileDataPayload {
            document: document.to_string(),
        })
    }

    /// Erases a person at their request, for good: the profile, its portal credential,
    /// sessions, set-password links, codes and connected sites' grants are deleted, so the
    /// person can never sign in again. Delivery rows keep their status but lose the address;
    /// audit rows keep action and time but lose every name, username and address; a
    /// suppressed address stays suppressed under a keyed hash. An organisation that still
    /// has people is refused with CONFLICT unless `includePeople` is true. Needs the
    /// MANAGE_PERSONAL_DATA right and a fresh `confirmStaffIdentity` (STEP_UP_REQUIRED
    /// otherwise). Audited as PERSONAL_DATA_ERASED, without the erased data.
    #[graphql(guard = "Require::Right(Right::ManagePersonalData)")]
    async fn erase_profile(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile to erase.")] profile_id: ID,
        #[graphql(
            desc = "For an organisation: also erase every person related to it. Without it (or false), an organisation that still has people is refused."
        )]
        include_people: Option<bool>,
    ) -> Result<EraseProfilePayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let id = crate::graphql::ids::profile_id(&profile_id)?;
        let mut erased =
            erasure::erase(svc, principal, meta, id, include_people.unwrap_or(false)).await?;
        erased.pop();
        Ok(EraseProfilePayload {
            erased_profile_id: ID(id.get().to_string()),
            erased_people_ids: erased.iter().map(|p| ID(p.get().to_string())).collect(),
        })
    }
}
