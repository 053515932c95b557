//! The counters of the rule that pauses a communication whose deliveries keep failing.

use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::domain::{FailureTally, MassCommunicationId, MassPauseRule, MassStatus, MassTransition};
use crate::entities::mass_communication;
use crate::store::sql::Sql;

/// Adds outcomes (in the order they ended; `true` = failed) to a communication's failure
/// counters and pauses it, with the reason, when `rule` says so. Runs in the transaction
/// that records the outcomes. Returns the reason when this call paused it.
pub async fn tally_failures(
    db: &impl ConnectionTrait,
    id: MassCommunicationId,
    outcomes: &[bool],
    rule: &MassPauseRule,
    now: DateTime<Utc>,
) -> StoreResult<Option<String>> {
    use sea_orm::sea_query::Expr;
    if !outcomes.contains(&true) {
        tally_successes(db, id, outcomes.len(), rule).await?;
        return Ok(None);
    }
    let Some(m) = mass_communication::Entity::find_by_id(id.get())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let before = FailureTally {
        outcomes_seen: m.outcomes_seen.max(0) as u32,
        window_failures: m.window_failures.max(0) as u32,
        failure_streak: m.failure_streak.max(0) as u32,
    };
    let after = before.count(rule, outcomes.iter().copied());
    let mut update = mass_communication::Entity::update_many()
        .col_expr(
            mass_communication::Column::OutcomesSeen,
            Expr::value(after.outcomes_seen as i32),
        )
        .col_expr(
            mass_communication::Column::WindowFailures,
            Expr::value(after.window_failures as i32),
        )
        .col_expr(
            mass_communication::Column::FailureStreak,
            Expr::value(after.failure_streak as i32),
        );
    let reason = after.pause_reason(rule);
    let pausing = reason.is_some()
        && MassTransition::Pause
            .from()
            .iter()
            .any(|s| s.as_db() == m.status);
    if pausing {
        update = update
            .col_expr(
                mass_communication::Column::Status,
                Expr::value(MassStatus::Paused.as_db()),
            )
            .col_expr(
                mass_communication::Column::PauseReason,
                Expr::value(reason.clone()),
            )
            .col_expr(mass_communication::Column::UpdatedAt, Expr::value(now));
    }
    update
        .filter(mass_communication::Column::Id.eq(id.get()))
        .exec(db)
        .await?;
    Ok(reason.filter(|_| pausing))
}

/// Counts `n` successes, as `FailureTally::count` does, without reading the row first: they
/// fill the rule's window and end any streak, and can never pause. Once the window is full
/// and no streak runs the statement matches nothing, so it writes nothing (and on
/// PostgreSQL takes no row lock that another process's worker would wait for).
pub async fn tally_successes(
    db: &impl ConnectionTrait,
    id: MassCommunicationId,
    n: usize,
    rule: &MassPauseRule,
) -> StoreResult<()> {
    let window = i64::from(rule.window);
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("UPDATE mass_communications SET failure_streak = 0, outcomes_seen = CASE WHEN outcomes_seen >= ")
        .param(window)
        .push(" THEN outcomes_seen WHEN outcomes_seen + ")
        .param(n as i64)
        .push(" > ")
        .param(window)
        .push(" THEN ")
        .param(window)
        .push(" ELSE outcomes_seen + ")
        .param(n as i64)
        .push(" END WHERE id = ")
        .param(id.get())
        .push(" AND (outcomes_seen < ")
        .param(window)
        .push(" OR failure_streak <> 0)");
    db.execute_raw(sql.build()).await?;
    Ok(())
}
