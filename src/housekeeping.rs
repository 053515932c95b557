//! Housekeeping: a periodic sweep in every `serve` process that deletes what can never be
//! used again. It bounds:
//! - sessions (staff and member) to the live ones plus those that ended since the last sweep;
//! - set-password tokens to those a kept message still refers to, and others until
//!   `MEMBERKEY_MAIL_RETENTION_DAYS` after they expired (an old link still says "expired");
//! - rate-limit buckets to windows that have not ended (the longest window is one hour);
//! - the clients accounts signed in from (`sign_in_clients`) to the last
//!   `store::sign_in_clients::KEPT_DAYS` days;
//! - the MessageIds of applied provider reports to the last day;
//! - account mail (resets, notices, test copies) to the ended rows queued within
//!   `MEMBERKEY_MAIL_RETENTION_DAYS`.
//!
//! A mass communication's deliveries and the audit log are records, kept unless retention is
//! set: `MEMBERKEY_RETAIN_DELIVERIES_DAYS` after a communication finished, its deliveries lose
//! their address, profile, message and provider's words (its counts stay);
//! `MEMBERKEY_RETAIN_AUDIT_DAYS` after an audit row was written, it is deleted. Both go in
//! batches of at most `RETENTION_BATCH` rows per sweep, so a first sweep over years of rows
//! never holds the write lock for long; the next sweeps take the rest.
//! Every step is an idempotent DELETE, so processes sharing a database may sweep at once.

use chrono::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::delivery::Context;
use crate::domain::{ProfileId, StaffUserId};
use crate::error::AppResult;
use crate::store;

/// How many rows one sweep deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub sessions: u64,
    pub tokens: u64,
    pub rate_limit_buckets: u64,
    pub account_mail: u64,
    pub sign_in_clients: u64,
    pub sns_messages: u64,
    /// Spent OpenID Connect codes and tokens, and grants left with none.
    pub site_grants: u64,
    /// Mass deliveries past `MEMBERKEY_RETAIN_DELIVERIES_DAYS` that lost their personal part.
    pub deliveries_forgotten: u64,
    /// Audit rows past `MEMBERKEY_RETAIN_AUDIT_DAYS`, deleted.
    pub audit_events: u64,
}

/// The fixed rate-limit windows (Forgot Login per address and in all) are one hour; a bucket
/// older than every window counts nothing.
const FIXED_RATE_WINDOW: Duration = Duration::hours(1);

/// Bounds one sweep's delete of spent site codes and tokens, so a backlog never holds the
/// write lock for long; the next sweep takes the rest.
const SITE_GRANTS_BATCH: u64 = 5_000;

/// Bounds each retention step of one sweep (deliveries forgotten, audit rows deleted).
pub const RETENTION_BATCH: u64 = 5_000;

/// Deletes what has expired, once.
pub async fn sweep(ctx: &Context) -> AppResult<Swept> {
    let now = ctx.clock.now();
    let c = &ctx.config;
    let db = &ctx.db;
    let sessions = store::sessions::delete_dead::<StaffUserId>(db, now, c.staff_session_idle)
        .await?
        + store::sessions::delete_dead::<ProfileId>(db, now, c.member_session_idle).await?;
    let account_mail =
        store::housekeeping::delete_ended_account_mail(db, now - c.mail.retention).await?;
    // After the mail, so tokens of mail deleted just now go in the same sweep.
    let tokens = store::housekeeping::delete_expired_tokens(db, now - c.mail.retention).await?;
    let window = FIXED_RATE_WINDOW
        .max(c.login_ip_window)
        .max(c.lockout_duration);
    let rate_limit_buckets = store::rate_limits::prune(db, now - window).await?;
    let known_for = Duration::days(store::sign_in_clients::KEPT_DAYS);
    let sign_in_clients = store::sign_in_clients::prune(db, now - known_for).await?;
    // Reports older than an hour are refused by their Timestamp; a day is ample.
    let sns_messages = store::sns_messages::prune(db, now - Duration::days(1)).await?;
    let site_grants = store::oidc::grants::prune(db, now, SITE_GRANTS_BATCH).await?;
    let deliveries_forgotten = match c.retain_deliveries {
        Some(keep) => {
            store::erasure::forget_old_deliveries(db, now - keep, now, RETENTION_BATCH).await?
        }
        None => 0,
    };
    let audit_events = match c.retain_audit {
        Some(keep) => store::erasure::delete_old_audit(db, now - keep, RETENTION_BATCH).await?,
        None => 0,
    };
    Ok(Swept {
        sessions,
        tokens,
        rate_limit_buckets,
        account_mail,
        sign_in_clients,
        sns_messages,
        site_grants,
        deliveries_forgotten,
        audit_events,
    })
}

/// Sweeps every `MEMBERKEY_HOUSEKEEPING_MINUTES` until `stop` turns true. A failed sweep is
/// logged and tried again at the next turn.
pub fn spawn(ctx: Context, stop: watch::Receiver<bool>) -> JoinHandle<()> {
    let period = ctx.config.mail.housekeeping_every;
    crate::periodic::spawn(period, stop, move || {
        let ctx = ctx.clone();
        async move {
            match sweep(&ctx).await {
                Ok(swept) => tracing::info!(?swept, "housekeeping swept"),
                Err(e) => {
                    tracing::warn!(error = %e.log_text(), "housekeeping failed; trying again later")
                }
            }
        }
    })
}
