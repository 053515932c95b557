//! Scheduled sends: a draft given a time is sent by the server at that time, on behalf of
//! the staff user who scheduled it, exactly as if they had pressed Send then. Until it
//! starts it stays a draft: editable, and its schedule can be changed or removed.
//!
//! Every `serve` process asks every few seconds which drafts are due (`start_due`), so a
//! send due while the server was down starts as soon as it is back. Two processes may ask
//! at once: sending moves a draft on only once, so the other finds it sent.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::{load, send, sender_still_allowed};
use crate::domain::{
    AuditAction, AuditActor, InvalidInput, MassCommunication, MassCommunicationId, MassStatus,
    NewAuditEvent, Right,
};
use crate::error::{AppError, AppResult};
use crate::services::{Principal, RequestMeta, Services, audit};
use crate::store;

/// A scheduled time must leave a moment to change one's mind.
const EARLIEST: Duration = Duration::minutes(1);
/// And lie within a year.
const LATEST: Duration = Duration::days(366);

/// Schedules a draft to send by itself at `send_at`, or with `None` removes its schedule.
pub async fn schedule(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    id: MassCommunicationId,
    send_at: Option<DateTime<Utc>>,
) -> AppResult<MassCommunication> {
    let staff = principal.require(Right::SendMassCommunications)?;
    let comm = load(svc, id).await?;
    let now = svc.clock.now();
    if comm.status != MassStatus::Draft {
        return Err(AppError::conflict(format!(
            "only a draft can be scheduled; this one is {}",
            comm.status.as_db()
        )));
    }
    if let Some(at) = send_at {
        if at < now + EARLIEST {
            return Err(AppError::bad_input(
                "input.sendAt",
                InvalidInput::new("must be at least a minute from now; to send at once, use Send"),
            ));
        }
        if at > now + LATEST {
            return Err(AppError::bad_input(
                "input.sendAt",
                InvalidInput::new("must be within a year from now"),
            ));
        }
        // What would stop the send at its time is said now, while staff are here.
        sender_still_allowed(svc, &comm)?;
    }
    let txn = store::begin_write(&svc.db).await?;
    if !store::mass::set_schedule(&txn, id, send_at, staff.user.id, now).await? {
        return Err(AppError::conflict(
            "it was sent meanwhile; a sent communication has no schedule",
        ));
    }
    audit::record(
        &txn,
        now,
        principal
            .audit_event(AuditAction::MassCommunicationScheduled, meta)
            .detail(json!({ "massCommunicationId": id.get(), "sendAt": send_at })),
    )
    .await?;
    store::commit(txn).await?;
    load(svc, id).await
}

/// Sends every draft whose time has come, each on behalf of who scheduled it. One that
/// cannot start (that user lost the right or was deactivated, the sender is no longer
/// allowed, ...) loses its time and keeps the reason, for staff to see on the draft. A
/// fault of the server's own (the database busy or away) keeps the schedule: the next look
/// tries again, so a passing fault never cancels a campaign. Returns how many started.
pub async fn start_due(svc: &Services) -> AppResult<usize> {
    let now = svc.clock.now();
    let mut started = 0;
    for (id, by) in store::mass::due(&svc.db, now).await? {
        let user = match by {
            Some(by) => store::staff::get(&svc.db, by).await?,
            None => None,
        };
        let outcome = match user {
            Some(user) if user.active && user.has(Right::SendMassCommunications) => {
                let principal = Principal::on_behalf_of(user);
                send(svc, &principal, &RequestMeta::default(), id).await
            }
            Some(user) => Err(AppError::conflict(format!(
                "{} may no longer send mass communications; schedule it again or send it yourself",
                user.username
            ))),
            None => Err(AppError::conflict(
                "the staff user who scheduled it no longer exists; schedule it again or send it yourself",
            )),
        };
        match outcome {
            Ok(_) => started += 1,
            Err(e @ AppError::Internal(_)) => {
                tracing::warn!(mass_id = id.get(), error = %e.log_text(), "a scheduled send could not start; trying again at the next look");
            }
            Err(e) => stopped(svc, id, e).await?,
        }
    }
    Ok(started)
}

/// Records why a due draft did not start, unless another process sent it meanwhile.
async fn stopped(svc: &Services, id: MassCommunicationId, error: AppError) -> AppResult<()> {
    let now = svc.clock.now();
    if load(svc, id).await?.status != MassStatus::Draft {
        return Ok(());
    }
    let problem = error.message();
    tracing::warn!(mass_id = id.get(), error = %error.log_text(), "a scheduled send did not start");
    let txn = store::begin_write(&svc.db).await?;
    if store::mass::give_up(&txn, id, &problem, now).await? {
        // The server's own act: nobody pressed anything at this moment.
        audit::record(
            &txn,
            now,
            NewAuditEvent::new(
                AuditAction::MassCommunicationScheduleFailed,
                AuditActor::System,
                None,
            )
            .detail(json!({ "massCommunicationId": id.get(), "problem": problem })),
        )
        .await?;
    }
    Ok(store::commit(txn).await?)
}
