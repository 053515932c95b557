//! The send rate all processes share: one row holding the next free send slot, in
//! microseconds since the Unix epoch. A worker reserves a block of consecutive slots with one
//! atomic update, so N processes together keep to `MEMBERKEY_MAX_SEND_RATE`.

use crate::store::StoreResult;
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr};

use super::sql::Sql;

/// A reserved block of slots: the first slot's time and, on PostgreSQL, the database
/// server's time when it was reserved, both in microseconds since the Unix epoch. On SQLite
/// the timeline is the caller's own clock, and `db_now_us` is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reserved {
    pub first_slot_us: i64,
    pub db_now_us: Option<i64>,
}

/// Reserves `slots` consecutive slots `interval_us` apart, the first no earlier than now.
/// On PostgreSQL "now" is the database server's clock, so processes on hosts whose clocks
/// disagree still share one timeline; on SQLite (one host) it is `local_now_us`.
pub async fn reserve(
    db: &impl ConnectionTrait,
    slots: i64,
    interval_us: i64,
    local_now_us: i64,
) -> StoreResult<Reserved> {
    let span = slots.saturating_mul(interval_us);
    let backend = db.get_database_backend();
    let mut sql = Sql::new(backend);
    match backend {
        DatabaseBackend::Postgres => {
            sql.push(
                "WITH clock AS (SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT AS us) \
                 UPDATE send_rate SET next_slot_us = GREATEST(send_rate.next_slot_us, clock.us) + ",
            )
            .param(span)
            .push(" FROM clock WHERE send_rate.id = 1 RETURNING send_rate.next_slot_us - ")
            .param(span)
            .push(" AS first_slot_us, clock.us AS now_us");
        }
        _ => {
            sql.push("UPDATE send_rate SET next_slot_us = MAX(next_slot_us, ")
                .param(local_now_us)
                .push(") + ")
                .param(span)
                .push(" WHERE id = 1 RETURNING next_slot_us - ")
                .param(span)
                .push(" AS first_slot_us");
        }
    }
    let row = db
        .query_one_raw(sql.build())
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the send_rate row (migration 8 adds it)".into()))?;
    Ok(Reserved {
        first_slot_us: row.try_get("", "first_slot_us")?,
        db_now_us: match backend {
            DatabaseBackend::Postgres => Some(row.try_get("", "now_us")?),
            _ => None,
        },
    })
}
