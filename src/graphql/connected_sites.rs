//! Connected sites: the association's other sites (website, forum, courses) that sign
//! members in through memberkey as their OpenID Connect provider.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::types::MemberStatus;
use super::{Require, parts};
use crate::domain::{self, Right};
use crate::services::oidc::sites::{self, SiteInput};

/// A site of the association that signs members in with their portal login (an OpenID
/// Connect client).
pub(super) struct OidcClient {
    site: domain::ConnectedSite,
    discovery_url: String,
}

/// A site of the association that signs members in with their portal login (an OpenID
/// Connect client). Readable with the MANAGE_CONNECTED_SITES right.
#[Object]
impl OidcClient {
    /// The identifier to enter in the site's OpenID Connect settings as its client ID.
    async fn client_id(&self) -> &str {
        &self.site.client_id
    }
    /// The name members see when they sign in ("to continue to …").
    async fn name(&self) -> &str {
        &self.site.name
    }
    /// True for a site with a server that keeps a secret; false for a public site (a
    /// browser or phone app), which proves itself with PKCE alone.
    async fn confidential(&self) -> bool {
        self.site.confidential
    }
    /// The addresses a sign-in may return to, matched exactly as written.
    async fn redirect_uris(&self) -> Vec<&str> {
        self.site.redirect_uris.iter().map(|u| u.as_str()).collect()
    }
    /// The addresses signing out may return to, matched exactly as written.
    async fn post_logout_redirect_uris(&self) -> Vec<&str> {
        self.site
            .post_logout_redirect_uris
            .iter()
            .map(|u| u.as_str())
            .collect()
    }
    /// The membership statuses this site admits; null admits every status that may sign in
    /// to the portal. Others see "Your membership does not include …", and the site gets
    /// `access_denied`.
    async fn allowed_member_statuses(&self) -> Option<Vec<MemberStatus>> {
        self.site
            .allowed_member_statuses
            .as_ref()
            .map(|l| l.iter().map(|s| (*s).into()).collect())
    }
    /// The discovery address to enter in the site's OpenID Connect plugin: it tells the
    /// plugin every endpoint and key.
    async fn discovery_url(&self) -> &str {
        &self.discovery_url
    }
    /// When the site was registered.
    async fn created_at(&self) -> DateTime<Utc> {
        self.site.created_at
    }
    /// When the site's settings last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.site.updated_at
    }
}

fn client(ctx: &Context<'_>, site: domain::ConnectedSite) -> Result<OidcClient> {
    let (svc, _, _) = parts(ctx)?;
    Ok(OidcClient {
        site,
        discovery_url: format!("{}/.well-known/openid-configuration", svc.config.public_url),
    })
}

/// A connected site's settings.
#[derive(InputObject)]
pub(super) struct OidcClientInput {
    /// The name members see when they sign in, 1 to 100 characters.
    name: String,
    /// The addresses a sign-in may return to: https, or http only on 127.0.0.1 or
    /// localhost. At least one.
    redirect_uris: Vec<String>,
    /// The addresses signing out may return to.
    #[graphql(default)]
    post_logout_redirect_uris: Vec<String>,
    /// The membership statuses admitted; leave out to admit every status that may sign in.
    allowed_member_statuses: Option<Vec<MemberStatus>>,
}

impl From<OidcClientInput> for SiteInput {
    fn from(i: OidcClientInput) -> Self {
        SiteInput {
            name: i.name,
            redirect_uris: i.redirect_uris,
            post_logout_redirect_uris: i.post_logout_redirect_uris,
            allowed_member_statuses: i
                .allowed_member_statuses
                .map(|l| l.into_iter().map(Into::into).collect()),
        }
    }
}

/// A new connected site.
#[derive(InputObject)]
pub(super) struct CreateOidcClientInput {
    #[graphql(flatten)]
    settings: OidcClientInput,
    /// True (the default) for a site with a server that keeps a secret; false for a public
    /// site (a browser or phone app), which must use PKCE.
    #[graphql(default = true)]
    confidential: bool,
}

