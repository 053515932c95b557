//! What erasing a person and the retention limits change in the records that stay: delivery
//! rows keep their status and counts but lose the address, the message and the provider's
//! words; audit rows keep their action and time but lose what named the person.

use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use super::sql::{Sql, contains_pattern};
use crate::domain::{DeliveryStatus, ProfileId, SkipReason};

/// The columns of a delivery row that can name or reach a person, cleared by
/// [`erase_deliveries_of`] and [`forget_old_deliveries`].
const FORGET_DELIVERY: &str = "to_address = NULL, payload = NULL, last_error = NULL, \
     provider_message_id = NULL, credential_token_id = NULL";

/// Clears the personal part of every message to `profile`, and the rows stop pointing at it.
/// A message still queued ends as skipped (PROFILE_REMOVED), so nothing is sent to an erased
/// person; one being sent right now may still leave, as it would have a moment earlier.
/// Returns the rows changed.
pub async fn erase_deliveries_of(
    db: &impl ConnectionTrait,
    profile: ProfileId,
) -> StoreResult<u64> {
    let queued = DeliveryStatus::Queued.as_db();
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("UPDATE outbound_emails SET ")
        .push(FORGET_DELIVERY)
        .push(", skip_reason = CASE WHEN status = ")
        .param(queued)
        .push(" THEN ")
        .param(SkipReason::ProfileRemoved.as_db())
        .push(" ELSE skip_reason END, next_attempt_at = CASE WHEN status = ")
        .param(queued)
        .push(" THEN NULL ELSE next_attempt_at END, status = CASE WHEN status = ")
        .param(queued)
        .push(" THEN ")
        .param(DeliveryStatus::Skipped.as_db())
        .push(" ELSE status END, profile_id = NULL WHERE profile_id = ")
        .param(profile.get());
    Ok(db.execute_raw(sql.build()).await?.rows_affected())
}

/// Clears the personal part of up to `limit` ended deliveries of mass communications that
/// finished before `before`: they also stop pointing at their profile, and their spent
/// set-password links (which name the profile) are deleted. A delivery whose link still works
/// waits until it no longer does. The status counts of each communication stay; its link
/// states go with the people. Returns the rows changed: fewer than `limit` means none are left.
pub async fn forget_old_deliveries(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
    limit: u64,
) -> StoreResult<u64> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "SELECT o.id FROM outbound_emails o \
         JOIN mass_communications m ON m.id = o.mass_communication_id \
         WHERE m.finished_at < ",
    )
    .param(before)
    .push(" AND o.profile_id IS NOT NULL AND o.status IN (");
    sql.list(DeliveryStatus::ENDED.iter().map(|status| status.as_db()));
    sql.push(
        ") AND NOT EXISTS (SELECT 1 FROM credential_tokens t WHERE t.outbound_email_id = o.id \
         AND t.used_at IS NULL AND t.invalidated_at IS NULL AND t.expires_at > ",
    )
    .param(now)
    .push(") ORDER BY o.id LIMIT ")
    .param(limit as i64);
    let rows = db.query_all_raw(sql.build()).await?;
    let ids = rows
        .iter()
        .map(|r| r.try_get::<i64>("", "id"))
        .collect::<Result<Vec<_>, _>>()?;
    if ids.is_empty() {
        return Ok(0);
    }
    let in_list = |sql: &mut Sql| {
        sql.list(ids.iter().copied());
    };
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("DELETE FROM credential_tokens WHERE outbound_email_id IN (");
    in_list(&mut sql);
    sql.push(")");
    db.execute_raw(sql.build()).await?;
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("UPDATE outbound_emails SET ")
        .push(FORGET_DELIVERY)
        .push(", profile_id = NULL WHERE id IN (");
    in_list(&mut sql);
    sql.push(")");
    Ok(db.execute_raw(sql.build()).await?.rows_affected())
}

/// Deletes up to `limit` of the oldest audit rows, of those that occurred before `before`.
/// Only the `limit` first rows by ID are looked at, so a sweep with nothing to do reads no
/// more than that: rows are written in time order, and one written out of order simply waits
/// for the rows before it. Returns the rows deleted.
pub async fn delete_old_audit(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
    limit: u64,
) -> StoreResult<u64> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "DELETE FROM audit_events WHERE id IN (SELECT id FROM \
         (SELECT id, occurred_at FROM audit_events ORDER BY id LIMIT ",
    )
    .param(limit as i64)
    .push(") head WHERE occurred_at < ")
    .param(before)
    .push(")");
    Ok(db.execute_raw(sql.build()).await?.rows_affected())
}

/// An audit row that names or concerns a person about to be erased.
#[derive(Debug, Clone)]
pub struct AuditAbout {
    pub id: i64,
    /// Whether a staff user acted (their own client IP is theirs, not the person's).
    pub by_staff: bool,
    pub detail: Option<String>,
}

/// The audit rows about `profile`, by it, or whose detail mentions one of `mentions` (an
/// address or username, in any case). The mentions are found by a scan of the log, which
/// an erasure, being rare, can afford.
pub async fn audit_about(
    db: &impl ConnectionTrait,
    profile: ProfileId,
    mentions: &[String],
) -> StoreResult<Vec<AuditAbout>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT id, actor_staff_id, detail FROM audit_events WHERE profile_id = ")
        .param(profile.get())
        .push(" OR actor_profile_id = ")
        .param(profile.get());
    for m in mentions.iter().filter(|m| !m.is_empty()) {
        sql.push(" OR lower(detail) LIKE ")
            .param(contains_pattern(&m.to_lowercase()))
            .push(" ESCAPE '\\'");
    }
    sql.push(" ORDER BY id");
    let rows = db.query_all_raw(sql.build()).await?;
    rows.iter()
        .map(|r| {
            Ok(AuditAbout {
                id: r.try_get("", "id")?,
                by_staff: r.try_get::<Option<i64>>("", "actor_staff_id")?.is_some(),
                detail: r.try_get("", "detail")?,
            })
        })
        .collect()
}

/// Replaces one audit row's detail; without `keep_ip`, also clears its client IP.
pub async fn rewrite_audit(
    db: &impl ConnectionTrait,
    id: i64,
    detail: Option<String>,
    keep_ip: bool,
) -> StoreResult<()> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("UPDATE audit_events SET detail = ").param(detail);
    if !keep_ip {
        sql.push(", client_ip = NULL");
    }
    sql.push(" WHERE id = ").param(id);
    db.execute_raw(sql.build()).await?;
    Ok(())
}
