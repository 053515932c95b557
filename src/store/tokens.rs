//! Set-password tokens. Only the SHA-256 of a token is stored. Using one is a single
//! conditional UPDATE, so of many concurrent uses exactly one wins, and expiry is enforced in
//! that same query.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

use super::sql::Sql;
use crate::domain::{ProfileId, StaffUserId, TokenHash, TokenPurpose};
use crate::entities::credential_token;

/// A token about to be stored.
pub struct NewToken<'a> {
    pub hash: &'a TokenHash,
    pub purpose: TokenPurpose,
    pub profile_id: ProfileId,
    pub issued_by: Option<StaffUserId>,
    pub expires_at: DateTime<Utc>,
    pub outbound_email_id: Option<i64>,
}

/// What the database knows of a presented token.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub id: i64,
    pub profile_id: ProfileId,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub invalidated_at: Option<DateTime<Utc>>,
}

/// Stores a new token and retires every earlier live token of the profile: only the newest
/// link works.
pub async fn mint(
    db: &impl ConnectionTrait,
    token: NewToken<'_>,
    now: DateTime<Utc>,
) -> Result<i64, DbErr> {
    invalidate_for_profile(db, token.profile_id, now).await?;
    let model = new_row(&token, now).insert(db).await?;
    Ok(model.id)
}

fn new_row(t: &NewToken<'_>, now: DateTime<Utc>) -> credential_token::ActiveModel {
    credential_token::ActiveModel {
        token_hash: Set(t.hash.as_str().to_owned()),
        purpose: Set(t.purpose.as_db().to_owned()),
        profile_id: Set(t.profile_id.get()),
        issued_by_staff_id: Set(t.issued_by.map(|s| s.get())),
        created_at: Set(now),
        expires_at: Set(t.expires_at),
        used_at: Set(None),
        invalidated_at: Set(None),
        outbound_email_id: Set(t.outbound_email_id),
        ..Default::default()
    }
}

/// Stores many tokens at once (a batch of mass mail), retiring every earlier live token of
/// their profiles first. Two statements per 500 tokens instead of two per token.
pub async fn mint_many(
    db: &impl ConnectionTrait,
    tokens: &[NewToken<'_>],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    use sea_orm::sea_query::Expr;
    for chunk in tokens.chunks(500) {
        credential_token::Entity::update_many()
            .col_expr(credential_token::Column::InvalidatedAt, Expr::value(now))
            .filter(
                credential_token::Column::ProfileId.is_in(chunk.iter().map(|t| t.profile_id.get())),
            )
            .filter(credential_token::Column::UsedAt.is_null())
            .filter(credential_token::Column::InvalidatedAt.is_null())
            .exec(db)
            .await?;
        let rows = chunk.iter().map(|t| new_row(t, now));
        credential_token::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

pub async fn find(
    db: &impl ConnectionTrait,
    hash: &TokenHash,
) -> Result<Option<TokenRecord>, DbErr> {
    Ok(credential_token::Entity::find()
        .filter(credential_token::Column::TokenHash.eq(hash.as_str()))
        .one(db)
        .await?
        .map(|m| TokenRecord {
            id: m.id,
            profile_id: ProfileId::from_db(m.profile_id),
            expires_at: m.expires_at,
            used_at: m.used_at,
            invalidated_at: m.invalidated_at,
        }))
}

/// Marks a live token used and returns its profile, or `None` when it is unknown, used,
/// retired or expired (or another request used it first).
pub async fn consume(
    db: &impl ConnectionTrait,
    hash: &TokenHash,
    now: DateTime<Utc>,
) -> Result<Option<ProfileId>, DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("UPDATE credential_tokens SET used_at = ")
        .param(now)
        .push(" WHERE token_hash = ")
        .param(hash.as_str())
        .push(" AND used_at IS NULL AND invalidated_at IS NULL AND expires_at > ")
        .param(now)
        .push(" RETURNING profile_id");
    match db.query_one_raw(sql.build()).await? {
        Some(row) => Ok(Some(ProfileId::from_db(
            row.try_get::<i64>("", "profile_id")?,
        ))),
        None => Ok(None),
    }
}

/// Retires every live token of a profile: a new password, set by any route, ends them all.
pub async fn invalidate_for_profile(
    db: &impl ConnectionTrait,
    profile_id: ProfileId,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    use sea_orm::sea_query::Expr;
    let result = credential_token::Entity::update_many()
        .col_expr(credential_token::Column::InvalidatedAt, Expr::value(now))
        .filter(credential_token::Column::ProfileId.eq(profile_id.get()))
        .filter(credential_token::Column::UsedAt.is_null())
        .filter(credential_token::Column::InvalidatedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Gives a freshly minted token its short code: the code's hash and when it stops working.
pub async fn set_short_code(
    db: &impl ConnectionTrait,
    token_id: i64,
    code_hash: &TokenHash,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    use sea_orm::sea_query::Expr;
    credential_token::Entity::update_many()
        .col_expr(
            credential_token::Column::ShortCodeHash,
            Expr::value(code_hash.as_str()),
        )
        .col_expr(
            credential_token::Column::ShortCodeExpiresAt,
            Expr::value(expires_at),
        )
        .filter(credential_token::Column::Id.eq(token_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Redeems a short code for one of `profiles`' live links: when a live code of theirs
/// matches, the link's token is replaced by `new_token` (so the link and the code both stop
/// working and the new token carries on) and its profile is returned. Otherwise every live
/// code of theirs counts one wrong try; a code dies after `max_attempts`.
pub async fn redeem_short_code(
    db: &impl ConnectionTrait,
    profiles: &[ProfileId],
    code_hash: &TokenHash,
    new_token: &TokenHash,
    max_attempts: i32,
    now: DateTime<Utc>,
) -> Result<Option<ProfileId>, DbErr> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    if profiles.is_empty() {
        return Ok(None);
    }
    let live = || {
        credential_token::Entity::update_many()
            .filter(credential_token::Column::ProfileId.is_in(profiles.iter().map(|p| p.get())))
            .filter(credential_token::Column::ShortCodeHash.is_not_null())
            .filter(credential_token::Column::ShortCodeExpiresAt.gt(now))
            .filter(credential_token::Column::ShortCodeAttempts.lt(max_attempts))
            .filter(credential_token::Column::UsedAt.is_null())
            .filter(credential_token::Column::InvalidatedAt.is_null())
            .filter(credential_token::Column::ExpiresAt.gt(now))
    };
    let matched = live()
        .col_expr(
            credential_token::Column::TokenHash,
            Expr::value(new_token.as_str()),
        )
        .col_expr(
            credential_token::Column::ShortCodeHash,
            Expr::value(Option::<String>::None),
        )
        .filter(credential_token::Column::ShortCodeHash.eq(code_hash.as_str()))
        .exec(db)
        .await?;
    if matched.rows_affected == 1 {
        return Ok(find(db, new_token).await?.map(|t| t.profile_id));
    }
    live()
        .col_expr(
            credential_token::Column::ShortCodeAttempts,
            Expr::col(credential_token::Column::ShortCodeAttempts).add(1),
        )
        .exec(db)
        .await?;
    Ok(None)
}
