//! Keys that sign ID tokens (`oidc_signing_keys`). The private key is stored sealed; this
//! module only moves the sealed text.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use super::super::sql::Sql;
use crate::store::StoreResult;

/// A stored signing key.
pub struct KeyRecord {
    pub kid: String,
    pub sealed_private_key: String,
    pub created_at: DateTime<Utc>,
    pub signs_from: DateTime<Utc>,
}

pub async fn insert(db: &impl ConnectionTrait, key: &KeyRecord) -> StoreResult<()> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "INSERT INTO oidc_signing_keys (kid, sealed_private_key, created_at, signs_from) VALUES (",
    )
    .param(key.kid.as_str())
    .push(", ")
    .param(key.sealed_private_key.as_str())
    .push(", ")
    .param(key.created_at)
    .push(", ")
    .param(key.signs_from)
    .push(")");
    db.execute_raw(sql.build()).await?;
    Ok(())
}

/// Every key, the one that signs last first. Ordered by when each starts signing, not when
/// it was made: two keys can be made within one clock tick.
pub async fn all(db: &impl ConnectionTrait) -> StoreResult<Vec<KeyRecord>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "SELECT kid, sealed_private_key, created_at, signs_from FROM oidc_signing_keys \
         ORDER BY signs_from DESC, created_at DESC, kid",
    );
    db.query_all_raw(sql.build())
        .await?
        .into_iter()
        .map(|r| {
            Ok(KeyRecord {
                kid: r.try_get("", "kid")?,
                sealed_private_key: r.try_get("", "sealed_private_key")?,
                created_at: r.try_get("", "created_at")?,
                signs_from: r.try_get("", "signs_from")?,
            })
        })
        .collect()
}

/// Deletes every key that started signing before `keep_from` (retired: a newer key has signed
/// for longer than any token signed by them lives).
pub async fn delete_signing_before(
    db: &impl ConnectionTrait,
    keep_from: DateTime<Utc>,
) -> StoreResult<u64> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("DELETE FROM oidc_signing_keys WHERE signs_from < ")
        .param(keep_from);
    Ok(db.execute_raw(sql.build()).await?.rows_affected())
}
