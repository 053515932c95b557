//! Staff managing portal credentials.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

use super::types::{PortalCredential, Profile};
use super::{Require, parts};
use crate::domain::Right;
use crate::services::credentials as svc_credentials;

/// A profile's new portal username and/or password. Leave a field out to keep it.
#[derive(InputObject)]
pub(super) struct SetPortalCredentialsInput {
    /// The profile whose credentials to set.
    profile_id: ID,
    /// 3 to 64 letters, digits or `. _ -` (never `@`: members sign in with their email address
    /// as it is); unique regardless of case and width.
    username: Option<String>,
    /// The new password. It is hashed at once and never shown again.
    #[graphql(secret)]
    password: Option<String>,
    /// True to make the member choose a new password at next sign-in: until they do, their
    /// session may only read `me`, call `changePassword` and sign out. Left out, it becomes
    /// true when a password is given (a password staff typed is known to someone else) and
    /// stays as it was otherwise; give false to let the member keep the password.
    must_change_password: Option<bool>,
}

/// The result of `setPortalCredentials`, `setPortalCredentialsEnabled` and
/// `unlockPortalCredentials`.
#[derive(SimpleObject)]
pub(super) struct PortalCredentialPayload {
    /// The credential as saved. It never carries the password or its hash.
    credential: PortalCredential,
}

/// The result of `removePortalCredentials`.
#[derive(SimpleObject)]
pub(super) struct RemovePortalCredentialsPayload {
    /// The profile, now without portal credentials.
    profile: Profile,
    /// False when it had none to remove.
    removed: bool,
}

#[derive(Default)]
pub(super) struct CredentialMutation;

#[Object]
impl CredentialMutation {
    /// Sets a profile's portal username and/or password. A new password ends the member's
    /// sessions. Needs the MANAGE_PORTAL_CREDENTIALS right.
    #[graphql(guard = "Require::Right(Right::ManagePortalCredentials)")]
    async fn set_portal_credentials(
        &self,
        ctx: &Context<'_>,
        input: SetPortalCredentialsInput,
    ) -> Result<PortalCredentialPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let id = crate::graphql::ids::profile_id(&input.profile_id)?;
        let request = svc_credentials::SetCredentials {
            username: input.username.as_deref(),
            password: input.password.as_deref(),
            must_change_password: input.must_change_password,
        };
        let info = svc_credentials::set(svc, principal, meta, id, request).await?;
        Ok(PortalCredentialPayload {
            credential: PortalCredential::saved(info),
        })
    }

    /// Removes a profile's portal credentials and signs the member out.
    /// Needs the MANAGE_PORTAL_CREDENTIALS right.
    #[graphql(guard = "Require::Right(Right::ManagePortalCredentials)")]
    async fn remove_portal_credentials(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile whose credentials to remove.")] profile_id: ID,
    ) -> Result<RemovePortalCredentialsPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let id = crate::graphql::ids::profile_id(&profile_id)?;
        let (profile, removed) = svc_credentials::remove(svc, principal, meta, id).await?;
        Ok(RemovePortalCredentialsPayload {
            profile: Profile(profile),
            removed,
        })
    }

    /// Switches a profile's portal credential off (`enabled: false`) or back on, keeping its
    /// username and password. While it is off the member cannot sign in (they get the same
    /// INVALID_LOGIN as for a wrong password) and switching it off signs them out everywhere.
    /// Audited. Needs the MANAGE_PORTAL_CREDENTIALS right.
    #[graphql(guard = "Require::Right(Right::ManagePortalCredentials)")]
    async fn set_portal_credentials_enabled(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile whose credential to switch.")] profile_id: ID,
        #[graphql(desc = "False to stop the member signing in; true to allow it again.")]
        enabled: bool,
    ) -> Result<PortalCredentialPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let id = crate::graphql::ids::profile_id(&profile_id)?;
        let info = svc_credentials::set_enabled(svc, principal, meta, id, enabled).await?;
        Ok(PortalCredentialPayload {
            credential: PortalCredential::saved(info),
        })
    }

    /// Clears a sign-in lockout before it runs out. Needs the MANAGE_PORTAL_CREDENTIALS right.
    #[graphql(guard = "Require::Right(Right::ManagePortalCredentials)")]
    async fn unlock_portal_credentials(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile to unlock.")] profile_id: ID,
    ) -> Result<PortalCredentialPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let id = crate::graphql::ids::profile_id(&profile_id)?;
        let info = svc_credentials::unlock(svc, principal, meta, id).await?;
        Ok(PortalCredentialPayload {
            credential: PortalCredential::saved(info),
        })
    }
}
