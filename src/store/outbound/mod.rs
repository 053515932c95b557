//! The durable mail queue (`outbound_emails`). Requests only insert rows; delivery workers
//! claim due rows under a lease, send them, and record the outcome. A row whose lease ran out
//! (its worker died) is claimed again and marked a possible duplicate.

use crate::domain::OutboundId;
use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseBackend, Set};

use crate::domain::{
    DeliveryStatus, MassCommunicationId, OutboundKind, OutboundMessage, ProfileId, ProviderReport,
    SkipReason,
};
use crate::entities::outbound_email;
use crate::store::sql::Sql;

mod codec;

use codec::{message_of, payload_of};

/// Queues one message to `to_address`, due now. A mass copy's communication goes into its
/// own column, so its deliveries can be counted and cancelled together.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    message: &OutboundMessage,
    profile_id: Option<ProfileId>,
    to_address: &str,
    now: DateTime<Utc>,
) -> StoreResult<OutboundId> {
    let mass_communication_id = match message {
        OutboundMessage::Mass { communication } => Some(*communication),
        _ => None,
    };
    let row = RowParts {
        kind: message.kind(),
        mass_communication_id,
        profile_id,
        to_address: Some(to_address.to_owned()),
        payload: payload_of(message),
        skip_reason: None,
    };
    Ok(OutboundId::from_db(new_row(row, now).insert(db).await?.id))
}

/// What differs between queue rows; `skip_reason` makes a row SKIPPED instead of QUEUED.
pub(super) struct RowParts {
    pub kind: OutboundKind,
    pub mass_communication_id: Option<MassCommunicationId>,
    pub profile_id: Option<ProfileId>,
    pub to_address: Option<String>,
    pub payload: Option<String>,
    pub skip_reason: Option<SkipReason>,
}

/// A new queue row, due now.
pub(super) fn new_row(p: RowParts, now: DateTime<Utc>) -> outbound_email::ActiveModel {
    let state = if p.skip_reason.is_some() {
        DeliveryStatus::Skipped
    } else {
        DeliveryStatus::Queued
    };
    outbound_email::ActiveModel {
        kind: Set(p.kind.as_db().to_owned()),
        mass_communication_id: Set(p.mass_communication_id.map(MassCommunicationId::get)),
        profile_id: Set(p.profile_id.map(|id| id.get())),
        to_address: Set(p.to_address),
        status: Set(state.as_db().to_owned()),
        skip_reason: Set(p.skip_reason.map(|r| r.as_db().to_owned())),
        payload: Set(p.payload),
        credential_token_id: Set(None),
        attempts: Set(0),
        // Only QUEUED and SENDING rows have a due time: it is what puts a row in the
        // (PostgreSQL) due index, so a row that ends leaves it (migration 20).
        next_attempt_at: Set(p.skip_reason.is_none().then_some(now)),
        lease_until: Set(None),
        leased_by: Set(None),
        provider_message_id: Set(None),
        last_error: Set(None),
        possible_duplicate: Set(false),
        created_at: Set(now),
        sent_at: Set(None),
        ..Default::default()
    }
}

/// A row a worker now holds.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: OutboundId,
    /// What to send, or why the row cannot be read.
    pub message: Result<OutboundMessage, String>,
    pub profile_id: Option<ProfileId>,
    pub to_address: Option<String>,
    pub attempts: i32,
    pub possible_duplicate: bool,
    pub mass_communication_id: Option<MassCommunicationId>,
}

/// Which kinds of rows are due now: a read, so an idle worker's poll takes no write lock
/// (on SQLite a claim transaction would block every request's write while it runs), and a
/// claim runs only the statements that find something.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DueNow {
    /// Rows whose worker's lease ran out.
    pub abandoned: bool,
    /// Single messages (resets, notices).
    pub system: bool,
    /// Any queued row, mass copies included.
    pub queued: bool,
}

impl DueNow {
    /// Whether anything is due at all.
    pub fn any(self) -> bool {
        self.abandoned || self.queued
    }

