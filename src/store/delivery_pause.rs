//! The queue-wide pause: one row while delivery is paused, none otherwise.

use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, sea_query::OnConflict};

use crate::domain::DeliveryPause;
use crate::entities::delivery_pause;

/// The row's fixed key: there is one queue.
const THE_QUEUE: i32 = 1;

/// The pause in force, if any. One primary-key read; the worker asks before every claim.
pub async fn get(db: &impl ConnectionTrait) -> StoreResult<Option<DeliveryPause>> {
    Ok(delivery_pause::Entity::find_by_id(THE_QUEUE)
        .one(db)
        .await?
        .map(|m| DeliveryPause {
            since: m.paused_since,
            reason: m.reason,
        }))
}

/// Pauses delivery. An existing pause keeps its first reason and time; returns whether this
/// call paused it.
pub async fn pause(
    db: &impl ConnectionTrait,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let row = delivery_pause::ActiveModel {
        id: sea_orm::Set(THE_QUEUE),
        paused_since: sea_orm::Set(now),
        reason: sea_orm::Set(reason.to_owned()),
    };
    let inserted = delivery_pause::Entity::insert(row)
        .on_conflict(
            OnConflict::column(delivery_pause::Column::Id)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(inserted > 0)
}

/// Resumes delivery; returns the pause it ended, if there was one.
pub async fn resume(db: &impl ConnectionTrait) -> StoreResult<Option<DeliveryPause>> {
    let current = get(db).await?;
    if current.is_some() {
        delivery_pause::Entity::delete_by_id(THE_QUEUE)
            .exec(db)
            .await?;
    }
    Ok(current)
}
