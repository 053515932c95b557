//! Audit rows. The detail is structured JSON chosen by the caller; it never holds a password
//! or a token.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use crate::entities::audit_event;

/// Who did it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditActor {
    Anonymous,
    Staff(i64),
    Member(i64),
    System,
}

/// One audit event to write.
#[derive(Debug, Clone)]
pub struct NewAuditEvent<'a> {
    pub action: &'a str,
    pub actor: AuditActor,
    pub profile_id: Option<i64>,
    pub target_staff_id: Option<i64>,
    pub client_ip: Option<&'a str>,
    pub detail: Option<serde_json::Value>,
}

impl<'a> NewAuditEvent<'a> {
    /// An event about one profile, with no further detail.
    pub fn about_profile(
        action: &'a str,
        actor: AuditActor,
        profile: crate::domain::ProfileId,
        client_ip: Option<&'a str>,
    ) -> Self {
        Self {
            action,
            actor,
            profile_id: Some(profile.get()),
            target_staff_id: None,
            client_ip,
            detail: None,
        }
    }
}

pub async fn record(
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
    event: NewAuditEvent<'_>,
) -> Result<(), sea_orm::DbErr> {
    let (kind, staff, member) = match event.actor {
        AuditActor::Anonymous => ("ANONYMOUS", None, None),
        AuditActor::Staff(id) => ("STAFF", Some(id), None),
        AuditActor::Member(id) => ("MEMBER", None, Some(id)),
        AuditActor::System => ("SYSTEM", None, None),
    };
    audit_event::ActiveModel {
        occurred_at: Set(at),
        action: Set(event.action.to_owned()),
        actor_kind: Set(kind.to_owned()),
        actor_staff_id: Set(staff),
        actor_profile_id: Set(member),
        profile_id: Set(event.profile_id),
        target_staff_id: Set(event.target_staff_id),
        client_ip: Set(event.client_ip.map(str::to_owned)),
        detail: Set(event.detail.map(|d| d.to_string())),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// How many events there are, for one profile or in all.
pub async fn count(
    db: &impl ConnectionTrait,
    profile: Option<crate::domain::ProfileId>,
) -> Result<u64, sea_orm::DbErr> {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let mut q = audit_event::Entity::find();
    if let Some(p) = profile {
        q = q.filter(audit_event::Column::ProfileId.eq(p.get()));
    }
    q.count(db).await
}

/// Events newest first, with IDs below `before`.
pub async fn page(
    db: &impl ConnectionTrait,
    profile: Option<crate::domain::ProfileId>,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<crate::domain::AuditRecord>, sea_orm::DbErr> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    let mut q = audit_event::Entity::find()
        .order_by_desc(audit_event::Column::Id)
        .limit(limit);
    if let Some(p) = profile {
        q = q.filter(audit_event::Column::ProfileId.eq(p.get()));
    }
    if let Some(b) = before {
        q = q.filter(audit_event::Column::Id.lt(b));
    }
    Ok(q.all(db)
        .await?
        .into_iter()
        .map(|m| crate::domain::AuditRecord {
            id: m.id,
            occurred_at: m.occurred_at,
            action: m.action,
            actor_kind: m.actor_kind,
            actor_staff_id: m.actor_staff_id,
            profile_id: m.profile_id,
            client_ip: m.client_ip,
            detail: m.detail,
        })
        .collect())
}