    /// The claims worth running, in the order they go.
    pub fn claims(self) -> impl Iterator<Item = Due> {
        [
            (self.abandoned, Due::Abandoned),
            (self.system, Due::System),
            (self.queued, Due::Any),
        ]
        .into_iter()
        .filter_map(|(due, claim)| due.then_some(claim))
    }
}

/// What is due now, with one statement. Abandoned rows are looked for only when
/// `abandoned` is set: on PostgreSQL no index names the status (so a claim changes no indexed
/// column), and the look walks every live row, so a worker does it once in a while (see
/// `Worker::look_for_abandoned`), not at every round.
pub async fn due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    abandoned: bool,
) -> StoreResult<DueNow> {
    let mut sql = Sql::new(db.get_database_backend());
    if abandoned {
        sql.push("SELECT EXISTS (SELECT 1 FROM outbound_emails WHERE ");
        held(&mut sql);
        sql.push(" AND lease_until < ").param(now).push(" AND ");
        not_paused(&mut sql);
        sql.push(") AS abandoned, ");
    } else {
        sql.push("SELECT ").param(false).push(" AS abandoned, ");
    }
    sql.push(
        "EXISTS (SELECT 1 FROM outbound_emails WHERE mass_communication_id IS NULL AND status = ",
    )
    .code(DeliveryStatus::Queued.as_db())
    .push(" AND next_attempt_at <= ")
    .param(now)
    .push(") AS system, EXISTS (SELECT 1 FROM outbound_emails WHERE status = ")
    .code(DeliveryStatus::Queued.as_db())
    .push(" AND next_attempt_at <= ")
    .param(now)
    .push(" AND ");
    not_paused(&mut sql);
    sql.push(") AS queued");
    let Some(row) = db.query_one_raw(sql.build()).await? else {
        return Ok(DueNow::default());
    };
    Ok(DueNow {
        abandoned: row.try_get("", "abandoned")?,
        system: row.try_get("", "system")?,
        queued: row.try_get("", "queued")?,
    })
}

/// Rows being sent. The due time is written out so that PostgreSQL reads them through the
/// live-rows-only due index: a row keeps the due time it was claimed at until it ends.
fn held(sql: &mut Sql) {
    sql.push("next_attempt_at IS NOT NULL AND status = ")
        .code(DeliveryStatus::Sending.as_db());
}

/// Rows of a communication that paused itself wait where they are.
fn not_paused(sql: &mut Sql) {
    sql.push("(mass_communication_id IS NULL OR mass_communication_id NOT IN (SELECT id FROM mass_communications WHERE status = ")
        .param(crate::domain::MassStatus::Paused.as_db())
        .push("))");
}

/// Which rows a claim takes.
#[derive(Debug, Clone, Copy)]
pub enum Due {
    /// Single messages (resets, notices): they go ahead of any mass send.
    System,
    /// Any queued row.
    Any,
    /// Rows whose worker's lease ran out.
    Abandoned,
}

