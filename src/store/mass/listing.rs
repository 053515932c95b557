//! Reading communications back: lists, counts, deliveries and link states.

use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::domain::{
    Delivery, DeliveryCounts, DeliveryStatus, LinkCounts, LinkState, MassCommunication,
    MassCommunicationId, MassListFilter, OutboundId, ProfileId,
};
use crate::entities::mass_communication;
use crate::store::sql::Sql;
use crate::store::stored;

use super::*;

pub async fn counts(
    db: &impl ConnectionTrait,
    mass_id: MassCommunicationId,
) -> StoreResult<DeliveryCounts> {
    Ok(counts_many(db, &[mass_id])
        .await?
        .remove(&mass_id)
        .unwrap_or_default())
}

/// The counts of several communications in one grouped query (a page of a list).
pub async fn counts_many(
    db: &impl ConnectionTrait,
    ids: &[MassCommunicationId],
) -> StoreResult<std::collections::HashMap<MassCommunicationId, DeliveryCounts>> {
    let mut all = std::collections::HashMap::new();
    if ids.is_empty() {
        return Ok(all);
    }
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "SELECT mass_communication_id AS id, status, COUNT(*) AS n FROM outbound_emails \
         WHERE mass_communication_id IN (",
    );
    sql.list(ids.iter().map(|id| id.get()));
    sql.push(") GROUP BY mass_communication_id, status");
    for row in db.query_all_raw(sql.build()).await? {
        let id = MassCommunicationId::from_db(row.try_get("", "id")?);
        let s: String = row.try_get("", "status")?;
        let n: i64 = row.try_get("", "n")?;
        let c: &mut DeliveryCounts = all.entry(id).or_default();
        c.total += n;
        match stored::<DeliveryStatus>("outbound_emails.status", &s)? {
            DeliveryStatus::Sent => c.sent += n,
            DeliveryStatus::Delivered => {
                c.sent += n;
                c.delivered += n;
            }
            DeliveryStatus::Bounced => {
                c.sent += n;
                c.bounced += n;
            }
            DeliveryStatus::Complained => {
                c.sent += n;
                c.complained += n;
            }
            DeliveryStatus::Failed => c.failed += n,
            DeliveryStatus::Skipped => c.skipped += n,
            DeliveryStatus::Cancelled => c.cancelled += n,
            DeliveryStatus::Queued | DeliveryStatus::Sending => c.pending += n,
        }
    }
    Ok(all)
}

/// One page of deliveries in ID order, optionally of one status, with each link's state.
pub async fn deliveries(
    db: &impl ConnectionTrait,
    mass_id: MassCommunicationId,
    only: Option<DeliveryStatus>,
    link: Option<LinkState>,
    after: Option<i64>,
    limit: u64,
    now: DateTime<Utc>,
) -> StoreResult<Vec<Delivery>> {
    let scope = ("o.mass_communication_id", mass_id.get());
    delivery_page(db, scope, (only, link), after, limit, now).await
}

/// One page of every message to one profile (account mail and mass mail alike) in ID order,
/// with each link's state: what an export of the person's data lists.
pub async fn deliveries_to_profile(
    db: &impl ConnectionTrait,
    profile: ProfileId,
    after: Option<i64>,
    limit: u64,
    now: DateTime<Utc>,
) -> StoreResult<Vec<Delivery>> {
    let scope = ("o.profile_id", profile.get());
    delivery_page(db, scope, (None, None), after, limit, now).await
}

