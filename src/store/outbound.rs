//! The durable mail queue (`outbound_emails`). Requests only insert rows; delivery workers
//! claim due rows under a lease, send them, and record the outcome. A row whose lease ran out
//! (its worker died) is claimed again and marked a possible duplicate.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseBackend, DbErr, Set};

use super::sql::Sql;
use crate::domain::ProfileId;
use crate::entities::outbound_email;

/// Row states.
pub mod status {
    pub const QUEUED: &str = "QUEUED";
    pub const SENDING: &str = "SENDING";
    pub const SENT: &str = "SENT";
    pub const FAILED: &str = "FAILED";
    pub const SKIPPED: &str = "SKIPPED";
    pub const CANCELLED: &str = "CANCELLED";
}

/// Queue row kinds, as stored in `outbound_emails.kind`.
pub mod kind {
    /// The "Forgot Login" email, asked for by the member or sent by staff.
    pub const SET_PASSWORD_LINKS: &str = "SET_PASSWORD_LINKS";
    /// The notice that a password changed.
    pub const PASSWORD_CHANGED: &str = "PASSWORD_CHANGED";
    /// One recipient's copy of a mass communication.
    pub const MASS: &str = "MASS";
    /// A staff member's test copy of a mass communication (sample link, grants nothing).
    pub const MASS_TEST: &str = "MASS_TEST";
}

/// A message to queue.
pub struct NewOutbound<'a> {
    pub kind: &'a str,
    pub profile_id: Option<ProfileId>,
    pub to_address: &'a str,
    pub payload: serde_json::Value,
    pub mass_communication_id: Option<i64>,
}

pub async fn enqueue(
    db: &impl ConnectionTrait,
    new: NewOutbound<'_>,
    now: DateTime<Utc>,
) -> Result<i64, DbErr> {
    let row = RowParts {
        kind: new.kind,
        mass_communication_id: new.mass_communication_id,
        profile_id: new.profile_id,
        to_address: Some(new.to_address.to_owned()),
        payload: Some(new.payload.to_string()),
        skip_reason: None,
    };
    Ok(new_row(row, now).insert(db).await?.id)
}

/// What differs between queue rows; `skip_reason` makes a row SKIPPED instead of QUEUED.
pub(super) struct RowParts<'a> {
    pub kind: &'a str,
    pub mass_communication_id: Option<i64>,
    pub profile_id: Option<ProfileId>,
    pub to_address: Option<String>,
    pub payload: Option<String>,
    pub skip_reason: Option<&'a str>,
}

/// A new queue row, due now.
pub(super) fn new_row(p: RowParts<'_>, now: DateTime<Utc>) -> outbound_email::ActiveModel {
    let state = if p.skip_reason.is_some() {
        status::SKIPPED
    } else {
        status::QUEUED
    };
    outbound_email::ActiveModel {
        kind: Set(p.kind.to_owned()),
        mass_communication_id: Set(p.mass_communication_id),
        profile_id: Set(p.profile_id.map(|id| id.get())),
        to_address: Set(p.to_address),
        status: Set(state.to_owned()),
        skip_reason: Set(p.skip_reason.map(str::to_owned)),
        payload: Set(p.payload),
        credential_token_id: Set(None),
        attempts: Set(0),
        next_attempt_at: Set(Some(now)),
        lease_until: Set(None),
        leased_by: Set(None),
        provider_message_id: Set(None),
        last_error: Set(None),
        possible_duplicate: Set(false),
        created_at: Set(now),
        sent_at: Set(None),
        ..Default::default()
    }
}

/// A row a worker now holds.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub kind: String,
    pub profile_id: Option<ProfileId>,
    pub to_address: Option<String>,
    pub payload: serde_json::Value,
    pub attempts: i32,
    pub possible_duplicate: bool,
    pub mass_communication_id: Option<i64>,
}

