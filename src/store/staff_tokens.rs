//! Staff set-password links (`staff_password_tokens`). Like members' links, only the SHA-256
//! of a token is stored, only the newest link of a staff user works, and using one is a single
//! conditional UPDATE, so of concurrent uses exactly one wins and expiry is enforced there.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
    sea_query::Expr,
};

use super::sql::Sql;
use crate::domain::{StaffUserId, TokenHash};
use crate::entities::staff_password_token;

/// Stores a staff user's new link and retires their earlier live ones.
pub async fn mint(
    db: &impl ConnectionTrait,
    hash: &TokenHash,
    staff_user: StaffUserId,
    issued_by: Option<StaffUserId>,
    outbound_email_id: Option<i64>,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    invalidate_for(db, staff_user, now).await?;
    staff_password_token::ActiveModel {
        token_hash: Set(hash.as_str().to_owned()),
        staff_user_id: Set(staff_user.get()),
        issued_by_staff_id: Set(issued_by.map(|s| s.get())),
        outbound_email_id: Set(outbound_email_id),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
        invalidated_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// What the database knows of a presented staff token.
#[derive(Debug, Clone)]
pub struct StaffTokenRecord {
    pub staff_user: StaffUserId,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub invalidated_at: Option<DateTime<Utc>>,
}

pub async fn find(
    db: &impl ConnectionTrait,
    hash: &TokenHash,
) -> Result<Option<StaffTokenRecord>, DbErr> {
    Ok(staff_password_token::Entity::find()
        .filter(staff_password_token::Column::TokenHash.eq(hash.as_str()))
        .one(db)
        .await?
        .map(|m| StaffTokenRecord {
            staff_user: StaffUserId::from_db(m.staff_user_id),
            expires_at: m.expires_at,
            used_at: m.used_at,
            invalidated_at: m.invalidated_at,
        }))
}

/// Marks a live token used and returns its staff user, or `None` when it is unknown, used,
/// retired or expired (or another request used it first).
pub async fn consume(
    db: &impl ConnectionTrait,
    hash: &TokenHash,
    now: DateTime<Utc>,
) -> Result<Option<StaffUserId>, DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("UPDATE staff_password_tokens SET used_at = ")
        .param(now)
        .push(" WHERE token_hash = ")
        .param(hash.as_str())
        .push(" AND used_at IS NULL AND invalidated_at IS NULL AND expires_at > ")
        .param(now)
        .push(" RETURNING staff_user_id");
    match db.query_one_raw(sql.build()).await? {
        Some(row) => Ok(Some(StaffUserId::from_db(
            row.try_get::<i64>("", "staff_user_id")?,
        ))),
        None => Ok(None),
    }
}

/// Retires every live link of a staff user: a new password by any route, deactivation, or a
/// newer link ends them.
pub async fn invalidate_for(
    db: &impl ConnectionTrait,
    staff_user: StaffUserId,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let result = staff_password_token::Entity::update_many()
        .col_expr(
            staff_password_token::Column::InvalidatedAt,
            Expr::value(now),
        )
        .filter(staff_password_token::Column::StaffUserId.eq(staff_user.get()))
        .filter(staff_password_token::Column::UsedAt.is_null())
        .filter(staff_password_token::Column::InvalidatedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
