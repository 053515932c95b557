//! Where a communication stands: its status moves, what is still pending, and finishing it.

use crate::store::StoreResult;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::domain::{DeliveryStatus, MassCommunicationId, MassStatus, MassTransition};
use crate::entities::mass_communication;
use crate::store::sql::Sql;
use crate::store::stored;

/// The stored status of each of these communications (a missing one is left out).
pub async fn statuses(
    db: &impl ConnectionTrait,
    ids: &[MassCommunicationId],
) -> StoreResult<HashMap<MassCommunicationId, MassStatus>> {
    let mut out = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT id, status FROM mass_communications WHERE id IN (");
    sql.list(ids.iter().map(|id| id.get()));
    sql.push(")");
    for row in db.query_all_raw(sql.build()).await? {
        let status: String = row.try_get("", "status")?;
        out.insert(
            MassCommunicationId::from_db(row.try_get("", "id")?),
            stored("mass_communications.status", &status)?,
        );
    }
    Ok(out)
}

/// Applies a status move if the communication is in one of the statuses it starts from
/// (so two clicks cannot both send it). Returns whether it moved.
pub async fn transition(
    db: &impl ConnectionTrait,
    id: MassCommunicationId,
    transition: MassTransition,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    use sea_orm::sea_query::Expr;
    let to = transition.to();
    let mut update = mass_communication::Entity::update_many()
        .col_expr(mass_communication::Column::Status, Expr::value(to.as_db()))
        .col_expr(mass_communication::Column::UpdatedAt, Expr::value(now));
    match to {
        MassStatus::Queued => {
            update = update.col_expr(mass_communication::Column::QueuedAt, Expr::value(now))
        }
        MassStatus::Cancelled | MassStatus::Sent | MassStatus::Failed => {
            update = update.col_expr(mass_communication::Column::FinishedAt, Expr::value(now))
        }
        MassStatus::Draft | MassStatus::Sending | MassStatus::Paused => {}
    }
    if transition == MassTransition::Resume {
        // A fresh start: the reason is gone and the next outcomes are judged anew.
        update = update
            .col_expr(
                mass_communication::Column::PauseReason,
                Expr::value(Option::<String>::None),
            )
            .col_expr(mass_communication::Column::OutcomesSeen, Expr::value(0))
            .col_expr(mass_communication::Column::WindowFailures, Expr::value(0))
            .col_expr(mass_communication::Column::FailureStreak, Expr::value(0));
    }
    let from = transition.from().iter().map(|s| s.as_db());
    let result = update
        .filter(mass_communication::Column::Id.eq(id.get()))
        .filter(mass_communication::Column::Status.is_in(from))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The communications still queued or sending (of `only`, when given): the ones a finish
/// may be due for.
pub async fn in_flight(
    db: &impl ConnectionTrait,
    only: Option<&[MassCommunicationId]>,
) -> StoreResult<Vec<MassCommunicationId>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT id FROM mass_communications WHERE status IN (")
        .param(MassStatus::Queued.as_db())
        .push(", ")
        .param(MassStatus::Sending.as_db())
        .push(")");
    if let Some(ids) = only {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        sql.push(" AND id IN (");
        sql.list(ids.iter().map(|id| id.get()));
        sql.push(")");
    }
    db.query_all_raw(sql.build())
        .await?
        .into_iter()
        .map(|row| row.try_get("", "id").map(MassCommunicationId::from_db))
        .collect::<Result<_, _>>()
        .map_err(Into::into)
}

/// Whether any delivery of the communication has `status`, without counting.
pub(super) async fn any_delivery(
    db: &impl ConnectionTrait,
    mass_id: MassCommunicationId,
    statuses: &[DeliveryStatus],
) -> StoreResult<bool> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT 1 AS found FROM outbound_emails WHERE mass_communication_id = ")
        .param(mass_id.get());
    let live = statuses.iter().all(|s| s.is_live());
    if live {
        // Live rows, and only they, have a due time. Named, and ordered by, PostgreSQL walks
        // the live-rows-only due index; otherwise its planner read every row of a large send
        // (measured: a sequential scan past 60,000 sent rows, twice a round).
        sql.push(" AND next_attempt_at IS NOT NULL");
    }
    sql.push(" AND status IN (");
    for (i, status) in statuses.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.code(status.as_db());
    }
    sql.push(")");
    if live {
        sql.push(" ORDER BY next_attempt_at");
    }
    sql.push(" LIMIT 1");
    Ok(db.query_one_raw(sql.build()).await?.is_some())
}

/// Whether any delivery of the communication is still queued or being sent.
pub async fn has_pending(
    db: &impl ConnectionTrait,
    mass_id: MassCommunicationId,
) -> StoreResult<bool> {
    any_delivery(
        db,
        mass_id,
        &[DeliveryStatus::Queued, DeliveryStatus::Sending],
    )
    .await
}

/// Records the communication as finished if all its deliveries have ended: `SENT`, or
/// `FAILED` when none went out and some failed. Run it in a write transaction: it locks the
/// communication first, so a retry that re-queues deliveries either commits before it looks
/// (and it finds them pending) or waits until it is done. Returns whether it finished it.
pub async fn settle(
    db: &impl ConnectionTrait,
    mass_id: MassCommunicationId,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    use DeliveryStatus::Failed;
    let mut lock = Sql::new(db.get_database_backend());
    lock.push("SELECT id FROM mass_communications WHERE id = ")
        .param(mass_id.get());
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        // SQLite's write transaction already excludes every other writer.
        lock.push(" FOR UPDATE");
    }
    db.query_one_raw(lock.build()).await?;
    if has_pending(db, mass_id).await? {
        return Ok(false);
    }
    let failed = !any_delivery(db, mass_id, &DeliveryStatus::ACCEPTED).await?
        && any_delivery(db, mass_id, &[Failed]).await?;
    transition(db, mass_id, MassTransition::Finish { failed }, now).await
}

/// Cancels the deliveries not yet handed to a worker. Returns how many.
pub async fn cancel_pending(
    db: &impl ConnectionTrait,
    mass_id: MassCommunicationId,
) -> StoreResult<u64> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("UPDATE outbound_emails SET status = ")
        .param(DeliveryStatus::Cancelled.as_db())
        .push(", next_attempt_at = NULL WHERE mass_communication_id = ")
        .param(mass_id.get())
        .push(" AND status = ")
        .param(DeliveryStatus::Queued.as_db());
    Ok(db.execute_raw(sql.build()).await?.rows_affected())
}

/// Queues the failed deliveries again. Returns how many.
pub async fn retry_failed(
    db: &impl ConnectionTrait,
    mass_id: MassCommunicationId,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("UPDATE outbound_emails SET status = ")
        .param(DeliveryStatus::Queued.as_db())
        .push(", next_attempt_at = ")
        .param(now)
        .push(", last_error = NULL WHERE mass_communication_id = ")
        .param(mass_id.get())
        .push(" AND status = ")
        .param(DeliveryStatus::Failed.as_db());
    Ok(db.execute_raw(sql.build()).await?.rows_affected())
}
