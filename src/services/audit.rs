//! Reading the audit log.

use super::{Principal, Services};
use crate::domain::{AuditRecord, Right};
use crate::error::{AppError, AppResult};
use crate::store;

pub struct AuditPage {
    pub events: Vec<AuditRecord>,
    pub has_next_page: bool,
}

pub async fn page(
    svc: &Services,
    principal: &Principal,
    profile_id: Option<&str>,
    first: Option<i32>,
    after: Option<&str>,
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
    let before = match after {
        None | Some("") => None,
        Some(raw) => Some(raw.parse::<i64>().map_err(|_| AppError::BadUserInput {
            field: "after".into(),
            message: "is not a cursor from this list; start again without `after`".into(),
        })?),
    };
    let mut events = store::audit::page(&svc.db, profile, before, first + 1).await?;
    let has_next_page = events.len() as u64 > first;
    events.truncate(first as usize);
    Ok(AuditPage {
        events,
        has_next_page,
    })
}
