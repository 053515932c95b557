//! What the mail provider reports back: SES's bounces, complaints and deliveries, posted by
//! SNS to `POST /webhooks/ses`. Only signed messages from the configured topics are read.
//! A permanent bounce or a complaint puts the address on the suppression list; a complaint
//! also opts the profile out of mass mail.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::json;

use super::{RequestMeta, Services, audit, rate_limit};
use crate::domain::{
    AuditAction, AuditActor, NewAuditEvent, ProviderFeedback, Suppression, SuppressionReason,
    search_key,
};
use crate::error::{AppError, AppResult};
use crate::logsafe::Field;
use crate::mail::ses_events;
use crate::mail::sns::{SnsMessage, SnsType, Untrusted};
use crate::store;

/// What became of an accepted notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// A subscription to one of our topics was confirmed.
    SubscriptionConfirmed,
    /// A report was recorded.
    Recorded,
    /// A valid message memberkey does not act on (a send or open event, a transient bounce,
    /// an unsubscribe confirmation, a report about a message it no longer has).
    Ignored,
}

/// Why a notification was not accepted.
#[derive(Debug)]
pub enum Refused {
    /// The body is not an SNS message (400).
    Malformed(String),
    /// Not signed by SNS, or not from one of our topics (403).
    Untrusted(Untrusted),
    /// It was genuine but could not be recorded; SNS retries (500).
    Failed(AppError),
    /// This client sent too many untrusted messages lately (429): it is not checked again,
    /// and no certificate is fetched for it, until its window ends.
    RateLimited,
}

/// Untrusted messages one client (an IPv4 address or IPv6 /64) may send per
/// `MEMBERKEY_LOGIN_IP_WINDOW_MINUTES` before it is refused unchecked. SNS itself never sends
/// one, so real reports are never held back.
const UNTRUSTED_PER_CLIENT: i32 = 20;

/// Messages refused as untrusted since start, for the log line each refusal writes.
static REFUSED: AtomicU64 = AtomicU64::new(0);

/// Reads one SNS HTTP(S) notification from the client `meta` describes.
pub async fn receive_sns(
    svc: &Services,
    meta: &RequestMeta,
    body: &[u8],
) -> Result<Received, Refused> {
    let now = svc.clock.now();
    let refused_key = rate_limit::client_key(meta).map(|c| format!("sns-untrusted:{c}"));
    let window = svc.config.login_ip_window;
    if let Some(key) = &refused_key {
        let seen = store::rate_limits::peek(&svc.db, key, window, now)
            .await
            .map_err(|e| Refused::Failed(e.into()))?;
        if seen >= UNTRUSTED_PER_CLIENT {
            return Err(Refused::RateLimited);
        }
    }
    let msg = SnsMessage::parse(body).map_err(Refused::Malformed)?;
    if let Err(why) = trust(svc, &msg).await {
        let refused = REFUSED.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::warn!(
            refused_since_start = refused,
            topic = %Field(&msg.topic_arn),
            reason = %Field(&why.to_string()),
            "refused an SNS message on /webhooks/ses"
        );
        if let Some(key) = &refused_key {
            store::rate_limits::hit(&svc.db, key, window, now)
                .await
                .map_err(|e| Refused::Failed(e.into()))?;
        }
        return Err(Refused::Untrusted(why));
    }
    match msg.kind {
        SnsType::SubscriptionConfirmation => {
            svc.sns.confirm_subscription(&msg).await.map_err(|e| {
                Refused::Failed(AppError::internal(format!(
                    "confirming the subscription: {e}"
                )))
            })?;
            tracing::info!(topic = %Field(&msg.topic_arn), "confirmed the SNS subscription for SES events");
            Ok(Received::SubscriptionConfirmed)
        }
        SnsType::UnsubscribeConfirmation => {
            tracing::warn!(topic = %Field(&msg.topic_arn), "the SNS subscription for SES events was removed; bounces and complaints no longer arrive");
            Ok(Received::Ignored)
        }
        SnsType::Notification => {
            let feedback =
                ses_events::parse(&msg.message, &msg.message_id).map_err(Refused::Malformed)?;
            match feedback {
                Some(f) => record(svc, &msg.message_id, &f)
                    .await
                    .map_err(Refused::Failed),
                None => Ok(Received::Ignored),
            }
        }
    }
}

async fn trust(svc: &Services, msg: &SnsMessage) -> Result<(), Untrusted> {
    if !svc.config.mail.sns_topics.contains(&msg.topic_arn) {
        return Err(Untrusted::UnknownTopic(msg.topic_arn.clone()));
    }
    svc.sns.verify(msg, svc.clock.now()).await
}

/// Applies one report: the delivery's status, the suppression list, and for a complaint the
/// profiles' opt-out, in one transaction. SNS may deliver one twice, and an old one may be
/// replayed: its MessageId is remembered in the same transaction, and a message seen before
/// changes nothing.
async fn record(svc: &Services, message_id: &str, f: &ProviderFeedback) -> AppResult<Received> {
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    if !store::sns_messages::first_time(&txn, message_id, now).await? {
        tracing::info!(message_id = %Field(message_id), "an SNS message seen before; ignored");
        return Ok(Received::Ignored);
    }
    let row = store::outbound::report(
        &txn,
        &f.provider_message_id,
        f.outbound_id,
        f.report,
        f.detail.as_deref(),
    )
    .await?;
    let profile = row.as_ref().and_then(|r| r.profile_id);
    if let Some(reason) = f.suppresses() {
        for address in &f.recipients {
            let suppression = Suppression {
                address: address.clone(),
                reason,
                detail: f.detail.clone(),
                event_id: Some(f.event_id.clone()),
                outbound_email_id: row.as_ref().map(|r| r.id.get()),
                created_at: now,
            };
            if store::suppressions::add(&txn, &suppression).await? {
                audit::record(
                    &txn,
                    now,
                    NewAuditEvent::new(AuditAction::EmailSuppressed, AuditActor::System, None)
                        .with_profile(profile)
                        .detail(json!({
                            "address": address,
                            "reason": reason.as_db(),
                            "detail": f.detail,
                            "eventId": f.event_id,
                        })),
                )
                .await?;
            }
            if reason == SuppressionReason::Complaint {
                for opted_out in store::profiles::opt_out_by_email(
                    &txn,
                    &search_key(address),
                    crate::domain::OptOutVia::Complaint,
                    now,
                )
                .await?
                {
                    audit::record(
                        &txn,
                        now,
                        NewAuditEvent::new(AuditAction::MassMailOptedOut, AuditActor::System, None)
                            .profile(opted_out)
                            .detail(json!({ "address": address, "eventId": f.event_id })),
                    )
                    .await?;
                }
            }
        }
    }
    store::commit(txn).await?;
    match &row {
        Some(r) => {
            tracing::info!(outbound_id = r.id.get(), report = ?f.report, "provider report recorded")
        }
        None => tracing::info!(
            provider_message_id = %Field(&f.provider_message_id),
            report = ?f.report,
            "provider report for a message memberkey no longer has (or already moved past)"
        ),
    }
    Ok(if row.is_some() || f.suppresses().is_some() {
        Received::Recorded
    } else {
        Received::Ignored
    })
}
