//! Sending: a test copy, the communication itself, cancelling and retrying.

use std::collections::HashSet;

use serde_json::json;

use crate::domain::{
    AddressKeys, AuditAction, EmailAddress, MassCommunication, MassCommunicationId, MassPurpose,
    MassStatus, MassTransition, OutboundMessage, ProfileId, Right, SkipReason, search_key,
};
use crate::error::{AppError, AppResult};
use crate::mail::mass::MassTemplate;
use crate::services::{Principal, RequestMeta, Services, audit};
use crate::store::{self, mass::NewDelivery};

use super::{load, recipient_search};

/// Sends the preview to one address, with a sample link that grants nothing.
pub async fn send_test(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    id: MassCommunicationId,
    email: &str,
    profile_id: Option<ProfileId>,
) -> AppResult<String> {
    principal.require(Right::SendMassCommunications)?;
    let to = EmailAddress::parse(email).map_err(|e| AppError::bad_input("email", e))?;
    load(svc, id).await?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    let message = OutboundMessage::MassTest {
        communication: id,
        sample: profile_id,
    };
    store::outbound::enqueue(&txn, &message, None, to.as_str(), now).await?;
    audit::record(
        &txn,
        svc.clock.now(),
        principal
            .audit_event(AuditAction::MassCommunicationTestSent, meta)
            .detail(json!({ "massCommunicationId": id.get() })),
    )
    .await?;
    store::commit(txn).await?;
    svc.wake_delivery();
    Ok(to.to_string())
}

/// Sends the communication: in one transaction it moves from draft to queued and gets one
/// delivery row per recipient (skipped ones with their reason). The delivery worker does the
/// rest. A second click finds it no longer a draft.
pub async fn send(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    id: MassCommunicationId,
) -> AppResult<MassCommunication> {
    principal.require(Right::SendMassCommunications)?;
    let comm = load(svc, id).await?;
    super::sender_still_allowed(svc, &comm)?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    if !store::mass::transition(&txn, id, MassTransition::Send, now).await? {
        return Err(AppError::conflict(format!(
            "only a draft can be sent; this one is {}. Use retryFailedDeliveries to resend failed deliveries",
            comm.status.as_db()
        )));
    }
    let rows = plan_deliveries(svc, &txn, &comm, now).await?;
    let total = rows.len();
    let skipped = rows.iter().filter(|r| r.skip_reason.is_some()).count();
    store::mass::insert_deliveries(&txn, id, rows, now).await?;
    audit::record(
        &txn,
        svc.clock.now(),
        principal
            .audit_event(AuditAction::MassCommunicationSent, meta)
            .detail(
                json!({ "massCommunicationId": id.get(), "recipients": total, "skipped": skipped }),
            ),
    )
    .await?;
    store::commit(txn).await?;
    tracing::info!(
        mass_id = id.get(),
        recipients = total,
        skipped,
        staff_user = principal.staff()?.user.id.get(),
        "mass communication send started"
    );
    svc.wake_delivery();
    load(svc, id).await
}

/// One delivery per profile the communication selects right now, each with the reason it
/// is skipped, if any: what sending stores, and what `send_plan` counts beforehand.
async fn plan_deliveries(
    svc: &Services,
    db: &impl store::Conn,
    comm: &MassCommunication,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Vec<NewDelivery>> {
    let template = MassTemplate::parse(&comm.subject, &comm.html)
        .map_err(|(_, e)| AppError::internal(format!("stored template: {}", e.message)))?;
    let per_profile = template.uses_credentials();
    let news = comm.purpose == MassPurpose::News;
    let search = recipient_search(&comm.recipients)?;
    let ids = store::mass::resolve_recipients(db, &comm.recipients, search.as_ref(), now).await?;
    let mut rows = Vec::with_capacity(ids.len());
    let mut addresses = HashSet::new();
    for chunk in ids.chunks(1000) {
        let profiles = store::profiles::get_many(db, chunk).await?;
        let keys: Vec<AddressKeys> = profiles
            .values()
            .filter_map(|p| p.email.as_deref())
            .map(|e| crate::services::suppressions::keys(svc, e))
            .collect();
        let suppressed = store::suppressions::among(db, &keys).await?;
        for pid in chunk {
            let Some(p) = profiles.get(pid) else { continue };
            let skip = match &p.email {
                None => Some(SkipReason::NoEmailAddress),
                // Opting out leaves news only: credentials and service notices still come.
                Some(_) if news && p.email_opt_out => Some(SkipReason::OptedOut),
                Some(e) if suppressed.contains_key(&search_key(e)) => Some(SkipReason::Suppressed),
                // Without a per-recipient link, two profiles sharing an address would get
                // the same message twice.
                Some(e) if !per_profile && !addresses.insert(search_key(e)) => {
                    Some(SkipReason::DuplicateAddress)
                }
                Some(_) => None,
            };
            rows.push(NewDelivery {
                profile_id: *pid,
                to_address: p.email.clone(),
                skip_reason: skip,
            });
        }
    }
    Ok(rows)
}

/// What sending a draft now would do: how many it reaches, and how many it skips and why.
#[derive(Debug, Clone)]
pub struct SendPlan {
    pub reach: u64,
    /// Each reason with its count, those with none left out, ordered by code.
    pub skipped: Vec<(SkipReason, u64)>,
}

/// The plan of a draft, counted afresh; `None` once it was sent (its counts say the rest).
pub async fn send_plan(
    svc: &Services,
    principal: &Principal,
    id: MassCommunicationId,
) -> AppResult<Option<SendPlan>> {
    principal.require(Right::SendMassCommunications)?;
    let comm = load(svc, id).await?;
    if comm.status != MassStatus::Draft {
        return Ok(None);
    }
    let rows = plan_deliveries(svc, &svc.db, &comm, svc.clock.now()).await?;
    let mut skipped: Vec<(SkipReason, u64)> = Vec::new();
    for reason in rows.iter().filter_map(|r| r.skip_reason) {
        match skipped.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += 1,
            None => skipped.push((reason, 1)),
        }
    }
    skipped.sort_by_key(|(r, _)| r.as_db());
    let reach = rows.iter().filter(|r| r.skip_reason.is_none()).count() as u64;
    Ok(Some(SendPlan { reach, skipped }))
}

