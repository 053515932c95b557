//! Mass communications and their per-recipient delivery rows (`outbound_emails` with a
//! `mass_communication_id`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use serde::{Deserialize, Serialize};

use super::outbound::{RowParts, new_row};
use super::sql::Sql;
use super::stored;
use crate::domain::{
    Delivery, DeliveryCounts, DeliveryStatus, FailureTally, FollowUp, LinkCounts, LinkState,
    MassCommunication, MassCommunicationId, MassListFilter, MassPauseRule, MassStatus,
    MassTransition, OutboundId, OutboundKind, ProfileFilter, ProfileId, RecipientFilter,
    Recipients, SearchCursor, SearchTerm, SkipReason,
};
use crate::entities::{mass_communication, outbound_email};

/// How recipients are kept in the `recipients` column. Unknown keys are refused: a filter
/// part written by a newer version must not be dropped, or the filter would widen.
#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RecipientsJson {
    profile_ids: Option<Vec<i64>>,
    kind: Option<String>,
    member_status: Option<String>,
    search: Option<String>,
    #[serde(default)]
    include_related_profiles: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    has_credentials: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    has_password: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signed_in: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signed_in_since: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    member_statuses: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from_communication: Option<FollowUpJson>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FollowUpJson {
    id: i64,
    #[serde(default)]
    link_states: Vec<String>,
    #[serde(default)]
    delivery_statuses: Vec<String>,
}

/// Parses a list of stored spellings, refusing any this version does not know.
fn stored_all<T>(column: &'static str, raw: Vec<String>) -> Result<Vec<T>, DbErr>
where
    T: std::str::FromStr<Err = String>,
{
    raw.iter().map(|s| stored(column, s)).collect()
}

fn spellings<T: std::fmt::Display>(values: &[T]) -> Vec<String> {
    values.iter().map(ToString::to_string).collect()
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
            has_credentials: f.has_credentials,
            has_password: f.has_password,
            signed_in: f.signed_in,
            signed_in_since: f.signed_in_since,
            member_statuses: spellings(&f.member_statuses),
            from_communication: f.from_communication.as_ref().map(|u| FollowUpJson {
                id: u.communication.get(),
                link_states: spellings(&u.link_states),
                delivery_statuses: spellings(&u.delivery_statuses),
            }),
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
        // A part this version cannot read fails the whole filter: dropping it would widen
        // who receives the communication.
        kind: j
            .kind
            .map(|k| stored("mass_communications.recipients.kind", &k))
            .transpose()?,
        member_status: j
            .member_status
            .map(|s| stored("mass_communications.recipients.memberStatus", &s))
            .transpose()?,
        search: j.search,
        include_related_profiles: j.include_related_profiles,
        has_credentials: j.has_credentials,
        has_password: j.has_password,
        signed_in: j.signed_in,
        signed_in_since: j.signed_in_since,
        member_statuses: stored_all(
            "mass_communications.recipients.memberStatuses",
            j.member_statuses,
        )?,
        from_communication: j
            .from_communication
            .map(|u| {
                Ok::<_, DbErr>(FollowUp {
                    communication: MassCommunicationId::from_db(u.id),
                    link_states: stored_all(
                        "mass_communications.recipients.fromCommunication.linkStates",
                        u.link_states,
                    )?,
                    delivery_statuses: stored_all(
                        "mass_communications.recipients.fromCommunication.deliveryStatuses",
                        u.delivery_statuses,
                    )?,
                })
            })
            .transpose()?,
    }))
}

