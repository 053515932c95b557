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
    let model = outbound_email::ActiveModel {
        kind: Set(new.kind.to_owned()),
        mass_communication_id: Set(new.mass_communication_id),
        profile_id: Set(new.profile_id.map(|p| p.get())),
        to_address: Set(Some(new.to_address.to_owned())),
        status: Set(status::QUEUED.to_owned()),
        skip_reason: Set(None),
        payload: Set(Some(new.payload.to_string())),
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
    .insert(db)
    .await?;
    Ok(model.id)
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
    sql.push("UPDATE outbound_emails SET possible_duplicate = (possible_duplicate OR status = ")
        .param(status::SENDING)
        .push("), status = ")
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
    sql.push("UPDATE outbound_emails SET lease_until = NULL, leased_by = NULL, status = ");
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