/// Deliveries whose column `scope.0` is `scope.1`.
async fn delivery_page(
    db: &impl ConnectionTrait,
    scope: (&str, i64),
    (only, link): (Option<DeliveryStatus>, Option<LinkState>),
    after: Option<i64>,
    limit: u64,
    now: DateTime<Utc>,
) -> StoreResult<Vec<Delivery>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "SELECT o.id, o.profile_id, o.to_address, o.status, o.skip_reason, o.last_error, \
         o.provider_message_id, o.attempts, o.possible_duplicate, o.sent_at, \
         t.expires_at, t.used_at, t.invalidated_at FROM outbound_emails o \
         LEFT JOIN credential_tokens t ON t.id = \
         (SELECT MAX(l.id) FROM credential_tokens l WHERE l.outbound_email_id = o.id) \
         WHERE ",
    )
    .push(scope.0)
    .push(" = ")
    .param(scope.1);
    if let Some(s) = only {
        sql.push(" AND o.status = ").param(s.as_db());
    }
    if let Some(state) = link {
        sql.push(" AND ");
        crate::store::links::state::condition(&mut sql, state, now);
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
            let retired: Option<DateTime<Utc>> = r.try_get("", "invalidated_at")?;
            let link_state = expires.map(|e| LinkState::of(used, retired, e, now));
            Ok(Delivery {
                id: OutboundId::from_db(r.try_get("", "id")?),
                profile_id: r
                    .try_get::<Option<i64>>("", "profile_id")?
                    .map(ProfileId::from_db),
                to_address: r.try_get("", "to_address")?,
                status: stored(
                    "outbound_emails.status",
                    &r.try_get::<String>("", "status")?,
                )?,
                skip_reason: r
                    .try_get::<Option<String>>("", "skip_reason")?
                    .map(|s| stored("outbound_emails.skip_reason", &s))
                    .transpose()?,
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

/// How the communication's links fared: each delivery's newest link counted once by state.
/// It reads every delivery's link, so it is computed only when asked for.
pub async fn link_counts(
    db: &impl ConnectionTrait,
    mass_id: MassCommunicationId,
    now: DateTime<Utc>,
) -> StoreResult<LinkCounts> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "SELECT t.used_at, t.invalidated_at, t.expires_at FROM outbound_emails o \
         JOIN credential_tokens t ON t.id = \
         (SELECT MAX(l.id) FROM credential_tokens l WHERE l.outbound_email_id = o.id) \
         WHERE o.mass_communication_id = ",
    )
    .param(mass_id.get());
    let mut counts = LinkCounts::default();
    for row in db.query_all_raw(sql.build()).await? {
        let state = LinkState::of(
            row.try_get("", "used_at")?,
            row.try_get("", "invalidated_at")?,
            row.try_get("", "expires_at")?,
            now,
        );
        *match state {
            LinkState::Used => &mut counts.used,
            LinkState::Unused => &mut counts.unused,
            LinkState::Expired => &mut counts.expired,
            LinkState::Replaced => &mut counts.replaced,
        } += 1;
    }
    Ok(counts)
}

/// Appends the filter's conditions (after a `WHERE`).
pub(super) fn list_conditions(sql: &mut Sql, filter: &MassListFilter) {
    sql.push("1 = 1");
    if let Some(status) = filter.status {
        sql.push(" AND status = ").param(status.as_db());
    }
    if let Some(term) = &filter.search {
        // A plain scan of the subjects: an association has hundreds of communications, not
        // millions. `\` escapes LIKE's wildcards in the term.
        sql.push(" AND LOWER(subject) LIKE ")
            .param(crate::store::sql::contains_pattern(&term.to_lowercase()))
            .push(" ESCAPE '\\'");
    }
}

/// Communications newest first, with IDs below `before`.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &MassListFilter,
    before: Option<i64>,
    limit: u64,
) -> StoreResult<Vec<MassCommunication>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT id FROM mass_communications WHERE ");
    list_conditions(&mut sql, filter);
    if let Some(b) = before {
        sql.push(" AND id < ").param(b);
    }
    sql.push(" ORDER BY id DESC LIMIT ").param(limit as i64);
    let ids: Vec<i64> = db
        .query_all_raw(sql.build())
        .await?
        .into_iter()
        .map(|r| r.try_get("", "id"))
        .collect::<Result<_, _>>()?;
    let mut models = mass_communication::Entity::find()
        .filter(mass_communication::Column::Id.is_in(ids))
        .all(db)
        .await?;
    models.sort_by_key(|m| std::cmp::Reverse(m.id));
    models.into_iter().map(to_record).collect()
}

/// How many communications the filter matches.
pub async fn count(db: &impl ConnectionTrait, filter: &MassListFilter) -> StoreResult<u64> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT COUNT(*) AS n FROM mass_communications WHERE ");
    list_conditions(&mut sql, filter);
    let n: i64 = match db.query_one_raw(sql.build()).await? {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    Ok(n as u64)
}
