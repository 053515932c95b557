//! A draft's scheduled start: when, on whose behalf, and why a start did not happen.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::domain::{MassCommunicationId, MassStatus, StaffUserId};
use crate::entities::mass_communication::{Column, Entity};
use crate::store::StoreResult;

/// Sets (or with `None` removes) when a draft sends by itself, on behalf of `by`, and clears
/// any earlier problem. Returns false when it is no longer a draft.
pub async fn set_schedule(
    db: &impl ConnectionTrait,
    id: MassCommunicationId,
    send_at: Option<DateTime<Utc>>,
    by: StaffUserId,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let result = Entity::update_many()
        .col_expr(Column::SendAt, Expr::value(send_at))
        .col_expr(
            Column::ScheduledByStaffId,
            Expr::value(send_at.map(|_| by.get())),
        )
        .col_expr(Column::ScheduleProblem, Expr::value(Option::<String>::None))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id.get()))
        .filter(Column::Status.eq(MassStatus::Draft.as_db()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Drafts whose time has come, earliest first, each with who scheduled it.
pub async fn due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> StoreResult<Vec<(MassCommunicationId, Option<StaffUserId>)>> {
    let rows: Vec<(i64, Option<i64>)> = Entity::find()
        .select_only()
        .column(Column::Id)
        .column(Column::ScheduledByStaffId)
        .filter(Column::SendAt.lte(now))
        .filter(Column::Status.eq(MassStatus::Draft.as_db()))
        .order_by_asc(Column::SendAt)
        .order_by_asc(Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, by)| {
            (
                MassCommunicationId::from_db(id),
                by.map(StaffUserId::from_db),
            )
        })
        .collect())
}

/// A scheduled start that cannot happen: the draft loses its time and says why. Returns
/// false when it was no longer a scheduled draft (another process started it meanwhile).
pub async fn give_up(
    db: &impl ConnectionTrait,
    id: MassCommunicationId,
    problem: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let result = Entity::update_many()
        .col_expr(Column::SendAt, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(Column::ScheduledByStaffId, Expr::value(Option::<i64>::None))
        .col_expr(Column::ScheduleProblem, Expr::value(problem))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id.get()))
        .filter(Column::Status.eq(MassStatus::Draft.as_db()))
        .filter(Column::SendAt.is_not_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
