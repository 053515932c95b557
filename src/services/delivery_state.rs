//! Whether the mail queue is delivering, and resuming it after the provider refused the
//! account (the worker pauses it; staff resume it once the account or sender is fixed).

use serde_json::json;

use super::{Principal, RequestMeta, Services, audit};
use crate::domain::{AuditAction, DeliveryPause, Right};
use crate::error::AppResult;
use crate::store;

/// The pause in force, if any.
pub async fn current(svc: &Services, principal: &Principal) -> AppResult<Option<DeliveryPause>> {
    principal.require(Right::SendMassCommunications)?;
    Ok(store::delivery_pause::get(&svc.db).await?)
}

/// Resumes delivery. The held messages go out again at once; if the provider still refuses
/// the account, the first of them pauses delivery again. Returns the pause that ended.
pub async fn resume(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
) -> AppResult<Option<DeliveryPause>> {
    principal.require(Right::SendMassCommunications)?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    let ended = store::delivery_pause::resume(&txn).await?;
    if let Some(pause) = &ended {
        audit::record(
            &txn,
            now,
            principal
                .audit_event(AuditAction::DeliveryResumed, meta)
                .detail(json!({ "reason": pause.reason, "pausedSince": pause.since })),
        )
        .await?;
    }
    store::commit(txn).await?;
    svc.wake_delivery();
    Ok(ended)
}
