//! The audit log.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::{Require, parts};
use crate::domain::{self, Right};
use crate::services::audit as svc_audit;

/// One recorded action. Never contains a password or a token.
pub struct AuditEvent(pub domain::AuditRecord);

/// One recorded action. Never contains a password or a token.
#[Object]
impl AuditEvent {
    /// The event's ID; later events have larger IDs.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// When it happened.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    /// What happened, e.g. `CREDENTIALS_SET`, `MEMBER_LOGIN_FAILED`, `ACCOUNT_LOCKED`.
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// Who did it: `STAFF`, `MEMBER`, `SYSTEM` or `ANONYMOUS`.
    async fn actor_kind(&self) -> &str {
        &self.0.actor_kind
    }
    /// The staff user who did it, if a staff user did.
    async fn actor_staff_id(&self) -> Option<ID> {
        self.0.actor_staff_id.map(|i| ID(i.to_string()))
    }
    /// The profile the event is about, if any.
    async fn profile_id(&self) -> Option<ID> {
        self.0.profile_id.map(|i| ID(i.to_string()))
    }
    /// The client's IP address.
    async fn client_ip(&self) -> Option<&str> {
        self.0.client_ip.as_deref()
    }
    /// Extra facts as JSON text, e.g. which parts of a credential changed.
    async fn detail(&self) -> Option<&str> {
        self.0.detail.as_deref()
    }
}

/// A page of audit events, newest first.
#[derive(SimpleObject)]
pub struct AuditEventConnection {
    /// The events on this page.
    nodes: Vec<AuditEvent>,
    /// Pass as `after` for the next (older) page; null on the last page.
    end_cursor: Option<String>,
    /// True when older events follow.
    has_next_page: bool,
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Audit events, newest first, optionally for one profile. Needs the VIEW_AUDIT_LOG right.
    #[graphql(guard = "Require::Right(Right::ViewAuditLog)")]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only events about this profile.")] profile_id: Option<ID>,
        #[graphql(default = 50, desc = "Page size, 1 to 100; 50 when left out.")] first: Option<
            i32,
        >,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<AuditEventConnection> {
        let (svc, principal, _) = parts(ctx)?;
        let page = svc_audit::page(
            svc,
            principal,
            profile_id.as_ref().map(|id| id.as_str()),
            first,
            after.as_deref(),
        )
        .await?;
        Ok(AuditEventConnection {
            end_cursor: page
                .has_next_page
                .then(|| page.events.last().map(|e| e.id.to_string()))
                .flatten(),
            has_next_page: page.has_next_page,
            nodes: page.events.into_iter().map(AuditEvent).collect(),
        })
    }
}