/// Stops a communication: deliveries not yet handed to a worker are cancelled.
pub async fn cancel(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    id: MassCommunicationId,
) -> AppResult<MassCommunication> {
    let refusal = |status: &str| format!("a {status} communication cannot be cancelled");
    apply(svc, principal, meta, id, Change::Cancel, refusal).await
}

/// Sends again to the recipients whose delivery failed, and only to them.
pub async fn retry_failed(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    id: MassCommunicationId,
) -> AppResult<MassCommunication> {
    let refusal = |status: &str| format!("a {status} communication has no deliveries to retry");
    let outcome = apply(svc, principal, meta, id, Change::RetryFailed, refusal).await?;
    svc.wake_delivery();
    Ok(outcome)
}

/// Resumes a communication that paused itself because its deliveries kept failing; its
/// waiting deliveries go out again, and the next outcomes are judged afresh.
pub async fn resume(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    id: MassCommunicationId,
) -> AppResult<MassCommunication> {
    let refusal =
        |status: &str| format!("only a paused communication can be resumed; this one is {status}");
    let outcome = apply(svc, principal, meta, id, Change::Resume, refusal).await?;
    tracing::info!(mass_id = id.get(), "mass communication resumed");
    svc.wake_delivery();
    Ok(outcome)
}

/// What staff do to a communication that is already out.
#[derive(Clone, Copy)]
enum Change {
    Cancel,
    RetryFailed,
    Resume,
}

/// Moves the communication (or says why it cannot move, from its current status), changes
/// its deliveries, and audits how many, in one transaction.
async fn apply(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    id: MassCommunicationId,
    change: Change,
    refusal: impl Fn(&str) -> String,
) -> AppResult<MassCommunication> {
    principal.require(Right::SendMassCommunications)?;
    let comm = load(svc, id).await?;
    let now = svc.clock.now();
    let (transition, action) = match change {
        Change::Cancel => (
            MassTransition::Cancel,
            AuditAction::MassCommunicationCancelled,
        ),
        Change::RetryFailed => (
            MassTransition::RetryFailed,
            AuditAction::MassDeliveriesRetried,
        ),
        Change::Resume => (
            MassTransition::Resume,
            AuditAction::MassCommunicationResumed,
        ),
    };
    let txn = store::begin_write(&svc.db).await?;
    if !store::mass::transition(&txn, id, transition, now).await? {
        return Err(AppError::conflict(refusal(comm.status.as_db())));
    }
    let detail = match change {
        Change::Cancel => {
            let n = store::mass::cancel_pending(&txn, id).await?;
            json!({ "massCommunicationId": id.get(), "cancelled": n })
        }
        Change::RetryFailed => {
            let n = store::mass::retry_failed(&txn, id, now).await?;
            json!({ "massCommunicationId": id.get(), "retried": n })
        }
        Change::Resume => {
            json!({ "massCommunicationId": id.get(), "pauseReason": comm.pause_reason })
        }
    };
    let event = principal.audit_event(action, meta).detail(detail);
    audit::record(&txn, svc.clock.now(), event).await?;
    store::commit(txn).await?;
    load(svc, id).await
}
