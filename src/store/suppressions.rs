//! The suppression list: one row per address (by its search key) that bounced for good or
//! complained.

use crate::store::StoreResult;
use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::OnConflict,
};

use super::stored;
use crate::domain::{Suppression, SuppressionReason, search_key};
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

/// The suppression of one address, in any spelling.
pub async fn get(db: &impl ConnectionTrait, address: &str) -> StoreResult<Option<Suppression>> {
    email_suppression::Entity::find()
        .filter(email_suppression::Column::AddressKey.eq(search_key(address)))
        .one(db)
        .await?
        .map(to_record)
        .transpose()
}

/// The suppressed ones among these address keys, each with its reason.
pub async fn among(
    db: &impl ConnectionTrait,
    keys: &[String],
) -> StoreResult<HashMap<String, SuppressionReason>> {
    let mut found = HashMap::new();
    for chunk in keys.chunks(500) {
        let rows: Vec<(String, String)> = email_suppression::Entity::find()
            .select_only()
            .column(email_suppression::Column::AddressKey)
            .column(email_suppression::Column::Reason)
            .filter(email_suppression::Column::AddressKey.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(db)
            .await?;
        for (key, reason) in rows {
            found.insert(key, stored("email_suppressions.reason", &reason)?);
        }
    }
    Ok(found)
}

/// Takes an address off the list; returns the suppression it removed.
pub async fn remove(db: &impl ConnectionTrait, address: &str) -> StoreResult<Option<Suppression>> {
    let current = get(db, address).await?;
    if current.is_some() {
        email_suppression::Entity::delete_many()
            .filter(email_suppression::Column::AddressKey.eq(search_key(address)))
            .exec(db)
            .await?;
    }
    Ok(current)
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
