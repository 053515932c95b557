//! Mass communications and their per-recipient delivery rows (`outbound_emails` with a
//! `mass_communication_id`).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use serde::{Deserialize, Serialize};

use super::outbound::{RowParts, kind, new_row, status};
use super::sql::Sql;
use crate::domain::{
    Delivery, DeliveryCounts, LinkState, MassCommunication, MassStatus, MemberStatus, ProfileId,
    ProfileKind, RecipientFilter, Recipients,
};
use crate::entities::{mass_communication, outbound_email};

/// How recipients are kept in the `recipients` column.
#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RecipientsJson {
    profile_ids: Option<Vec<i64>>,
    kind: Option<String>,
    member_status: Option<String>,
    search: Option<String>,
    #[serde(default)]
    include_related_profiles: bool,
}

fn recipients_to_json(r: &Recipients) -> String {
    let json = match r {
        Recipients::ProfileIds(ids) => RecipientsJson {
            profile_ids: Some(ids.iter().map(|i| i.get()).collect()),
            ..Default::default()
        },
        Recipients::Filter(f) => RecipientsJson {
            profile_ids: None,
            kind: f.kind.map(|k| k.as_db().to_owned()),
            member_status: f.member_status.map(|s| s.as_db().to_owned()),
            search: f.search.clone(),
            include_related_profiles: f.include_related_profiles,
        },
    };
    serde_json::to_string(&json).unwrap_or_default()
}

fn recipients_from_json(raw: &str) -> Result<Recipients, DbErr> {
    let j: RecipientsJson =
        serde_json::from_str(raw).map_err(|e| DbErr::Custom(format!("recipients: {e}")))?;
    if let Some(ids) = j.profile_ids {
        return Ok(Recipients::ProfileIds(
            ids.into_iter().map(ProfileId::from_db).collect(),
        ));
    }
    Ok(Recipients::Filter(RecipientFilter {
        kind: j.kind.and_then(|k| k.parse::<ProfileKind>().ok()),
        member_status: j.member_status.and_then(|s| s.parse::<MemberStatus>().ok()),
        search: j.search,
        include_related_profiles: j.include_related_profiles,
    }))
}

fn to_record(m: mass_communication::Model) -> Result<MassCommunication, DbErr> {
    Ok(MassCommunication {
        id: m.id,
        subject: m.subject,
        html: m.html,
        recipients: recipients_from_json(&m.recipients)?,
        link_validity: chrono::Duration::seconds(m.link_validity_seconds),
        status: MassStatus::from_db(&m.status),
        created_at: m.created_at,
        updated_at: m.updated_at,
        queued_at: m.queued_at,
        finished_at: m.finished_at,
    })
}

/// The parts of a mass communication staff write.
pub struct MassContent<'a> {
    pub subject: &'a str,
    pub html: &'a str,
    pub recipients: &'a Recipients,
    pub link_validity: chrono::Duration,
}

