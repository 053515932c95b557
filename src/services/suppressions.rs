//! The suppression list as staff see it: which addresses bounced for good or complained,
//! and clearing one once the mailbox works again (audited).

use serde_json::json;

use super::{Principal, RequestMeta, Services, audit};
use crate::domain::{AddressKeys, AuditAction, Right, Suppression, SuppressionReason};
use crate::error::{AppError, AppResult};
use crate::store;

/// The keys the list may hold `address` under: its own, and its erased owner's pseudonym.
pub fn keys(svc: &Services, address: &str) -> AddressKeys {
    AddressKeys::new(address, svc.vault.pseudonyms())
}

/// The most suppressions one page holds.
pub const MAX_PAGE: u64 = 100;

/// The suppression of one address, if it is suppressed.
pub async fn get(
    svc: &Services,
    principal: &Principal,
    address: &str,
) -> AppResult<Option<Suppression>> {
    principal.require(Right::ManageProfiles)?;
    Ok(store::suppressions::get(&svc.db, &keys(svc, address)).await?)
}

/// One page of the list, newest first, each with its position, and whether more follow.
pub async fn page(
    svc: &Services,
    principal: &Principal,
    contains: Option<&str>,
    before: Option<i64>,
    first: i32,
) -> AppResult<(Vec<(i64, Suppression)>, bool)> {
    principal.require(Right::ManageProfiles)?;
    let limit = (first.max(1) as u64).min(MAX_PAGE);
    let mut rows = store::suppressions::list(&svc.db, contains, before, limit + 1).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

/// Takes an address off the list so mail goes to it again. Returns what was cleared.
pub async fn clear(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    address: &str,
) -> AppResult<Suppression> {
    principal.require(Right::ManageProfiles)?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    let cleared = store::suppressions::remove(&txn, &keys(svc, address))
        .await?
        .ok_or_else(|| AppError::not_found("suppression for the address", address))?;
    audit::record(
        &txn,
        now,
        principal
            .audit_event(AuditAction::EmailSuppressionCleared, meta)
            .detail(json!({
                "address": cleared.address,
                "reason": cleared.reason.as_db(),
                "since": cleared.created_at,
            })),
    )
    .await?;
    store::commit(txn).await?;
    Ok(cleared)
}

/// Refuses account mail to an address that bounced for good: the provider would bounce it
/// again, and staff must hear about it rather than believe it was sent. A complaint does not
/// stop account mail; it opts the member out of mass mail only.
pub async fn refuse_bounced(svc: &Services, db: &impl store::Conn, address: &str) -> AppResult<()> {
    match store::suppressions::get(db, &keys(svc, address)).await? {
        Some(s) if s.reason == SuppressionReason::Bounce => Err(AppError::AddressSuppressed {
            address: s.address,
            since: s.created_at,
            detail: s.detail,
        }),
        _ => Ok(()),
    }
}