/// Leases up to `limit` due rows to `worker` until `lease_until`. On PostgreSQL concurrent
/// workers skip each other's rows (`FOR UPDATE SKIP LOCKED`); on SQLite the write
/// transaction already serialises them.
pub async fn claim(
    db: &impl ConnectionTrait,
    due: Due,
    worker: &str,
    lease_until: DateTime<Utc>,
    limit: u64,
    now: DateTime<Utc>,
) -> StoreResult<Vec<Claimed>> {
    let backend = db.get_database_backend();
    let mut sql = Sql::new(backend);
    // A row taken over from a dead worker may have gone out only if that worker had handed it
    // to the provider and recorded no outcome.
    sql.push("UPDATE outbound_emails SET possible_duplicate = (possible_duplicate OR (status = ")
        .code(DeliveryStatus::Sending.as_db())
        .push(" AND handed_over_at IS NOT NULL)), handed_over_at = NULL, status = ")
        .code(DeliveryStatus::Sending.as_db())
        .push(", lease_until = ")
        .param(lease_until)
        .push(", leased_by = ")
        .param(worker)
        .push(", attempts = attempts + 1 WHERE id IN (SELECT id FROM outbound_emails WHERE ");
    match due {
        Due::System => {
            sql.push("mass_communication_id IS NULL AND status = ")
                .code(DeliveryStatus::Queued.as_db())
                .push(" AND next_attempt_at <= ")
                .param(now)
                .push(" ORDER BY next_attempt_at");
        }
        Due::Any => {
            sql.push("status = ")
                .code(DeliveryStatus::Queued.as_db())
                .push(" AND next_attempt_at <= ")
                .param(now)
                .push(" AND ");
            not_paused(&mut sql);
            sql.push(" ORDER BY next_attempt_at");
        }
        Due::Abandoned => {
            held(&mut sql);
            sql.push(" AND lease_until < ").param(now).push(" AND ");
            not_paused(&mut sql);
            sql.push(" ORDER BY lease_until");
        }
    }
    sql.push(" LIMIT ").param(limit as i64);
    if backend == DatabaseBackend::Postgres {
        sql.push(" FOR UPDATE SKIP LOCKED");
    }
    sql.push(") RETURNING id, kind, profile_id, to_address, payload, attempts, possible_duplicate, mass_communication_id");
    let rows = db.query_all_raw(sql.build()).await?;
    let mut claimed = rows
        .into_iter()
        .map(|r| {
            let payload: Option<String> = r.try_get("", "payload")?;
            let kind: String = r.try_get("", "kind")?;
            let mass_communication_id = r
                .try_get::<Option<i64>>("", "mass_communication_id")?
                .map(MassCommunicationId::from_db);
            Ok(Claimed {
                id: OutboundId::from_db(r.try_get("", "id")?),
                message: message_of(&kind, payload.as_deref(), mass_communication_id),
                profile_id: r
                    .try_get::<Option<i64>>("", "profile_id")?
                    .map(ProfileId::from_db),
                to_address: r.try_get("", "to_address")?,
                attempts: r.try_get("", "attempts")?,
                possible_duplicate: r.try_get("", "possible_duplicate")?,
                mass_communication_id,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    claimed.sort_by_key(|c| c.id);
    Ok(claimed)
}

/// Extends the lease of every row `worker` still holds to `lease_until`: the heartbeat of a
/// live worker, so a slow send never loses its row while a dead worker's rows are free again
/// within one lease. Returns how many rows it renewed.
pub async fn renew_leases(
    db: &impl ConnectionTrait,
    worker: &str,
    lease_until: DateTime<Utc>,
) -> StoreResult<u64> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("UPDATE outbound_emails SET lease_until = ")
        .param(lease_until)
        .push(" WHERE leased_by = ")
        .param(worker)
        .push(" AND ");
    held(&mut sql);
    Ok(db.execute_raw(sql.build()).await?.rows_affected())
}

/// How a held row ends (or waits).
#[derive(Debug, Clone)]
pub enum Outcome {
    Sent {
        provider_message_id: String,
    },
    /// Try again at `at`; `maybe_sent` marks the row a possible duplicate, because the
    /// provider may have taken this attempt.
    Retry {
        at: DateTime<Utc>,
        error: String,
        maybe_sent: bool,
    },
    Failed {
        error: String,
    },
    Skipped {
        reason: SkipReason,
    },
    /// Its communication was cancelled after the row was claimed: it never goes out.
    Cancelled,
}

/// Records, in one statement, what happened to rows this worker holds and which of its rows
/// are being handed to the provider now (`hand_over`; their mark is cleared again when their
/// outcome is recorded). Returns how many rows it wrote: a row that was no longer this
/// worker's (another worker took it over) is left as it is and not counted.
///
/// One statement rather than one per row, since the delivery worker records every group of
/// outcomes this way and each statement is a round trip. It returns a count, not the rows:
/// on SQLite each returned row is a message between threads.
pub async fn record(
    db: &impl ConnectionTrait,
    outcomes: &[(OutboundId, &Outcome)],
    hand_over: &[OutboundId],
    worker: &str,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let mut written = 0;
    // At most a dozen parameters a row, so both databases' limits per statement are far off;
    // a worker's group (one row per sending slot) fits in one.
    let outcome_chunks: Vec<_> = outcomes.chunks(128).collect();
    let hand_over_chunks: Vec<_> = hand_over.chunks(512).collect();
    for i in 0..outcome_chunks.len().max(hand_over_chunks.len()) {
        let outcomes = padded(outcome_chunks.get(i).copied().unwrap_or_default());
        let hand_over = padded(hand_over_chunks.get(i).copied().unwrap_or_default());
        let mut sql = Sql::new(db.get_database_backend());
        sql.push("UPDATE outbound_emails ");
        if sql.backend() == DatabaseBackend::Sqlite {
            // Rows by their IDs. Without statistics SQLite would rather walk every row in
            // SENDING through the status index, once per group of outcomes.
            sql.push("NOT INDEXED ");
        }
        sql.push("SET handed_over_at = ");
        if hand_over.is_empty() {
            sql.push("NULL");
        } else {
            sql.push("CASE WHEN id IN (");
            ids(&mut sql, hand_over.iter().copied());
            sql.push(") THEN ").param(now).push(" ELSE NULL END");
        }
        if !outcomes.is_empty() {
            set_outcomes(&mut sql, &outcomes, now);
        }
        sql.push(" WHERE status = ")
            .code(DeliveryStatus::Sending.as_db())
            .push(" AND leased_by = ")
            .param(worker)
            .push(" AND id IN (");
        ids(
            &mut sql,
            outcomes
                .iter()
                .map(|(id, _)| *id)
                .chain(hand_over.iter().copied()),
        );
        sql.push(")");
        written += db.execute_raw(sql.build()).await?.rows_affected();
    }
    Ok(written)
}

/// The items, the last repeated up to a power of two: statements over lists of a few sizes
/// only are prepared once each and then reused (a repeated ID changes nothing).
fn padded<T: Clone>(items: &[T]) -> std::borrow::Cow<'_, [T]> {
    let Some(last) = items.last() else {
        return items.into();
    };
    let size = items.len().next_power_of_two();
    if size == items.len() {
        return items.into();
    }
    let mut out = items.to_vec();
    out.resize(size, last.clone());
    out.into()
}

/// `, column = CASE id WHEN … END` for each column the outcomes set. A row with an outcome
/// leaves its lease; a column an outcome does not set keeps its value.
fn set_outcomes(sql: &mut Sql, outcomes: &[(OutboundId, &Outcome)], now: DateTime<Utc>) {
    sql.push(", lease_until = CASE WHEN id IN (");
    ids(sql, outcomes.iter().map(|(id, _)| *id));
    sql.push(") THEN NULL ELSE lease_until END, leased_by = CASE WHEN id IN (");
    ids(sql, outcomes.iter().map(|(id, _)| *id));
    sql.push(") THEN NULL ELSE leased_by END");
    case(sql, "status", outcomes, |o| {
        Some(
            match o {
                Outcome::Sent { .. } => DeliveryStatus::Sent,
                Outcome::Retry { .. } => DeliveryStatus::Queued,
                Outcome::Failed { .. } => DeliveryStatus::Failed,
                Outcome::Skipped { .. } => DeliveryStatus::Skipped,
                Outcome::Cancelled => DeliveryStatus::Cancelled,
            }
            .as_db()
            .into(),
        )
    });
    case(sql, "provider_message_id", outcomes, |o| match o {
        Outcome::Sent {
            provider_message_id,
        } => Some(provider_message_id.as_str().into()),
        _ => None,
    });
    case(sql, "sent_at", outcomes, |o| match o {
        Outcome::Sent { .. } => Some(now.into()),
        _ => None,
    });
    case(sql, "last_error", outcomes, |o| match o {
        Outcome::Sent { .. } => Some(Option::<String>::None.into()),
        Outcome::Retry { error, .. } | Outcome::Failed { error } => Some(error.as_str().into()),
        Outcome::Skipped { .. } | Outcome::Cancelled => None,
    });
    // A row that ends has no due time any more (see `new_row`).
    case(sql, "next_attempt_at", outcomes, |o| match o {
        Outcome::Retry { at, .. } => Some((*at).into()),
        _ => Some(Option::<DateTime<Utc>>::None.into()),
    });
    case(sql, "possible_duplicate", outcomes, |o| match o {
        Outcome::Retry {
            maybe_sent: true, ..
        } => Some(true.into()),
        _ => None,
    });
    case(sql, "skip_reason", outcomes, |o| match o {
        Outcome::Skipped { reason } => Some(reason.as_db().into()),
        _ => None,
    });
}

/// `, column = CASE id WHEN row THEN value … ELSE column END` over the outcomes that set
/// `column` (`value` gives `None` for the others); nothing when none does.
fn case(
    sql: &mut Sql,
    column: &str,
    outcomes: &[(OutboundId, &Outcome)],
    value: impl Fn(&Outcome) -> Option<sea_orm::Value>,
) {
    let mut any = false;
    for (id, outcome) in outcomes {
        let Some(v) = value(outcome) else { continue };
        if !any {
            sql.push(", ").push(column).push(" = CASE id");
            any = true;
        }
        sql.push(" WHEN ").param(id.get()).push(" THEN ").param(v);
    }
    if any {
        sql.push(" ELSE ").push(column).push(" END");
    }
}

/// A comma-separated list of row IDs, as parameters.
fn ids(sql: &mut Sql, ids: impl Iterator<Item = OutboundId>) {
    sql.list(ids.map(|id| id.get()));
}

/// Whether any worker holds a row under a lease that has not run out.
pub async fn any_held(db: &impl ConnectionTrait, now: DateTime<Utc>) -> StoreResult<bool> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT 1 AS held FROM outbound_emails WHERE ");
    held(&mut sql);
    sql.push(" AND lease_until >= ").param(now).push(" LIMIT 1");
    Ok(db.query_one_raw(sql.build()).await?.is_some())
}

/// The row a provider report moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    pub id: OutboundId,
    pub mass_communication_id: Option<MassCommunicationId>,
    pub profile_id: Option<ProfileId>,
}