pub async fn insert(
    db: &impl ConnectionTrait,
    content: MassContent<'_>,
    created_by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<MassCommunication, DbErr> {
    let m = mass_communication::ActiveModel {
        subject: Set(content.subject.to_owned()),
        html: Set(content.html.to_owned()),
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
    id: i64,
    content: MassContent<'_>,
    now: DateTime<Utc>,
) -> Result<MassCommunication, DbErr> {
    let m = mass_communication::ActiveModel {
        id: Set(id),
        subject: Set(content.subject.to_owned()),
        html: Set(content.html.to_owned()),
        recipients: Set(recipients_to_json(content.recipients)),
        link_validity_seconds: Set(content.link_validity.num_seconds()),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?;
    to_record(m)
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Option<MassCommunication>, DbErr> {
    mass_communication::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(to_record)
        .transpose()
}

/// Moves a communication to `to`, only from `from` (so two clicks cannot both send it).
/// Returns whether it moved.
pub async fn transition(
    db: &impl ConnectionTrait,
    id: i64,
    from: &[MassStatus],
    to: MassStatus,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    use sea_orm::sea_query::Expr;
    let mut update = mass_communication::Entity::update_many()
        .col_expr(mass_communication::Column::Status, Expr::value(to.as_db()))
        .col_expr(mass_communication::Column::UpdatedAt, Expr::value(now));
    match to {
        MassStatus::Queued => {
            update = update.col_expr(mass_communication::Column::QueuedAt, Expr::value(now))
        }
        MassStatus::Cancelled | MassStatus::Sent | MassStatus::Failed => {
            update = update.col_expr(mass_communication::Column::FinishedAt, Expr::value(now))
        }
        _ => {}
    }
    let result = update
        .filter(mass_communication::Column::Id.eq(id))
        .filter(mass_communication::Column::Status.is_in(from.iter().map(|s| s.as_db())))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// A delivery row to create when the communication is sent.
pub struct NewDelivery {
    pub profile_id: ProfileId,
    pub to_address: Option<String>,
    pub skip_reason: Option<&'static str>,
}

/// Inserts every recipient's row, in chunks that stay under both databases' parameter limits.
pub async fn insert_deliveries(
    db: &impl ConnectionTrait,
    mass_id: i64,
    rows: Vec<NewDelivery>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<outbound_email::ActiveModel> = rows
            .by_ref()
            .take(500)
            .map(|r| {
                let parts = RowParts {
                    kind: kind::MASS,
                    mass_communication_id: Some(mass_id),
                    profile_id: Some(r.profile_id),
                    to_address: r.to_address,
                    payload: None,
                    skip_reason: r.skip_reason,
                };
                new_row(parts, now)
            })
            .collect();
        outbound_email::Entity::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

pub async fn counts(db: &impl ConnectionTrait, mass_id: i64) -> Result<DeliveryCounts, DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT status, COUNT(*) AS n FROM outbound_emails WHERE mass_communication_id = ")
        .param(mass_id)
        .push(" GROUP BY status");
    let mut c = DeliveryCounts::default();
    for row in db.query_all_raw(sql.build()).await? {
        let s: String = row.try_get("", "status")?;
        let n: i64 = row.try_get("", "n")?;
        c.total += n;
        match s.as_str() {
            status::SENT => c.sent += n,
            status::FAILED => c.failed += n,
            status::SKIPPED => c.skipped += n,
            status::CANCELLED => c.cancelled += n,
            _ => c.pending += n,
        }
    }
    Ok(c)
}

/// One page of deliveries in ID order, optionally of one status, with each link's state.
pub async fn deliveries(
    db: &impl ConnectionTrait,
    mass_id: i64,
    only: Option<&str>,
    after: Option<i64>,
    limit: u64,
    now: DateTime<Utc>,
) -> Result<Vec<Delivery>, DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "SELECT o.id, o.profile_id, o.to_address, o.status, o.skip_reason, o.last_error, \
         o.provider_message_id, o.attempts, o.possible_duplicate, o.sent_at, \
         t.expires_at, t.used_at FROM outbound_emails o \
         LEFT JOIN credential_tokens t ON t.id = \
         (SELECT MAX(l.id) FROM credential_tokens l WHERE l.outbound_email_id = o.id) \
         WHERE o.mass_communication_id = ",
    )
    .param(mass_id);
    if let Some(s) = only {
        sql.push(" AND o.status = ").param(s);
    }
    if let Some(a) = after {
        sql.push(" AND o.id > ").param(a);
    }
    sql.push(" ORDER BY o.id LIMIT ").param(limit as i64);
    let rows = db.query_all_raw(sql.build()).await?;
    rows.into_iter()
        .map(|r| {
            let expires: Option<DateTime<Utc>> = r.try_get("", "expires_at")?;
            let used: Option<DateTime<Utc>> = r.try_get("", "used_at")?;
            let link_state = expires.map(|e| {
                if used.is_some() {
                    LinkState::Used
                } else if e <= now {
                    LinkState::Expired
                } else {
                    LinkState::Unused
                }
            });
            Ok(Delivery {
                id: r.try_get("", "id")?,
                profile_id: r
                    .try_get::<Option<i64>>("", "profile_id")?
                    .map(ProfileId::from_db),
                to_address: r.try_get("", "to_address")?,
                status: r.try_get("", "status")?,
                skip_reason: r.try_get("", "skip_reason")?,
                last_error: r.try_get("", "last_error")?,
                provider_message_id: r.try_get("", "provider_message_id")?,
                attempts: r.try_get("", "attempts")?,
                possible_duplicate: r.try_get("", "possible_duplicate")?,
                sent_at: r.try_get("", "sent_at")?,
                link_state,
            })
        })
        .collect()
}

/// Cancels the deliveries not yet handed to a worker. Returns how many.
pub async fn cancel_pending(db: &impl ConnectionTrait, mass_id: i64) -> Result<u64, DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("UPDATE outbound_emails SET status = ")
        .param(status::CANCELLED)
        .push(" WHERE mass_communication_id = ")
        .param(mass_id)
        .push(" AND status = ")
        .param(status::QUEUED);
    Ok(db.execute_raw(sql.build()).await?.rows_affected())
}

/// Queues the failed deliveries again. Returns how many.
pub async fn retry_failed(
    db: &impl ConnectionTrait,
    mass_id: i64,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("UPDATE outbound_emails SET status = ")
        .param(status::QUEUED)
        .push(", next_attempt_at = ")
        .param(now)
        .push(", last_error = NULL WHERE mass_communication_id = ")
        .param(mass_id)
        .push(" AND status = ")
        .param(status::FAILED);
    Ok(db.execute_raw(sql.build()).await?.rows_affected())
}
