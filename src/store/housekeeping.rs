//! Deleting what can never be used again, so no table grows without bound.

use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use super::sql::Sql;
use crate::domain::DeliveryStatus;

/// Deletes set-password tokens (members' and staff users') that expired before `before` and that no kept message refers
/// to. A token minted for a message stays while that message's row does: a mass
/// communication's ledger reads each recipient's link state (used, unused, expired) from it.
/// Until `before`, an old link still answers "expired" or "used" rather than "unknown".
pub async fn delete_expired_tokens(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
) -> StoreResult<u64> {
    let mut sql = Sql::new(db.get_database_backend());
    // A mass communication's links stay with its ledger, until
    // `erasure::forget_old_deliveries` or an erasure removes them; its rows are never deleted
    // while it exists. The purpose written out lets PostgreSQL use its expiry index, which
    // leaves mass links out (migration 20).
    sql.push("DELETE FROM credential_tokens WHERE purpose <> ")
        .code(crate::domain::TokenPurpose::Mass.as_db())
        .push(" AND expires_at <= ")
        .param(before)
        .push(
            " AND (outbound_email_id IS NULL OR NOT EXISTS \
             (SELECT 1 FROM outbound_emails o WHERE o.id = credential_tokens.outbound_email_id))",
        );
    let members = db.execute_raw(sql.build()).await?.rows_affected();
    // Staff links have no ledger to feed: past `before` they simply go.
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("DELETE FROM staff_password_tokens WHERE expires_at <= ")
        .param(before);
    Ok(members + db.execute_raw(sql.build()).await?.rows_affected())
}

/// Deletes account mail (resets, notices, test copies) queued before `before` that has ended. Rows of
/// a mass communication are its ledger and stay as long as it does; rows still queued or
/// being sent are never touched.
pub async fn delete_ended_account_mail(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
) -> StoreResult<u64> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("DELETE FROM outbound_emails WHERE mass_communication_id IS NULL AND status IN (");
    sql.list(DeliveryStatus::ENDED.iter().map(|status| status.as_db()));
    sql.push(") AND created_at < ").param(before);
    Ok(db.execute_raw(sql.build()).await?.rows_affected())
}