/// Moves the accepted row the provider reports on to the report's status, keeping the
/// diagnostic as its error. The row is found by the provider's message ID and, when the
/// report carries memberkey's tag, by that row ID as well: both must agree. A report that
/// would move a row backwards (a late "delivered" after a bounce) changes nothing. Returns
/// the row it moved.
pub async fn report(
    db: &impl ConnectionTrait,
    provider_message_id: &str,
    outbound_id: Option<OutboundId>,
    report: ProviderReport,
    detail: Option<&str>,
) -> StoreResult<Option<Reported>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("UPDATE outbound_emails SET status = ")
        .param(report.status().as_db());
    if let Some(d) = detail {
        sql.push(", last_error = ").param(d);
    }
    sql.push(" WHERE provider_message_id = ")
        .param(provider_message_id);
    if let Some(id) = outbound_id {
        sql.push(" AND id = ").param(id.get());
    }
    sql.push(" AND status IN (");
    sql.list(
        DeliveryStatus::reported_from(report)
            .iter()
            .map(|s| s.as_db()),
    );
    sql.push(") RETURNING id, mass_communication_id, profile_id");
    let Some(row) = db.query_one_raw(sql.build()).await? else {
        return Ok(None);
    };
    Ok(Some(Reported {
        id: OutboundId::from_db(row.try_get("", "id")?),
        mass_communication_id: row
            .try_get::<Option<i64>>("", "mass_communication_id")?
            .map(MassCommunicationId::from_db),
        profile_id: row
            .try_get::<Option<i64>>("", "profile_id")?
            .map(ProfileId::from_db),
    }))
}
