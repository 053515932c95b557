//! Batch reads for the GraphQL DataLoaders. They check no rights: the guards on the fields
//! that use them do, and a loader only ever answers for keys a permitted field asked for.
//! This seam keeps resolvers off the store (see ARCHITECTURE.md).

use std::collections::HashMap;

use super::Services;
use crate::domain::{CredentialInfo, Profile, ProfileId};
use crate::error::AppResult;
use crate::store;

/// The profiles with these IDs that exist.
pub async fn profiles(svc: &Services, ids: &[ProfileId]) -> AppResult<HashMap<ProfileId, Profile>> {
    Ok(store::profiles::get_many(&svc.db, ids).await?)
}

/// The people related to each of these organisations.
pub async fn related(
    svc: &Services,
    ids: &[ProfileId],
) -> AppResult<HashMap<ProfileId, Vec<Profile>>> {
    Ok(store::profiles::children_of(&svc.db, ids).await?)
}

/// Credential metadata for each of these profiles that has credentials.
pub async fn credentials(
    svc: &Services,
    ids: &[ProfileId],
) -> AppResult<HashMap<ProfileId, CredentialInfo>> {
    Ok(store::credentials::for_profiles(&svc.db, ids).await?)
}