/// Whether any row is due or abandoned: a read, so an idle worker's poll takes no write
/// lock (on SQLite a claim transaction would block every request's write while it runs).
pub async fn any_due(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT 1 AS due FROM outbound_emails WHERE (status = ")
        .param(status::QUEUED)
        .push(" AND next_attempt_at <= ")
        .param(now)
        .push(") OR (status = ")
        .param(status::SENDING)
        .push(" AND lease_until < ")
        .param(now)
        .push(") LIMIT 1");
    Ok(db.query_one_raw(sql.build()).await?.is_some())
}

/// Which rows a claim takes.
#[derive(Debug, Clone, Copy)]
pub enum Due {
    /// Single messages (resets, notices): they go ahead of any mass send.
    System,
    /// Any queued row.
    Any,
    /// Rows whose worker's lease ran out.
    Abandoned,
}

/// Leases up to `limit` due rows to `worker` until `lease_until`. On PostgreSQL concurrent
/// workers skip each other's rows (`FOR UPDATE SKIP LOCKED`); on SQLite the write
/// transaction already serialises them.
pub async fn claim(
    db: &impl ConnectionTrait,
    due: Due,
    worker: &str,
    lease_until: DateTime<Utc>,
    limit: u64,
    now: DateTime<Utc>,
) -> Result<Vec<Claimed>, DbErr> {
    let backend = db.get_database_backend();
    let mut sql = Sql::new(backend);
    // A row taken over from a dead worker may have gone out only if that worker had handed it
    // to the provider and recorded no outcome.
    sql.push("UPDATE outbound_emails SET possible_duplicate = (possible_duplicate OR (status = ")
        .param(status::SENDING)
        .push(" AND handed_over_at IS NOT NULL)), handed_over_at = NULL, status = ")
        .param(status::SENDING)
        .push(", lease_until = ")
        .param(lease_until)
        .push(", leased_by = ")
        .param(worker)
        .push(", attempts = attempts + 1 WHERE id IN (SELECT id FROM outbound_emails WHERE ");
    match due {
        Due::System => {
            sql.push("mass_communication_id IS NULL AND status = ")
                .param(status::QUEUED)
                .push(" AND next_attempt_at <= ")
                .param(now)
                .push(" ORDER BY next_attempt_at");
        }
        Due::Any => {
            sql.push("status = ")
                .param(status::QUEUED)
                .push(" AND next_attempt_at <= ")
                .param(now)
                .push(" ORDER BY next_attempt_at");
        }
        Due::Abandoned => {
            sql.push("status = ")
                .param(status::SENDING)
                .push(" AND lease_until < ")
                .param(now)
                .push(" ORDER BY lease_until");
        }
    }
    sql.push(" LIMIT ").param(limit as i64);
    if backend == DatabaseBackend::Postgres {
        sql.push(" FOR UPDATE SKIP LOCKED");
    }
    sql.push(") RETURNING id, kind, profile_id, to_address, payload, attempts, possible_duplicate, mass_communication_id");
    let rows = db.query_all_raw(sql.build()).await?;
    let mut claimed = rows
        .into_iter()
        .map(|r| {
            let payload: Option<String> = r.try_get("", "payload")?;
            Ok(Claimed {
                id: r.try_get("", "id")?,
                kind: r.try_get("", "kind")?,
                profile_id: r
                    .try_get::<Option<i64>>("", "profile_id")?
                    .map(ProfileId::from_db),
                to_address: r.try_get("", "to_address")?,
                payload: payload
                    .and_then(|p| serde_json::from_str(&p).ok())
                    .unwrap_or(serde_json::Value::Null),
                attempts: r.try_get("", "attempts")?,
                possible_duplicate: r.try_get("", "possible_duplicate")?,
                mass_communication_id: r.try_get("", "mass_communication_id")?,
            })
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    claimed.sort_by_key(|c| c.id);
    Ok(claimed)
}

/// Marks held rows as being handed to the provider now. Rows no longer held by `worker` are
/// left alone.
pub async fn mark_handed_over(
    db: &impl ConnectionTrait,
    ids: &[i64],
    worker: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("UPDATE outbound_emails SET handed_over_at = ")
        .param(now)
        .push(" WHERE leased_by = ")
        .param(worker)
        .push(" AND id IN (");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.param(*id);
    }
    sql.push(")");
    db.execute_raw(sql.build()).await?;
    Ok(())
}

/// How a held row ends (or waits).
#[derive(Debug, Clone)]
pub enum Outcome {
    Sent {
        provider_message_id: String,
    },
    /// Try again at `at`; `maybe_sent` marks the row a possible duplicate, because the
    /// provider may have taken this attempt.
    Retry {
        at: DateTime<Utc>,
        error: String,
        maybe_sent: bool,
    },
    Failed {
        error: String,
    },
    Skipped {
        reason: &'static str,
    },
}

/// Records what happened to a row this worker holds. `false` when the lease was lost (another
/// worker took the row over), in which case nothing is written.
pub async fn finish(
    db: &impl ConnectionTrait,
    id: i64,
    worker: &str,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "UPDATE outbound_emails SET lease_until = NULL, leased_by = NULL, handed_over_at = NULL, status = ",
    );
    match outcome {
        Outcome::Sent {
            provider_message_id,
        } => {
            sql.param(status::SENT)
                .push(", provider_message_id = ")
                .param(provider_message_id.as_str())
                .push(", sent_at = ")
                .param(now)
                .push(", last_error = NULL");
        }
        Outcome::Retry {
            at,
            error,
            maybe_sent,
        } => {
            sql.param(status::QUEUED)
                .push(", next_attempt_at = ")
                .param(*at)
                .push(", last_error = ")
                .param(error.as_str());
            if *maybe_sent {
                sql.push(", possible_duplicate = ").param(true);
            }
        }
        Outcome::Failed { error } => {
            sql.param(status::FAILED)
                .push(", last_error = ")
                .param(error.as_str());
        }
        Outcome::Skipped { reason } => {
            sql.param(status::SKIPPED)
                .push(", skip_reason = ")
                .param(*reason);
        }
    }
    sql.push(" WHERE id = ")
        .param(id)
        .push(" AND status = ")
        .param(status::SENDING)
        .push(" AND leased_by = ")
        .param(worker);
    Ok(db.execute_raw(sql.build()).await?.rows_affected() == 1)
}
