//! The clients each account last signed in from (`sign_in_clients`): while an account is
//! over its failure ceiling, these may still try (see `services::lockout`).

use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use super::sql::Sql;

/// How long a sign-in from a client is remembered: that long, the client counts as one the
/// account signs in from.
pub const KEPT_DAYS: i64 = 90;

/// Records a successful sign-in to `account` from `client`.
pub async fn remember(
    db: &impl ConnectionTrait,
    account: &str,
    client: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("INSERT INTO sign_in_clients (account, client, last_success_at) VALUES (")
        .param(account)
        .push(", ")
        .param(client)
        .push(", ")
        .param(now)
        .push(") ON CONFLICT (account, client) DO UPDATE SET last_success_at = ")
        .param(now);
    db.execute_raw(sql.build()).await?;
    Ok(())
}

/// Whether `account` signed in from `client` since `since`.
pub async fn is_known(
    db: &impl ConnectionTrait,
    account: &str,
    client: &str,
    since: DateTime<Utc>,
) -> StoreResult<bool> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT 1 AS known FROM sign_in_clients WHERE account = ")
        .param(account)
        .push(" AND client = ")
        .param(client)
        .push(" AND last_success_at > ")
        .param(since);
    Ok(db.query_one_raw(sql.build()).await?.is_some())
}

/// Forgets sign-ins older than `before`, so the table does not grow without bound.
pub async fn prune(db: &impl ConnectionTrait, before: DateTime<Utc>) -> StoreResult<u64> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("DELETE FROM sign_in_clients WHERE last_success_at < ")
        .param(before);
    Ok(db.execute_raw(sql.build()).await?.rows_affected())
}

/// Forgets every client `account` signed in from (an erased member's).
pub async fn forget(db: &impl ConnectionTrait, account: &str) -> StoreResult<u64> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("DELETE FROM sign_in_clients WHERE account = ")
        .param(account);
    Ok(db.execute_raw(sql.build()).await?.rows_affected())
}
