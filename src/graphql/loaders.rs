//! Per-request DataLoaders. Created for each request, so one request never sees another's
//! cached rows, and a page of N profiles costs one query per relation instead of N.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};

use crate::domain::{CredentialInfo, Profile, ProfileId};
use crate::error::AppError;
use crate::services::Services;
use crate::store;

pub struct ProfileById(Services);
pub struct RelatedProfiles(Services);
pub struct CredentialByProfile(Services);

fn gql(err: sea_orm::DbErr) -> async_graphql::Error {
    AppError::from(err).into()
}

impl Loader<ProfileId> for ProfileById {
    type Value = Profile;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[ProfileId]) -> Result<HashMap<ProfileId, Profile>, Self::Error> {
        store::profiles::get_many(&self.0.db, keys).await.map_err(gql)
    }
}

impl Loader<ProfileId> for RelatedProfiles {
    type Value = Vec<Profile>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[ProfileId]) -> Result<HashMap<ProfileId, Vec<Profile>>, Self::Error> {
        store::profiles::children_of(&self.0.db, keys).await.map_err(gql)
    }
}

impl Loader<ProfileId> for CredentialByProfile {
    type Value = CredentialInfo;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[ProfileId]) -> Result<HashMap<ProfileId, CredentialInfo>, Self::Error> {
        store::credentials::for_profiles(&self.0.db, keys).await.map_err(gql)
    }
}

/// The loaders one request uses.
pub struct Loaders {
    pub profile: DataLoader<ProfileById>,
    pub related: DataLoader<RelatedProfiles>,
    pub credential: DataLoader<CredentialByProfile>,
}

impl Loaders {
    pub fn new(services: &Services) -> Self {
        Self {
            profile: DataLoader::new(ProfileById(services.clone()), tokio::spawn),
            related: DataLoader::new(RelatedProfiles(services.clone()), tokio::spawn),
            credential: DataLoader::new(CredentialByProfile(services.clone()), tokio::spawn),
        }
    }
}