/// A site and its new secret.
#[derive(SimpleObject)]
pub(super) struct OidcClientSecretPayload {
    /// The site.
    client: OidcClient,
    /// The client secret, shown this once: copy it into the site's settings now. memberkey
    /// keeps only a digest of it. Null for a public site.
    client_secret: Option<String>,
}

/// A site as `updateOidcClient` left it.
#[derive(SimpleObject)]
pub(super) struct OidcClientPayload {
    /// The site.
    client: OidcClient,
}

/// What `deleteOidcClient` removed.
#[derive(SimpleObject)]
pub(super) struct DeleteOidcClientPayload {
    /// The client ID of the removed site.
    deleted_client_id: ID,
}

#[derive(Default)]
pub(super) struct ConnectedSiteQuery;

#[Object]
impl ConnectedSiteQuery {
    /// Every connected site, by name. Needs the MANAGE_CONNECTED_SITES right.
    #[graphql(guard = "Require::Right(Right::ManageConnectedSites)")]
    async fn oidc_clients(&self, ctx: &Context<'_>) -> Result<Vec<OidcClient>> {
        let (svc, principal, _) = parts(ctx)?;
        sites::list(svc, principal)
            .await?
            .into_iter()
            .map(|s| client(ctx, s))
            .collect()
    }
}

#[derive(Default)]
pub(super) struct ConnectedSiteMutation;

#[Object]
impl ConnectedSiteMutation {
    /// Registers a site that signs members in through memberkey. Returns its client ID and,
    /// for a confidential site, its secret, shown only this once. Audited as
    /// CONNECTED_SITE_CREATED. Needs the MANAGE_CONNECTED_SITES right.
    #[graphql(guard = "Require::Right(Right::ManageConnectedSites)")]
    async fn create_oidc_client(
        &self,
        ctx: &Context<'_>,
        input: CreateOidcClientInput,
    ) -> Result<OidcClientSecretPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let (site, secret) = sites::create(
            svc,
            Some(principal),
            meta,
            input.settings.into(),
            input.confidential,
        )
        .await?;
        Ok(OidcClientSecretPayload {
            client: client(ctx, site)?,
            client_secret: secret,
        })
    }

    /// Changes a site's name, addresses and admitted statuses. Audited as
    /// CONNECTED_SITE_UPDATED. Needs the MANAGE_CONNECTED_SITES right.
    #[graphql(guard = "Require::Right(Right::ManageConnectedSites)")]
    async fn update_oidc_client(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The site's client ID.")] client_id: ID,
        input: OidcClientInput,
    ) -> Result<OidcClientPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let site = sites::update(svc, principal, meta, &client_id, input.into()).await?;
        Ok(OidcClientPayload {
            client: client(ctx, site)?,
        })
    }

    /// Gives a confidential site a new secret, shown only this once; the old one stops
    /// working at once. Audited as CONNECTED_SITE_SECRET_ROTATED. Needs the
    /// MANAGE_CONNECTED_SITES right.
    #[graphql(guard = "Require::Right(Right::ManageConnectedSites)")]
    async fn rotate_oidc_client_secret(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The site's client ID.")] client_id: ID,
    ) -> Result<OidcClientSecretPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let (site, secret) = sites::rotate_secret(svc, principal, meta, &client_id).await?;
        Ok(OidcClientSecretPayload {
            client: client(ctx, site)?,
            client_secret: Some(secret),
        })
    }

    /// Removes a site: members can no longer sign in to it, and what it holds stops working
    /// at once. Audited as CONNECTED_SITE_DELETED. Needs the MANAGE_CONNECTED_SITES right.
    #[graphql(guard = "Require::Right(Right::ManageConnectedSites)")]
    async fn delete_oidc_client(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The site's client ID.")] client_id: ID,
    ) -> Result<DeleteOidcClientPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let id = sites::delete(svc, principal, meta, &client_id).await?;
        Ok(DeleteOidcClientPayload {
            deleted_client_id: ID(id),
        })
    }
}
