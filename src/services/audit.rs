//! Reading the audit log.

use super::{Principal, Services};
use crate::domain::{AuditRecord, NewAuditEvent, Right};
use crate::error::{AppError, AppResult};
use crate::store;

pub struct AuditPage {
    pub events: Vec<AuditRecord>,
    pub has_next_page: bool,
}

/// A page of events, newest first, after the event with ID `after` (exclusive).
pub async fn page(
    svc: &Services,
    principal: &Principal,
    profile_id: Option<&str>,
    first: Option<i32>,
    after: Option<i64>,
) -> AppResult<AuditPage> {
    principal.require(Right::ViewAuditLog)?;
    let profile = profile_id
        .map(super::profiles::parse_profile_id)
        .transpose()?;
    let first = match first {
        None => 50,
        Some(n) if (1..=100).contains(&n) => n as u64,
        Some(_) => {
            return Err(AppError::BadUserInput {
                field: "first".into(),
                message: "must be between 1 and 100".into(),
            });
        }
    };
    let mut events = store::audit::page(&svc.db, profile, after, first + 1).await?;
    let has_next_page = events.len() as u64 > first;
    events.truncate(first as usize);
    Ok(AuditPage {
        events,
        has_next_page,
    })
}

/// How many events there are, for one profile or in all.
pub async fn count(
    svc: &Services,
    principal: &Principal,
    profile_id: Option<&str>,
) -> AppResult<u64> {
    principal.require(Right::ViewAuditLog)?;
    let profile = profile_id
        .map(super::profiles::parse_profile_id)
        .transpose()?;
    Ok(store::audit::count(&svc.db, profile).await?)
}

/// Writes one audit event, usually in the use case's own transaction so the event and the
/// change it records commit together. Every use case records through here.
pub async fn record(
    db: &impl store::Conn,
    at: chrono::DateTime<chrono::Utc>,
    event: NewAuditEvent<'_>,
) -> AppResult<()> {
    store::audit::record(db, at, event).await?;
    Ok(())
}
