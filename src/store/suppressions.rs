//! The suppression list: one row per address (by its search key) that bounced for good or
//! complained.

use crate::store::StoreResult;
use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::OnConflict,
};

use super::stored;
use crate::domain::{AddressKeys, ERASED_ADDRESS, Suppression, SuppressionReason, search_key};
use crate::entities::email_suppression;

fn to_record(m: email_suppression::Model) -> StoreResult<Suppression> {
    Ok(Suppression {
        address: m.address,
        reason: stored("email_suppressions.reason", &m.reason)?,
        detail: m.detail,
        event_id: m.event_id,
        outbound_email_id: m.outbound_email_id,
        created_at: m.created_at,
    })
}

/// Puts an address on the list. An address already there keeps its first reason and event;
/// returns whether this call added it.
pub async fn add(db: &impl ConnectionTrait, s: &Suppression) -> StoreResult<bool> {
    let row = email_suppression::ActiveModel {
        address_key: Set(search_key(&s.address)),
        address: Set(s.address.clone()),
        reason: Set(s.reason.as_db().to_owned()),
        detail: Set(s.detail.clone()),
        event_id: Set(s.event_id.clone()),
        outbound_email_id: Set(s.outbound_email_id),
        created_at: Set(s.created_at),
        ..Default::default()
    };
    let inserted = email_suppression::Entity::insert(row)
        .on_conflict(
            OnConflict::column(email_suppression::Column::AddressKey)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(inserted > 0)
}

/// The suppression of one address, in any spelling, also when it is kept under the
/// pseudonym of an erased person.
pub async fn get(
    db: &impl ConnectionTrait,
    keys: &AddressKeys,
) -> StoreResult<Option<Suppression>> {
    email_suppression::Entity::find()
        .filter(
            email_suppression::Column::AddressKey.is_in([keys.plain.clone(), keys.erased.clone()]),
        )
        .order_by_asc(email_suppression::Column::Id)
        .one(db)
        .await?
        .map(to_record)
        .transpose()
}

/// The suppressed ones among these addresses (by either key), each with its reason, keyed
/// by the address's search key.
pub async fn among(
    db: &impl ConnectionTrait,
    keys: &[AddressKeys],
) -> StoreResult<HashMap<String, SuppressionReason>> {
    let mut found = HashMap::new();
    for chunk in keys.chunks(250) {
        let plain_of: HashMap<&str, &str> = chunk
            .iter()
            .flat_map(|k| {
                [
                    (k.plain.as_str(), k.plain.as_str()),
                    (k.erased.as_str(), k.plain.as_str()),
                ]
            })
            .collect();
        let rows: Vec<(String, String)> = email_suppression::Entity::find()
            .select_only()
            .column(email_suppression::Column::AddressKey)
            .column(email_suppression::Column::Reason)
            .filter(
                email_suppression::Column::AddressKey.is_in(plain_of.keys().map(|k| k.to_string())),
            )
            .into_tuple()
            .all(db)
            .await?;
        for (key, reason) in rows {
            if let Some(plain) = plain_of.get(key.as_str()) {
                found.insert(
                    plain.to_string(),
                    stored("email_suppressions.reason", &reason)?,
                );
            }
        }
    }
    Ok(found)
}

/// Takes an address off the list (under either key); returns the suppression it removed.
pub async fn remove(
    db: &impl ConnectionTrait,
    keys: &AddressKeys,
) -> StoreResult<Option<Suppression>> {
    let current = get(db, keys).await?;
    if current.is_some() {
        email_suppression::Entity::delete_many()
            .filter(
                email_suppression::Column::AddressKey
                    .is_in([keys.plain.clone(), keys.erased.clone()]),
            )
            .exec(db)
            .await?;
    }
    Ok(current)
}

/// Keeps an address's suppression under its pseudonym only, without the address, the
/// provider's diagnostic or its event: for an erased person whose address must still never
/// be mailed. Returns whether there was one.
pub async fn pseudonymise(db: &impl ConnectionTrait, keys: &AddressKeys) -> StoreResult<bool> {
    let already = email_suppression::Entity::find()
        .filter(email_suppression::Column::AddressKey.eq(keys.erased.clone()))
        .one(db)
        .await?
        .is_some();
    if already {
        // Another erased profile shared the address: its pseudonymous row stands for both.
        email_suppression::Entity::delete_many()
            .filter(email_suppression::Column::AddressKey.eq(keys.plain.clone()))
            .exec(db)
            .await?;
        return Ok(true);
    }
    let changed = email_suppression::Entity::update_many()
        .col_expr(
            email_suppression::Column::AddressKey,
            keys.erased.clone().into(),
        )
        .col_expr(email_suppression::Column::Address, ERASED_ADDRESS.into())
        .col_expr(
            email_suppression::Column::Detail,
            Option::<String>::None.into(),
        )
        .col_expr(
            email_suppression::Column::EventId,
            Option::<String>::None.into(),
        )
        .col_expr(
            email_suppression::Column::OutboundEmailId,
            Option::<i64>::None.into(),
        )
        .filter(email_suppression::Column::AddressKey.eq(keys.plain.clone()))
        .exec(db)
        .await?;
    Ok(changed.rows_affected > 0)
}

/// One page of the list, newest first, optionally of addresses containing `contains`.
/// Returns each suppression with its row ID, the page's cursor.
pub async fn list(
    db: &impl ConnectionTrait,
    contains: Option<&str>,
    before_id: Option<i64>,
    limit: u64,
) -> StoreResult<Vec<(i64, Suppression)>> {
    let mut q = email_suppression::Entity::find().order_by_desc(email_suppression::Column::Id);
    if let Some(c) = contains {
        use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
        let pattern = LikeExpr::new(super::sql::contains_pattern(&search_key(c))).escape('\\');
        q = q.filter(Expr::col(email_suppression::Column::AddressKey).like(pattern));
    }
    if let Some(b) = before_id {
        q = q.filter(email_suppression::Column::Id.lt(b));
    }
    q.limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|m| Ok((m.id, to_record(m)?)))
        .collect()
}
