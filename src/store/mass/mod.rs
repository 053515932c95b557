//! Mass communications and their per-recipient delivery rows (`outbound_emails` with a
//! `mass_communication_id`).

use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::domain::{
    MailSender, MassCommunication, MassCommunicationId, MassPurpose, MassStatus, Recipients,
};
use crate::entities::mass_communication;

mod codec;
mod listing;
mod recipients;
mod schedule;
mod tallies;
mod transitions;

use codec::{recipients_to_json, to_record};
pub use listing::{
    count, counts, counts_many, deliveries, deliveries_to_profile, link_counts, list,
};
pub use recipients::{NewDelivery, count_selected, insert_deliveries, resolve_recipients};
pub use schedule::{due, give_up, set_schedule};
pub use tallies::{tally_failures, tally_successes};
pub use transitions::{
    cancel_pending, has_pending, in_flight, retry_failed, settle, statuses, transition,
};

/// The parts of a mass communication staff write.
pub struct MassContent<'a> {
    pub subject: &'a str,
    pub html: &'a str,
    pub purpose: MassPurpose,
    /// `None` for the default sender.
    pub sender: Option<&'a MailSender>,
    pub recipients: &'a Recipients,
    pub link_validity: chrono::Duration,
}

pub async fn insert(
    db: &impl ConnectionTrait,
    content: MassContent<'_>,
    created_by: Option<i64>,
    now: DateTime<Utc>,
) -> StoreResult<MassCommunication> {
    let m = mass_communication::ActiveModel {
        subject: Set(content.subject.to_owned()),
        html: Set(content.html.to_owned()),
        purpose: Set(content.purpose.as_db().to_owned()),
        sender_name: Set(content.sender.map(|s| s.name.clone())),
        sender_reply_to: Set(content.sender.map(|s| s.reply_to.to_string())),
        recipients: Set(recipients_to_json(content.recipients)),
        link_validity_seconds: Set(content.link_validity.num_seconds()),
        status: Set(MassStatus::Draft.as_db().to_owned()),
        created_by_staff_id: Set(created_by),
        created_at: Set(now),
        updated_at: Set(now),
        queued_at: Set(None),
        finished_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    to_record(m)
}

pub async fn update_content(
    db: &impl ConnectionTrait,
    id: MassCommunicationId,
    content: MassContent<'_>,
    now: DateTime<Utc>,
) -> StoreResult<MassCommunication> {
    let m = mass_communication::ActiveModel {
        id: Set(id.get()),
        subject: Set(content.subject.to_owned()),
        html: Set(content.html.to_owned()),
        purpose: Set(content.purpose.as_db().to_owned()),
        sender_name: Set(content.sender.map(|s| s.name.clone())),
        sender_reply_to: Set(content.sender.map(|s| s.reply_to.to_string())),
        recipients: Set(recipients_to_json(content.recipients)),
        link_validity_seconds: Set(content.link_validity.num_seconds()),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?;
    to_record(m)
}

pub async fn get(
    db: &impl ConnectionTrait,
    id: MassCommunicationId,
) -> StoreResult<Option<MassCommunication>> {
    mass_communication::Entity::find_by_id(id.get())
        .one(db)
        .await?
        .map(to_record)
        .transpose()
}

/// Deletes the communication if it is still a draft. Returns whether it did.
pub async fn delete_draft(db: &impl ConnectionTrait, id: MassCommunicationId) -> StoreResult<bool> {
    let result = mass_communication::Entity::delete_many()
        .filter(mass_communication::Column::Id.eq(id.get()))
        .filter(mass_communication::Column::Status.eq(MassStatus::Draft.as_db()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
