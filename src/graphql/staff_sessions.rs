//! A staff user's sessions: listing them and ending one, or (MANAGE_STAFF) all of another
//! user's.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::{Require, parts};
use crate::domain::{Right, StaffSessionInfo};
use crate::services::staff::sessions;

/// One signed-in session of the staff user.
pub(super) struct StaffSession {
    row: StaffSessionInfo,
    current: bool,
}

/// One signed-in session of the staff user.
#[Object]
impl StaffSession {
    /// The session's ID, for `revokeStaffSession`.
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }
    /// When it was signed in.
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    /// When it was last used (to the minute: requests within a minute are not recorded
    /// one by one).
    async fn last_used_at(&self) -> DateTime<Utc> {
        self.row.last_seen_at
    }
    /// The client's IP address at sign-in.
    async fn client_ip(&self) -> Option<&str> {
        self.row.client_ip.as_deref()
    }
    /// The browser or tool that signed in, as its User-Agent names it.
    async fn user_agent(&self) -> Option<&str> {
        self.row.user_agent.as_deref()
    }
    /// True for the session making this request.
    async fn current(&self) -> bool {
        self.current
    }
}

#[derive(Default)]
pub(super) struct StaffSessionQuery;

#[Object]
impl StaffSessionQuery {
    /// The signed-in staff user's sessions that still work, most recently used first.
    #[graphql(guard = "Require::Staff")]
    async fn staff_sessions(&self, ctx: &Context<'_>) -> Result<Vec<StaffSession>> {
        let (svc, principal, _) = parts(ctx)?;
        let (rows, current) = sessions::mine(svc, principal).await?;
        Ok(rows
            .into_iter()
            .map(|row| StaffSession {
                current: row.id == current,
                row,
            })
            .collect())
    }
}

/// The result of `revokeStaffSession`.
#[derive(SimpleObject)]
pub(super) struct RevokeStaffSessionPayload {
    /// The ended session's ID.
    revoked_session_id: ID,
}

/// The result of `revokeAllStaffSessions`.
#[derive(SimpleObject)]
pub(super) struct RevokeAllStaffSessionsPayload {
    /// How many sessions ended.
    revoked_count: u64,
}

#[derive(Default)]
pub(super) struct StaffSessionMutation;

#[Object]
impl StaffSessionMutation {
    /// Ends one of your own sessions, e.g. one on a computer you no longer use (your current
    /// one too: that is signing out). NOT_FOUND when you have no session with this ID.
    /// Audited.
    #[graphql(guard = "Require::Staff")]
    async fn revoke_staff_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session's ID from `staffSessions`.")] id: ID,
    ) -> Result<RevokeStaffSessionPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let session_id = crate::graphql::ids::staff_session_id(&id)?;
        sessions::revoke(svc, principal, meta, session_id).await?;
        Ok(RevokeStaffSessionPayload {
            revoked_session_id: id,
        })
    }

    /// Ends every session of another staff user at once (a lost laptop, a departure).
    /// Returns how many were ended. Audited. Needs the MANAGE_STAFF right.
    #[graphql(guard = "Require::Right(Right::ManageStaff)")]
    async fn revoke_all_staff_sessions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The staff user whose sessions to end.")] staff_user_id: ID,
    ) -> Result<RevokeAllStaffSessionsPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let id = crate::graphql::ids::staff_user_id(&staff_user_id, "staffUserId")?;
        let revoked_count = sessions::revoke_all(svc, principal, meta, id).await?;
        Ok(RevokeAllStaffSessionsPayload { revoked_count })
    }
}
