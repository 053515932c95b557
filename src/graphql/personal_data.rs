//! A person's data, at their request.

use async_graphql::{Context, ID, Object, Result, SimpleObject};

use super::{Require, parts};
use crate::domain::Right;
use crate::services::personal_data;

/// The result of `exportProfileData`.
#[derive(SimpleObject)]
pub(super) struct ExportProfileDataPayload {
    /// One JSON document (format `memberkey.profile-export.v1`): the profile and its
    /// relations, credential facts, sessions, every message sent with its link's state, the
    /// suppression entry and the audit rows about the person. It never holds a password
    /// hash, a sealed password, a token or a second-factor secret.
    document: String,
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
}
