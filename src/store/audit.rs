//! Audit rows. The detail is structured JSON chosen by the caller; it never holds a password
//! or a token.

use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use crate::domain::{AuditActor, NewAuditEvent};
use crate::entities::audit_event;

/// Writes one audit event.
pub async fn record(
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
    event: NewAuditEvent<'_>,
) -> StoreResult<()> {
    let (staff, member) = match event.actor {
        AuditActor::Staff(id) => (Some(id), None),
        AuditActor::Member(id) => (None, Some(id)),
        AuditActor::Anonymous | AuditActor::System => (None, None),
    };
    audit_event::ActiveModel {
        occurred_at: Set(at),
        action: Set(event.action.as_db().to_owned()),
        actor_kind: Set(event.actor.kind().to_owned()),
        actor_staff_id: Set(staff),
        actor_profile_id: Set(member),
        profile_id: Set(event.profile_id.map(|p| p.get())),
        target_staff_id: Set(event.target_staff_id.map(|s| s.get())),
        client_ip: Set(event.client_ip.map(str::to_owned)),
        detail: Set(event.detail.map(|d| d.to_string())),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The events a filter covers, as a query to count or page.
fn filtered(filter: &crate::domain::AuditFilter) -> sea_orm::Select<audit_event::Entity> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let mut q = audit_event::Entity::find();
    if let Some(p) = filter.profile {
        q = q.filter(audit_event::Column::ProfileId.eq(p.get()));
    }
    if let Some(a) = filter.action {
        q = q.filter(audit_event::Column::Action.eq(a.as_db()));
    }
    if let Some(t) = filter.since {
        q = q.filter(audit_event::Column::OccurredAt.gte(t));
    }
    if let Some(t) = filter.until {
        q = q.filter(audit_event::Column::OccurredAt.lt(t));
    }
    q
}

/// How many events a filter covers.
pub async fn count(
    db: &impl ConnectionTrait,
    filter: &crate::domain::AuditFilter,
) -> StoreResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(filtered(filter).count(db).await?)
}

/// Events newest first, with IDs below `before`.
pub async fn page(
    db: &impl ConnectionTrait,
    filter: &crate::domain::AuditFilter,
    before: Option<i64>,
    limit: u64,
) -> StoreResult<Vec<crate::domain::AuditRecord>> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
    let mut q = filtered(filter)
        .order_by_desc(audit_event::Column::Id)
        .limit(limit);
    if let Some(b) = before {
        q = q.filter(audit_event::Column::Id.lt(b));
    }
    q.all(db)
        .await?
        .into_iter()
        .map(|m| {
            Ok(crate::domain::AuditRecord {
                id: m.id,
                occurred_at: m.occurred_at,
                action: super::stored("audit_events.action", &m.action)?,
                actor_kind: m.actor_kind,
                actor_staff_id: m.actor_staff_id,
                profile_id: m.profile_id,
                client_ip: m.client_ip,
                detail: m.detail,
            })
        })
        .collect()
}
