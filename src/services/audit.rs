//! Reading the audit log.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use super::{Principal, Services};
use crate::domain::{AuditAction, AuditFilter, AuditRecord, NewAuditEvent, ProfileId, Right};
use crate::error::{AppError, AppResult};
use crate::store;

pub struct AuditPage {
    pub events: Vec<AuditRecord>,
    pub has_next_page: bool,
    /// The usernames of the staff users who acted on this page, by staff user ID.
    pub staff_names: HashMap<i64, String>,
}

/// What a caller asks the log for, as typed at the API: parsed here, so a bad profile ID or
/// an unknown action is a clear input error.
#[derive(Default)]
pub struct AuditQuery<'a> {
    pub profile_id: Option<ProfileId>,
    pub action: Option<&'a str>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl AuditQuery<'_> {
    fn parse(&self) -> AppResult<AuditFilter> {
        let profile = self.profile_id;
        let action = self
            .action
            .map(|a| {
                AuditAction::from_str(a.trim()).map_err(|_| AppError::BadUserInput {
                    field: "action".into(),
                    message: format!("{a:?} is not an audit action; `auditActions` lists them"),
                })
            })
            .transpose()?;
        if let (Some(s), Some(u)) = (self.since, self.until)
            && u <= s
        {
            return Err(AppError::BadUserInput {
                field: "until".into(),
                message: "must be later than `since`".into(),
            });
        }
        Ok(AuditFilter {
            profile,
            action,
            since: self.since,
            until: self.until,
        })
    }
}

/// A page of events, newest first, after the event with ID `after` (exclusive).
pub async fn page(
    svc: &Services,
    principal: &Principal,
    query: &AuditQuery<'_>,
    first: Option<i32>,
    after: Option<i64>,
) -> AppResult<AuditPage> {
    principal.require(Right::ViewAuditLog)?;
    let filter = query.parse()?;
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
    let mut events = store::audit::page(&svc.db, &filter, after, first + 1).await?;
    let has_next_page = events.len() as u64 > first;
    events.truncate(first as usize);
    let mut actors: Vec<i64> = events.iter().filter_map(|e| e.actor_staff_id).collect();
    actors.sort_unstable();
    actors.dedup();
    let staff_names = store::staff::usernames(&svc.db, &actors).await?;
    Ok(AuditPage {
        events,
        has_next_page,
        staff_names,
    })
}

/// How many events a query covers.
pub async fn count(
    svc: &Services,
    principal: &Principal,
    query: &AuditQuery<'_>,
) -> AppResult<u64> {
    principal.require(Right::ViewAuditLog)?;
    Ok(store::audit::count(&svc.db, &query.parse()?).await?)
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