fn to_record(m: mass_communication::Model) -> Result<MassCommunication, DbErr> {
    Ok(MassCommunication {
        id: MassCommunicationId::from_db(m.id),
        subject: m.subject,
        html: m.html,
        recipients: recipients_from_json(&m.recipients)?,
        link_validity: chrono::Duration::seconds(m.link_validity_seconds),
        status: stored("mass_communications.status", &m.status)?,
        created_at: m.created_at,
        updated_at: m.updated_at,
        queued_at: m.queued_at,
        finished_at: m.finished_at,
        pause_reason: m.pause_reason,
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
    id: MassCommunicationId,
    content: MassContent<'_>,
    now: DateTime<Utc>,
) -> Result<MassCommunication, DbErr> {
    let m = mass_communication::ActiveModel {
        id: Set(id.get()),
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

pub async fn get(
    db: &impl ConnectionTrait,
    id: MassCommunicationId,
) -> Result<Option<MassCommunication>, DbErr> {
    mass_communication::Entity::find_by_id(id.get())
        .one(db)
        .await?
        .map(to_record)
        .transpose()
}

/// The stored status of each of these communications (a missing one is left out).
pub async fn statuses(
    db: &impl ConnectionTrait,
    ids: &[MassCommunicationId],
) -> Result<HashMap<MassCommunicationId, MassStatus>, DbErr> {
    let mut out = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT id, status FROM mass_communications WHERE id IN (");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.param(id.get());
    }
    sql.push(")");
    for row in db.query_all_raw(sql.build()).await? {
        let status: String = row.try_get("", "status")?;
        out.insert(
            MassCommunicationId::from_db(row.try_get("", "id")?),
            stored("mass_communications.status", &status)?,
        );
    }
    Ok(out)
}

/// Applies a status move if the communication is in one of the statuses it starts from
/// (so two clicks cannot both send it). Returns whether it moved.
pub async fn transition(
    db: &impl ConnectionTrait,
    id: MassCommunicationId,
    transition: MassTransition,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    use sea_orm::sea_query::Expr;
    let to = transition.to();
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
        MassStatus::Draft | MassStatus::Sending | MassStatus::Paused => {}
    }
    if transition == MassTransition::Resume {
        // A fresh start: the reason is gone and the next outcomes are judged anew.
        update = update
            .col_expr(
                mass_communication::Column::PauseReason,
                Expr::value(Option::<String>::None),
            )
            .col_expr(mass_communication::Column::OutcomesSeen, Expr::value(0))
            .col_expr(mass_communication::Column::WindowFailures, Expr::value(0))
            .col_expr(mass_communication::Column::FailureStreak, Expr::value(0));
    }
    let from = transition.from().iter().map(|s| s.as_db());
    let result = update
        .filter(mass_communication::Column::Id.eq(id.get()))
        .filter(mass_communication::Column::Status.is_in(from))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Adds outcomes (in the order they ended; `true` = failed) to a communication's failure
/// counters and pauses it, with the reason, when `rule` says so. Runs in the transaction
/// that records the outcomes. Returns the reason when this call paused it.
pub async fn tally_failures(
    db: &impl ConnectionTrait,
    id: MassCommunicationId,
    outcomes: &[bool],
    rule: &MassPauseRule,
    now: DateTime<Utc>,
) -> Result<Option<String>, DbErr> {
    use sea_orm::sea_query::Expr;
    if !outcomes.contains(&true) {
        tally_successes(db, id, outcomes.len(), rule).await?;
        return Ok(None);
    }
    let Some(m) = mass_communication::Entity::find_by_id(id.get())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let before = FailureTally {
        outcomes_seen: m.outcomes_seen.max(0) as u32,
        window_failures: m.window_failures.max(0) as u32,
        failure_streak: m.failure_streak.max(0) as u32,
    };
    let after = before.count(rule, outcomes.iter().copied());
    let mut update = mass_communication::Entity::update_many()
        .col_expr(
            mass_communication::Column::OutcomesSeen,
            Expr::value(after.outcomes_seen as i32),
        )
        .col_expr(
            mass_communication::Column::WindowFailures,
            Expr::value(after.window_failures as i32),
        )
        .col_expr(
            mass_communication::Column::FailureStreak,
            Expr::value(after.failure_streak as i32),
        );
    let reason = after.pause_reason(rule);
    let pausing = reason.is_some()
        && MassTransition::Pause
            .from()
            .iter()
            .any(|s| s.as_db() == m.status);
    if pausing {
        update = update
            .col_expr(
                mass_communication::Column::Status,
                Expr::value(MassStatus::Paused.as_db()),
            )
            .col_expr(
                mass_communication::Column::PauseReason,
                Expr::value(reason.clone()),
            )
            .col_expr(mass_communication::Column::UpdatedAt, Expr::value(now));
    }
    update
        .filter(mass_communication::Column::Id.eq(id.get()))
        .exec(db)
        .await?;
    Ok(reason.filter(|_| pausing))
}

/// Counts `n` successes, as `FailureTally::count` does, without reading the row first: they
/// fill the rule's window and end any streak, and can never pause. Once the window is full
/// and no streak runs the statement matches nothing, so it writes nothing (and on
/// PostgreSQL takes no row lock that another process's worker would wait for).
pub async fn tally_successes(
    db: &impl ConnectionTrait,
    id: MassCommunicationId,
    n: usize,
    rule: &MassPauseRule,
) -> Result<(), DbErr> {
    let window = i64::from(rule.window);
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("UPDATE mass_communications SET failure_streak = 0, outcomes_seen = CASE WHEN outcomes_seen >= ")
        .param(window)
        .push(" THEN outcomes_seen WHEN outcomes_seen + ")
        .param(n as i64)
        .push(" > ")
        .param(window)
        .push(" THEN ")
        .param(window)
        .push(" ELSE outcomes_seen + ")
        .param(n as i64)
        .push(" END WHERE id = ")
        .param(id.get())
        .push(" AND (outcomes_seen < ")
        .param(window)
        .push(" OR failure_streak <> 0)");
    db.execute_raw(sql.build()).await?;
    Ok(())
}

/// The communications still queued or sending (of `only`, when given): the ones a finish
/// may be due for.
pub async fn in_flight(
    db: &impl ConnectionTrait,
    only: Option<&[MassCommunicationId]>,
) -> Result<Vec<MassCommunicationId>, DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT id FROM mass_communications WHERE status IN (")
        .param(MassStatus::Queued.as_db())
        .push(", ")
        .param(MassStatus::Sending.as_db())
        .push(")");
    if let Some(ids) = only {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        sql.push(" AND id IN (");
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.param(id.get());
        }
        sql.push(")");
    }
    db.query_all_raw(sql.build())
        .await?
        .into_iter()
        .map(|row| row.try_get("", "id").map(MassCommunicationId::from_db))
        .collect()
}

/// Whether any delivery of the communication has `status` (answered from
/// `idx_outbound_emails_mass_status`, without counting).
async fn any_delivery(
    db: &impl ConnectionTrait,
    mass_id: MassCommunicationId,
    statuses: &[DeliveryStatus],
) -> Result<bool, DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT 1 AS found FROM outbound_emails WHERE mass_communication_id = ")
        .param(mass_id.get())
        .push(" AND status IN (");
    for (i, status) in statuses.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.param(status.as_db());
    }
    sql.push(") LIMIT 1");
    Ok(db.query_one_raw(sql.build()).await?.is_some())
}

/// Whether any delivery of the communication is still queued or being sent.
pub async fn has_pending(
    db: &impl ConnectionTrait,
    mass_id: MassCommunicationId,
) -> Result<bool, DbErr> {
    any_delivery(
        db,
        mass_id,
        &[DeliveryStatus::Queued, DeliveryStatus::Sending],
    )
    .await
}

/// Records the communication as finished if all its deliveries have ended: `SENT`, or
/// `FAILED` when none went out and some failed. Run it in a write transaction: it locks the
/// communication first, so a retry that re-queues deliveries either commits before it looks
/// (and it finds them pending) or waits until it is done. Returns whether it finished it.
pub async fn settle(
    db: &impl ConnectionTrait,
    mass_id: MassCommunicationId,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    use DeliveryStatus::Failed;
    let mut lock = Sql::new(db.get_database_backend());
    lock.push("SELECT id FROM mass_communications WHERE id = ")
        .param(mass_id.get());
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        // SQLite's write transaction already excludes every other writer.
        lock.push(" FOR UPDATE");
    }
    db.query_one_raw(lock.build()).await?;
    if has_pending(db, mass_id).await? {
        return Ok(false);
    }
    let failed = !any_delivery(db, mass_id, &DeliveryStatus::ACCEPTED).await?
        && any_delivery(db, mass_id, &[Failed]).await?;
    transition(db, mass_id, MassTransition::Finish { failed }, now).await
}

