//! Per-request DataLoaders. Created for each request, so one request never sees another's
//! cached rows, and a page of N profiles costs one query per relation instead of N.

use std::collections::HashMap;

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};

use crate::domain::{CredentialInfo, Profile, ProfileId};
use crate::error::AppError;
use crate::services::{Services, loaders};

pub struct ProfileById(Services);
pub struct RelatedProfiles(Services);
pub struct CredentialByProfile(Services);

fn gql(err: AppError) -> async_graphql::Error {
    err.into()
}

/// Every requested key gets an entry, "none" included, so the cache also remembers what
/// does not exist and never asks the database twice for it.
fn complete<V, W: Default>(
    keys: &[ProfileId],
    mut found: HashMap<ProfileId, V>,
    wrap: impl Fn(V) -> W,
) -> HashMap<ProfileId, W> {
    keys.iter()
        .map(|k| (*k, found.remove(k).map(&wrap).unwrap_or_default()))
        .collect()
}

impl Loader<ProfileId> for ProfileById {
    type Value = Option<Profile>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[ProfileId],
    ) -> Result<HashMap<ProfileId, Option<Profile>>, Self::Error> {
        let found = loaders::profiles(&self.0, keys).await.map_err(gql)?;
        Ok(complete(keys, found, Some))
    }
}

impl Loader<ProfileId> for RelatedProfiles {
    type Value = Vec<Profile>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[ProfileId],
    ) -> Result<HashMap<ProfileId, Vec<Profile>>, Self::Error> {
        let found = loaders::related(&self.0, keys).await.map_err(gql)?;
        Ok(complete(keys, found, |v| v))
    }
}

impl Loader<ProfileId> for CredentialByProfile {
    type Value = Option<CredentialInfo>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[ProfileId],
    ) -> Result<HashMap<ProfileId, Option<CredentialInfo>>, Self::Error> {
        let found = loaders::credentials(&self.0, keys).await.map_err(gql)?;
        Ok(complete(keys, found, Some))
    }
}

/// The loaders one request uses. They cache for the request's lifetime, so rows primed for a
/// page are not fetched again by the fields that need them.
pub struct Loaders {
    pub profile: DataLoader<ProfileById, HashMapCache>,
    pub related: DataLoader<RelatedProfiles, HashMapCache>,
    pub credential: DataLoader<CredentialByProfile, HashMapCache>,
}

impl Loaders {
    pub fn new(services: &Services) -> Self {
        Self {
            profile: DataLoader::with_cache(
                ProfileById(services.clone()),
                tokio::spawn,
                HashMapCache::default(),
            ),
            related: DataLoader::with_cache(
                RelatedProfiles(services.clone()),
                tokio::spawn,
                HashMapCache::default(),
            ),
            credential: DataLoader::with_cache(
                CredentialByProfile(services.clone()),
                tokio::spawn,
                HashMapCache::default(),
            ),
        }
    }

    /// Loads, in one batch per relation, the relations a list's selection asks for.
    ///
    /// Fields of a long list are resolved in chunks (the executor yields between them), so
    /// left alone a DataLoader may split one page into several batches depending on timing.
    /// Priming with every key at once makes the query count independent of page size.
    pub async fn prime(
        &self,
        ctx: &Context<'_>,
        node_path: &[&str],
        profiles: &[Profile],
    ) -> async_graphql::Result<()> {
        let mut node = ctx.look_ahead();
        for step in node_path {
            node = node.field(step);
        }
        let ids: Vec<ProfileId> = profiles.iter().map(|p| p.id).collect();
        let parents: Vec<ProfileId> = profiles.iter().filter_map(|p| p.parent_id).collect();
        let want = |name: &str| node.field(name).exists();
        let (a, b, c) = futures_util::join!(
            async {
                if want("parent") && !parents.is_empty() {
                    self.profile.load_many(parents).await.map(drop)
                } else {
                    Ok(())
                }
            },
            async {
                if want("relatedProfiles") {
                    self.related.load_many(ids.clone()).await.map(drop)
                } else {
                    Ok(())
                }
            },
            async {
                if want("portalCredential") {
                    self.credential.load_many(ids.clone()).await.map(drop)
                } else {
                    Ok(())
                }
            },
        );
        a.and(b).and(c)
    }
}
