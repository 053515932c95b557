//! The audit log.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::cursor::{self, AuditCursor};
use super::types::{PageInfo, Profile};
use super::{Require, parts};
use crate::domain::{self, Right};
use crate::services::audit as svc_audit;

/// One recorded action, with the acting staff user's username when one acted.
pub(super) struct AuditEvent(pub domain::AuditRecord, Option<String>);

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
        self.0.action.as_db()
    }
    /// Who did it: `STAFF`, `MEMBER`, `SYSTEM` or `ANONYMOUS`.
    async fn actor_kind(&self) -> &str {
        &self.0.actor_kind
    }
    /// The staff user who did it, if a staff user did.
    async fn actor_staff_id(&self) -> Option<ID> {
        self.0.actor_staff_id.map(|i| ID(i.to_string()))
    }
    /// The username of the staff user who did it, if a staff user did and still exists.
    async fn actor_username(&self) -> Option<&str> {
        self.1.as_deref()
    }
    /// The profile the event is about, if any.
    async fn profile_id(&self) -> Option<ID> {
        self.0.profile_id.map(|i| ID(i.to_string()))
    }
    /// The profile the event is about, if any and if it still exists (an audit screen shows
    /// its name rather than its ID). Read in one batch for a page of events.
    async fn profile(&self, ctx: &Context<'_>) -> Result<Option<Profile>> {
        let Some(id) = self.0.profile_id else {
            return Ok(None);
        };
        let found = super::loaders(ctx)?
            .profile
            .load_one(domain::ProfileId::from_db(id))
            .await?;
        Ok(found.flatten().map(Profile))
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

/// One audit event in a connection.
#[derive(SimpleObject)]
pub(super) struct AuditEventEdge {
    /// Where this edge sits; pass it as `after` to continue behind it.
    cursor: String,
    /// The event.
    node: AuditEvent,
}

/// A page of audit events, newest first.
pub(super) struct AuditEventConnection {
    events: Vec<domain::AuditRecord>,
    staff_names: std::collections::HashMap<i64, String>,
    has_next_page: bool,
    has_previous_page: bool,
    filter: Filter,
}

/// The query's filter as given, for `totalCount`.
struct Filter {
    profile_id: Option<crate::domain::ProfileId>,
    action: Option<String>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
}

impl Filter {
    fn query(&self) -> svc_audit::AuditQuery<'_> {
        svc_audit::AuditQuery {
            profile_id: self.profile_id,
            action: self.action.as_deref(),
            since: self.since,
            until: self.until,
        }
    }
}

/// A page of audit events, newest first.
#[Object]
impl AuditEventConnection {
    /// The events on this page with their cursors.
    async fn edges(&self) -> Vec<AuditEventEdge> {
        self.events
            .iter()
            .map(|e| AuditEventEdge {
                cursor: cursor::encode(&AuditCursor(e.id)),
                node: AuditEvent(
                    e.clone(),
                    e.actor_staff_id
                        .and_then(|id| self.staff_names.get(&id).cloned()),
                ),
            })
            .collect()
    }
    /// Paging facts.
    async fn page_info(&self) -> PageInfo {
        let cursor_of = |e: &domain::AuditRecord| cursor::encode(&AuditCursor(e.id));
        PageInfo {
            has_next_page: self.has_next_page,
            has_previous_page: self.has_previous_page,
            start_cursor: self.events.first().map(cursor_of),
            end_cursor: self.events.last().map(cursor_of),
        }
    }
    /// How many events match the query's filters in all. Counted only when asked for.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        let (svc, principal, _) = parts(ctx)?;
        Ok(svc_audit::count(svc, principal, &self.filter.query()).await?)
    }
}

#[derive(Default)]
pub(super) struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Audit events, newest first, optionally only those about one profile, of one action,
    /// or within a time range. Needs the VIEW_AUDIT_LOG right.
    #[graphql(guard = "Require::Right(Right::ViewAuditLog)")]
    #[allow(clippy::too_many_arguments)]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only events about this profile.")] profile_id: Option<ID>,
        #[graphql(desc = "Only events of this action, one of `auditActions`.")] action: Option<
            String,
        >,
        #[graphql(desc = "Only events at or after this moment.")] since: Option<DateTime<Utc>>,
        #[graphql(desc = "Only events before this moment.")] until: Option<DateTime<Utc>>,
        #[graphql(default = 50, desc = "Page size, 1 to 100; 50 when left out.")] first: Option<
            i32,
        >,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<AuditEventConnection> {
        let (svc, principal, _) = parts(ctx)?;
        let after = cursor::parse_after::<AuditCursor>(after.as_deref())?;
        let filter = Filter {
            profile_id: profile_id
                .map(|id| crate::graphql::ids::profile_id(&id))
                .transpose()?,
            action,
            since,
            until,
        };
        let page =
            svc_audit::page(svc, principal, &filter.query(), first, after.map(|c| c.0)).await?;
        Ok(AuditEventConnection {
            events: page.events,
            staff_names: page.staff_names,
            has_next_page: page.has_next_page,
            has_previous_page: after.is_some(),
            filter,
        })
    }

    /// Every action the audit log records, for a filter's choices. Needs the VIEW_AUDIT_LOG
    /// right.
    #[graphql(guard = "Require::Right(Right::ViewAuditLog)")]
    async fn audit_actions(&self) -> Vec<&'static str> {
        domain::AuditAction::ALL.iter().map(|a| a.as_db()).collect()
    }
}
