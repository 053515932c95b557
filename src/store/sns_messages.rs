//! The MessageIds of provider reports already applied (`sns_messages`), so a report SNS
//! delivers twice, or one replayed later, changes nothing the second time.

use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use super::sql::Sql;

/// Records `message_id` as applied now; false when it was seen before.
pub async fn first_time(
    db: &impl ConnectionTrait,
    message_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("INSERT INTO sns_messages (message_id, received_at) VALUES (")
        .param(message_id)
        .push(", ")
        .param(now)
        .push(") ON CONFLICT (message_id) DO NOTHING");
    Ok(db.execute_raw(sql.build()).await?.rows_affected() == 1)
}

/// Forgets MessageIds received before `before`.
pub async fn prune(db: &impl ConnectionTrait, before: DateTime<Utc>) -> StoreResult<u64> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("DELETE FROM sns_messages WHERE received_at < ")
        .param(before);
    Ok(db.execute_raw(sql.build()).await?.rows_affected())
}