/// A delivery row to create when the communication is sent.
pub struct NewDelivery {
    pub profile_id: ProfileId,
    pub to_address: Option<String>,
    pub skip_reason: Option<SkipReason>,
}

/// Inserts every recipient's row, in chunks that stay under both databases' parameter limits.
pub async fn insert_deliveries(
    db: &impl ConnectionTrait,
    mass_id: MassCommunicationId,
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
                    kind: OutboundKind::Mass,
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

pub async fn counts(
    db: &impl ConnectionTrait,
    mass_id: MassCommunicationId,
) -> Result<DeliveryCounts, DbErr> {
    Ok(counts_many(db, &[mass_id])
        .await?
        .remove(&mass_id)
        .unwrap_or_default())
}

/// The counts of several communications in one grouped query (a page of a list).
pub async fn counts_many(
    db: &impl ConnectionTrait,
    ids: &[MassCommunicationId],
) -> Result<std::collections::HashMap<MassCommunicationId, DeliveryCounts>, DbErr> {
    let mut all = std::collections::HashMap::new();
    if ids.is_empty() {
        return Ok(all);
    }
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "SELECT mass_communication_id AS id, status, COUNT(*) AS n FROM outbound_emails \
         WHERE mass_communication_id IN (",
    );
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.param(id.get());
    }
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
) -> Result<Vec<Delivery>, DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "SELECT o.id, o.profile_id, o.to_address, o.status, o.skip_reason, o.last_error, \
         o.provider_message_id, o.attempts, o.possible_duplicate, o.sent_at, \
         t.expires_at, t.used_at, t.invalidated_at FROM outbound_emails o \
         LEFT JOIN credential_tokens t ON t.id = \
         (SELECT MAX(l.id) FROM credential_tokens l WHERE l.outbound_email_id = o.id) \
         WHERE o.mass_communication_id = ",
    )
    .param(mass_id.get());
    if let Some(s) = only {
        sql.push(" AND o.status = ").param(s.as_db());
    }
    if let Some(state) = link {
        sql.push(" AND ");
        link_condition(&mut sql, state, now);
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

/// The SQL condition on token `t` for one link state; the same rule as `LinkState::of`.
pub(crate) fn link_condition(sql: &mut Sql, state: LinkState, now: DateTime<Utc>) {
    match state {
        LinkState::Used => {
            sql.push("t.used_at IS NOT NULL");
        }
        LinkState::Replaced => {
            sql.push("t.used_at IS NULL AND t.invalidated_at IS NOT NULL");
        }
        LinkState::Expired => {
            sql.push("t.used_at IS NULL AND t.invalidated_at IS NULL AND t.expires_at <= ")
                .param(now);
        }
        LinkState::Unused => {
            sql.push("t.used_at IS NULL AND t.invalidated_at IS NULL AND t.expires_at > ")
                .param(now);
        }
    }
}

/// How the communication's links fared: each delivery's newest link counted once by state.
/// It reads every delivery's link, so it is computed only when asked for.
pub async fn link_counts(
    db: &impl ConnectionTrait,
    mass_id: MassCommunicationId,
    now: DateTime<Utc>,
) -> Result<LinkCounts, DbErr> {
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

/// Cancels the deliveries not yet handed to a worker. Returns how many.
pub async fn cancel_pending(
    db: &impl ConnectionTrait,
    mass_id: MassCommunicationId,
) -> Result<u64, DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("UPDATE outbound_emails SET status = ")
        .param(DeliveryStatus::Cancelled.as_db())
        .push(" WHERE mass_communication_id = ")
        .param(mass_id.get())
        .push(" AND status = ")
        .param(DeliveryStatus::Queued.as_db());
    Ok(db.execute_raw(sql.build()).await?.rows_affected())
}

/// Queues the failed deliveries again. Returns how many.
pub async fn retry_failed(
    db: &impl ConnectionTrait,
    mass_id: MassCommunicationId,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("UPDATE outbound_emails SET status = ")
        .param(DeliveryStatus::Queued.as_db())
        .push(", next_attempt_at = ")
        .param(now)
        .push(", last_error = NULL WHERE mass_communication_id = ")
        .param(mass_id.get())
        .push(" AND status = ")
        .param(DeliveryStatus::Failed.as_db());
    Ok(db.execute_raw(sql.build()).await?.rows_affected())
}

/// Every profile the recipients name right now, each once, in a stable order. A filter is
/// read in pages of 1,000, so 100,000 recipients never sit in one result set.
pub async fn resolve_recipients(
    db: &impl ConnectionTrait,
    recipients: &Recipients,
    search: Option<&SearchTerm>,
    now: DateTime<Utc>,
) -> Result<Vec<ProfileId>, DbErr> {
    const PAGE: u64 = 1000;
    let f = match recipients {
        Recipients::ProfileIds(ids) => return Ok(dedupe(ids.iter().copied())),
        Recipients::Filter(f) => f,
    };
    let filter = ProfileFilter {
        kind: f.kind,
        member_status: f.member_status,
        has_email: None,
        has_credentials: f.has_credentials,
        has_password: f.has_password,
        signed_in: f.signed_in,
        signed_in_since: f.signed_in_since,
        member_statuses: f.member_statuses.clone(),
        follow_up: f.from_communication.clone().map(|u| (u, now)),
    };
    let mut out = Vec::new();
    match search {
        Some(term) => {
            let mut cursor = None;
            loop {
                let hits = super::search::search(db, term, &filter, cursor, PAGE).await?;
                let done = (hits.len() as u64) < PAGE;
                cursor = hits.last().map(|h| SearchCursor {
                    tier: h.tier,
                    id: h.profile.id.get(),
                });
                out.extend(hits.into_iter().map(|h| h.profile.id));
                if done {
                    break;
                }
            }
        }
        None => {
            let mut after = None;
            loop {
                let page = super::profiles::list(db, &filter, after, PAGE).await?;
                let done = (page.len() as u64) < PAGE;
                after = page.last().map(|p| p.id.get());
                out.extend(page.into_iter().map(|p| p.id));
                if done {
                    break;
                }
            }
        }
    }
    if f.include_related_profiles {
        let mut related = Vec::new();
        for chunk in out.chunks(PAGE as usize) {
            let children = super::profiles::children_of(db, chunk).await?;
            for id in chunk {
                if let Some(c) = children.get(id) {
                    related.extend(c.iter().map(|p| p.id));
                }
            }
        }
        out.extend(related);
    }
    Ok(dedupe(out))
}

/// Keeps the first of each ID, in order.
fn dedupe(ids: impl IntoIterator<Item = ProfileId>) -> Vec<ProfileId> {
    let mut seen = std::collections::HashSet::new();
    ids.into_iter().filter(|i| seen.insert(*i)).collect()
}

/// Appends the filter's conditions (after a `WHERE`).
fn list_conditions(sql: &mut Sql, filter: &MassListFilter) {
    sql.push("1 = 1");
    if let Some(status) = filter.status {
        sql.push(" AND status = ").param(status.as_db());
    }
    if let Some(term) = &filter.search {
        // A plain scan of the subjects: an association has hundreds of communications, not
        // millions. `\` escapes LIKE's wildcards in the term.
        sql.push(" AND LOWER(subject) LIKE ")
            .param(super::sql::contains_pattern(&term.to_lowercase()))
            .push(" ESCAPE '\\'");
    }
}

/// Communications newest first, with IDs below `before`.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &MassListFilter,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<MassCommunication>, DbErr> {
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
pub async fn count(db: &impl ConnectionTrait, filter: &MassListFilter) -> Result<u64, DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT COUNT(*) AS n FROM mass_communications WHERE ");
    list_conditions(&mut sql, filter);
    let n: i64 = match db.query_one_raw(sql.build()).await? {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    Ok(n as u64)
}

/// Deletes the communication if it is still a draft. Returns whether it did.
pub async fn delete_draft(
    db: &impl ConnectionTrait,
    id: MassCommunicationId,
) -> Result<bool, DbErr> {
    let result = mass_communication::Entity::delete_many()
        .filter(mass_communication::Column::Id.eq(id.get()))
        .filter(mass_communication::Column::Status.eq(MassStatus::Draft.as_db()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
