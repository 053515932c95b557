//! Staff second factors: the sealed TOTP secret (pending while enrolling, then confirmed),
//! the newest accepted time step, and the hashed recovery codes. Sealing and hashing happen
//! in the service; this module stores what it is given.

use crate::store::StoreResult;
use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, Set};

use crate::domain::StaffUserId;
use crate::entities::{staff_recovery_code, staff_second_factor};

/// A staff user's second-factor row, sealed values as stored.
pub struct SecondFactorRow {
    pub pending_secret: Option<String>,
    pub secret: Option<String>,
    pub last_step: Option<i64>,
}

pub async fn get(
    db: &impl ConnectionTrait,
    staff: StaffUserId,
) -> StoreResult<Option<SecondFactorRow>> {
    Ok(staff_second_factor::Entity::find_by_id(staff.get())
        .one(db)
        .await?
        .map(|m| SecondFactorRow {
            pending_secret: m.pending_secret,
            secret: m.secret,
            last_step: m.last_step,
        }))
}

/// Which of these staff users have a confirmed second factor.
pub async fn enabled_among(db: &impl ConnectionTrait, ids: &[i64]) -> StoreResult<HashSet<i64>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let rows: Vec<i64> = staff_second_factor::Entity::find()
        .select_only()
        .column(staff_second_factor::Column::StaffUserId)
        .filter(staff_second_factor::Column::StaffUserId.is_in(ids.iter().copied()))
        .filter(staff_second_factor::Column::Secret.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Stores a new pending secret; a confirmed one stays in force until the new one is confirmed.
pub async fn set_pending(
    db: &impl ConnectionTrait,
    staff: StaffUserId,
    sealed: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    staff_second_factor::Entity::insert(staff_second_factor::ActiveModel {
        staff_user_id: Set(staff.get()),
        pending_secret: Set(Some(sealed.to_owned())),
        secret: Set(None),
        last_step: Set(None),
        enabled_at: Set(None),
        updated_at: Set(now),
        issued_challenges: Set(None),
        spent_challenge: Set(None),
    })
    .on_conflict(
        OnConflict::column(staff_second_factor::Column::StaffUserId)
            .update_columns([
                staff_second_factor::Column::PendingSecret,
                staff_second_factor::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// Makes the pending secret the one in force, with the step its confirming code used, and
/// replaces the recovery codes.
pub async fn confirm(
    db: &impl ConnectionTrait,
    staff: StaffUserId,
    sealed: &str,
    step: i64,
    recovery_hashes: &[String],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    staff_second_factor::Entity::update_many()
        .col_expr(staff_second_factor::Column::Secret, Expr::value(sealed))
        .col_expr(
            staff_second_factor::Column::PendingSecret,
            Expr::value(Option::<String>::None),
        )
        .col_expr(staff_second_factor::Column::LastStep, Expr::value(step))
        .col_expr(staff_second_factor::Column::EnabledAt, Expr::value(now))
        .col_expr(staff_second_factor::Column::UpdatedAt, Expr::value(now))
        .filter(staff_second_factor::Column::StaffUserId.eq(staff.get()))
        .exec(db)
        .await?;
    replace_recovery_codes(db, staff, recovery_hashes, now).await
}

/// Replaces every recovery code of the staff user, used or not, with these.
pub async fn replace_recovery_codes(
    db: &impl ConnectionTrait,
    staff: StaffUserId,
    recovery_hashes: &[String],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    staff_recovery_code::Entity::delete_many()
        .filter(staff_recovery_code::Column::StaffUserId.eq(staff.get()))
        .exec(db)
        .await?;
    staff_recovery_code::Entity::insert_many(recovery_hashes.iter().map(|h| {
        staff_recovery_code::ActiveModel {
            staff_user_id: Set(staff.get()),
            code_hash: Set(h.clone()),
            used_at: Set(None),
            created_at: Set(now),
            ..Default::default()
        }
    }))
    .exec(db)
    .await?;
    Ok(())
}

/// Records that a code for `step` was accepted, only if no code for that step or a later one
/// was: false means the code was a replay (or lost a race with the same code).
pub async fn advance_step(
    db: &impl ConnectionTrait,
    staff: StaffUserId,
    step: i64,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let done = staff_second_factor::Entity::update_many()
        .col_expr(staff_second_factor::Column::LastStep, Expr::value(step))
        .col_expr(staff_second_factor::Column::UpdatedAt, Expr::value(now))
        .filter(staff_second_factor::Column::StaffUserId.eq(staff.get()))
        .filter(staff_second_factor::Column::Secret.is_not_null())
        .filter(
            staff_second_factor::Column::LastStep
                .is_null()
                .or(staff_second_factor::Column::LastStep.lt(step)),
        )
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Uses up one recovery code; false when it is unknown or was used before.
pub async fn use_recovery_code(
    db: &impl ConnectionTrait,
    staff: StaffUserId,
    hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let done = staff_recovery_code::Entity::update_many()
        .col_expr(staff_recovery_code::Column::UsedAt, Expr::value(now))
        .filter(staff_recovery_code::Column::StaffUserId.eq(staff.get()))
        .filter(staff_recovery_code::Column::CodeHash.eq(hash))
        .filter(staff_recovery_code::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// How many recovery codes are left unused.
pub async fn recovery_codes_left(
    db: &impl ConnectionTrait,
    staff: StaffUserId,
) -> StoreResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(staff_recovery_code::Entity::find()
        .filter(staff_recovery_code::Column::StaffUserId.eq(staff.get()))
        .filter(staff_recovery_code::Column::UsedAt.is_null())
        .count(db)
        .await?)
}

/// Removes the second factor and its recovery codes; true when there was one.
pub async fn remove(db: &impl ConnectionTrait, staff: StaffUserId) -> StoreResult<bool> {
    staff_recovery_code::Entity::delete_many()
        .filter(staff_recovery_code::Column::StaffUserId.eq(staff.get()))
        .exec(db)
        .await?;
    let gone = staff_second_factor::Entity::delete_many()
        .filter(staff_second_factor::Column::StaffUserId.eq(staff.get()))
        .exec(db)
        .await?;
    Ok(gone.rows_affected > 0)
}

/// The number of a new sign-in challenge for the staff user (1, 2, …).
pub async fn next_challenge(db: &impl ConnectionTrait, staff: StaffUserId) -> StoreResult<i64> {
    use super::sql::Sql;
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("UPDATE staff_second_factors SET issued_challenges = COALESCE(issued_challenges, 0) + 1 WHERE staff_user_id = ")
        .param(staff.get())
        .push(" RETURNING issued_challenges");
    let row = db
        .query_one_raw(sql.build())
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("staff second factor".into()))?;
    Ok(row.try_get::<i64>("", "issued_challenges")?)
}

/// Uses up sign-in challenge number `serial`: false when it, or a later one, was used before.
/// Using one also kills every earlier one.
pub async fn spend_challenge(
    db: &impl ConnectionTrait,
    staff: StaffUserId,
    serial: i64,
) -> StoreResult<bool> {
    let done = staff_second_factor::Entity::update_many()
        .col_expr(
            staff_second_factor::Column::SpentChallenge,
            Expr::value(serial),
        )
        .filter(staff_second_factor::Column::StaffUserId.eq(staff.get()))
        .filter(
            staff_second_factor::Column::SpentChallenge
                .is_null()
                .or(staff_second_factor::Column::SpentChallenge.lt(serial)),
        )
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}
