//! "View Profile's Portal": a staff user's read-only session as a member.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::types::Profile;
use super::{Require, parts};
use crate::domain::Right;
use crate::services::impersonation;

/// The result of `startPortalImpersonation`.
#[derive(SimpleObject)]
pub(super) struct StartPortalImpersonationPayload {
    /// The read-only view that started: its token is shown only here.
    impersonation: PortalImpersonation,
}

/// A started read-only view of the portal as a member.
#[derive(SimpleObject)]
pub(super) struct PortalImpersonation {
    /// A member bearer token for this profile, shown once. The session can read what the
    /// member sees (`me`), never change a password, credentials or the email address
    /// (READ_ONLY_SESSION), and ends at `expiresAt`, at `memberLogout`, or as soon as the
    /// staff user loses IMPERSONATE_MEMBERS or is deactivated.
    token: String,
    /// When the session ends by itself: at most 15 minutes after it started.
    expires_at: DateTime<Utc>,
    /// The member whose portal it shows.
    profile: Profile,
}

#[derive(Default)]
pub(super) struct ImpersonationMutation;

#[Object]
impl ImpersonationMutation {
    /// Opens a read-only member session for the profile, to see the portal as the member
    /// does. Audited on the profile as PORTAL_IMPERSONATION_STARTED, and shown to the member
    /// in `me { recentAccess }`. Needs IMPERSONATE_MEMBERS.
    #[graphql(guard = "Require::Right(Right::ImpersonateMembers)")]
    async fn start_portal_impersonation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member's profile.")] profile_id: ID,
    ) -> Result<StartPortalImpersonationPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let id = crate::graphql::ids::profile_id(&profile_id)?;
        let started = impersonation::start(svc, principal, meta, id).await?;
        Ok(StartPortalImpersonationPayload {
            impersonation: PortalImpersonation {
                token: started.token.expose().to_owned(),
                expires_at: started.expires_at,
                profile: Profile(started.profile),
            },
        })
    }
}
