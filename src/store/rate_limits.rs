//! Fixed-window counters in `rate_limit_buckets`, so every process sharing the database
//! shares the limits. One atomic upsert per hit: no read-then-write race.

use crate::store::StoreResult;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use super::sql::Sql;

/// Counts one hit against `key` and returns the hits in the current window, this one
/// included. A window older than `window` starts over at 1.
pub async fn hit(
    db: &impl ConnectionTrait,
    key: &str,
    window: Duration,
    now: DateTime<Utc>,
) -> StoreResult<i32> {
    count(db, key, None, window, now).await
}

/// Counts one failure against `key` and returns the failures in the current window, this
/// one included. The failure that reaches `threshold` restarts the window, so the lock it
/// starts lasts a whole `window`; once that window ends, counting starts over at 1.
pub async fn fail(
    db: &impl ConnectionTrait,
    key: &str,
    threshold: i32,
    window: Duration,
    now: DateTime<Utc>,
) -> StoreResult<i32> {
    count(db, key, Some(threshold), window, now).await
}

/// One atomic upsert: a new or ended window starts at 1, else one more; the window restarts
/// at the hit that reaches `restart_at`.
async fn count(
    db: &impl ConnectionTrait,
    key: &str,
    restart_at: Option<i32>,
    window: Duration,
    now: DateTime<Utc>,
) -> StoreResult<i32> {
    let expired_before = now - window;
    let mut sql = Sql::new(db.get_database_backend());
    // Both SET expressions read the row as it was before this update.
    sql.push("INSERT INTO rate_limit_buckets (bucket_key, window_started_at, hits) VALUES (")
        .param(key)
        .push(", ")
        .param(now)
        .push(", 1) ON CONFLICT (bucket_key) DO UPDATE SET hits = CASE WHEN rate_limit_buckets.window_started_at <= ")
        .param(expired_before)
        .push(" THEN 1 ELSE rate_limit_buckets.hits + 1 END, window_started_at = CASE WHEN rate_limit_buckets.window_started_at <= ")
        .param(expired_before)
        .push(" THEN ")
        .param(now);
    if let Some(threshold) = restart_at {
        sql.push(" WHEN rate_limit_buckets.hits + 1 = ")
            .param(threshold)
            .push(" THEN ")
            .param(now);
    }
    sql.push(" ELSE rate_limit_buckets.window_started_at END RETURNING hits");
    let row = db
        .query_one_raw(sql.build())
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("rate limit bucket".into()))?;
    Ok(row.try_get::<i32>("", "hits")?)
}

/// The hits counted in `key`'s current window, without counting one more.
pub async fn peek(
    db: &impl ConnectionTrait,
    key: &str,
    window: Duration,
    now: DateTime<Utc>,
) -> StoreResult<i32> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT hits FROM rate_limit_buckets WHERE bucket_key = ")
        .param(key)
        .push(" AND window_started_at > ")
        .param(now - window);
    match db.query_one_raw(sql.build()).await? {
        Some(row) => Ok(row.try_get::<i32>("", "hits")?),
        None => Ok(0),
    }
}

/// Forgets one bucket (a success resets its failures).
pub async fn clear(db: &impl ConnectionTrait, key: &str) -> StoreResult<()> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("DELETE FROM rate_limit_buckets WHERE bucket_key = ")
        .param(key);
    db.execute_raw(sql.build()).await?;
    Ok(())
}

/// Forgets every bucket whose key starts with `prefix` (compared exactly, no wildcards).
pub async fn clear_prefix(db: &impl ConnectionTrait, prefix: &str) -> StoreResult<u64> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("DELETE FROM rate_limit_buckets WHERE substr(bucket_key, 1, ")
        .param(prefix.chars().count() as i32)
        .push(") = ")
        .param(prefix);
    Ok(db.execute_raw(sql.build()).await?.rows_affected())
}

/// Forgets windows that ended before `before`, so the table does not grow without bound.
pub async fn prune(db: &impl ConnectionTrait, before: DateTime<Utc>) -> StoreResult<u64> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("DELETE FROM rate_limit_buckets WHERE window_started_at < ")
        .param(before);
    Ok(db.execute_raw(sql.build()).await?.rows_affected())
}
