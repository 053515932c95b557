//! Short codes: the few characters staff read out over the phone with a member's link. A code
//! belongs to one live member link and redeems it; wrong tries are counted on the code.

use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::OwnerKind;
use crate::domain::{ProfileId, TokenHash};
use crate::entities::credential_token;

/// Gives a freshly minted token its short code: the code's hash and when it stops working.
pub async fn set(
    db: &impl ConnectionTrait,
    token_id: i64,
    code_hash: &TokenHash,
    expires_at: DateTime<Utc>,
) -> StoreResult<()> {
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
pub async fn redeem(
    db: &impl ConnectionTrait,
    profiles: &[ProfileId],
    code_hash: &TokenHash,
    new_token: &TokenHash,
    max_attempts: i32,
    now: DateTime<Utc>,
) -> StoreResult<Option<ProfileId>> {
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
        return Ok(super::find(db, OwnerKind::Member, new_token)
            .await?
            .and_then(|t| t.owner.member()));
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
