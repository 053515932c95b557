//! The delivery worker: claims due rows from the durable queue, prepares each message (its
//! tokens stored before it is sent), sends through the configured transport within the
//! send-rate limit and a bounded number at once, and records every outcome. While one batch
//! sends, the next is claimed and prepared. Throttled and
//! transient failures wait with exponential backoff and are never dropped; permanent ones are
//! recorded on the row. Several processes may run workers on one database.

pub mod compose;
mod error;
pub mod mass;
pub mod rate;
mod record;
mod stops;

pub use error::{DeliveryError, DeliveryResult};

use crate::domain::OutboundId;
use record::{Waiting, wait_stored, write_in_groups};
use stops::RoundStops;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::domain::MassCommunicationId;
use crate::domain::{Clock, MassStatus};
use crate::mail::{MailTransport, OutgoingEmail, SendError};
use crate::store::{self, outbound::Outcome};
use rate::SendRate;

/// What the delivery worker needs: the database, the clock, the settings and the bell that
/// requests ring when they queue mail. It knows nothing of the use cases.
#[derive(Clone)]
pub struct Context {
    pub db: store::Db,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    /// Rung by a request that queued mail, so the worker need not wait for its next poll.
    pub wakeup: Arc<tokio::sync::Notify>,
    /// Finds the suppressions of erased people, kept under a keyed hash of the address.
    pub pseudonyms: crate::domain::Pseudonyms,
}

/// What to do with a claimed row: send this message, or end the row at once.
pub enum Prepared {
    Send(OutgoingEmail),
    Done(Outcome),
}

impl Prepared {
    /// A row without an address ends at once.
    fn no_address() -> Self {
        Prepared::Done(Outcome::Skipped {
            reason: crate::domain::SkipReason::NoEmailAddress,
        })
    }
}

/// Backoff after the n-th failed attempt: 2 s doubling up to 10 minutes, with ±20% jitter so
/// many throttled rows do not return in one burst.
pub fn backoff(attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 20) as u32 - 1;
    let base_ms = (2_000u64.saturating_mul(1u64 << exp.min(16))).min(600_000);
    let mut r = [0u8; 2];
    let _ = getrandom::fill(&mut r);
    let jitter = 0.8 + (u16::from_le_bytes(r) as f64 / u16::MAX as f64) * 0.4;
    Duration::milliseconds((base_ms as f64 * jitter) as i64)
}

/// Locks plain data; a panic elsewhere cannot leave it half-changed.
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What became of one hand-over to the provider.
enum Delivered {
    /// The message's own outcome.
    Outcome(Outcome),
    /// The provider refused the whole account or sender, so this says nothing about the
    /// message: it goes back to the queue and delivery pauses.
    AccountRefused(String),
}

/// A message's outcome to store: its row, its communication, what happened.
type Recorded = (OutboundId, Option<MassCommunicationId>, Outcome);

/// One write a sending slot makes: the outcomes it has not stored yet, and the message it
/// hands to the provider next.
struct Step {
    outcomes: Vec<Recorded>,
    /// The row handed over next, and its communication.
    hand_over: Option<(OutboundId, Option<MassCommunicationId>)>,
}

struct Job {
    id: OutboundId,
    attempts: i32,
    email: OutgoingEmail,
    mass_communication_id: Option<MassCommunicationId>,
}

/// Claims, prepares, sends and records queued mail. Several may run on one database. A
/// clone shares everything with the original (the next batch is claimed on a task of its
/// own, so its rendering runs beside the sending, on the other core).
#[derive(Clone)]
pub struct Worker {
    svc: Context,
    transport: Arc<dyn MailTransport>,
    rate: Arc<SendRate>,
    id: Arc<str>,
    /// The next batch, claimed and prepared while the one before it was sending, so the
    /// database work of one batch overlaps the sending of the other.
    ahead: Arc<tokio::sync::Mutex<Vec<Job>>>,
    /// Messages sent per communication and not yet counted toward its pause rule. Successes
    /// never pause, so they are counted once per batch, or before this worker's next failure
    /// of that communication (so "in a row" stays exact for one worker), not with every group.
    uncounted: Arc<std::sync::Mutex<std::collections::HashMap<MassCommunicationId, usize>>>,
    /// When this worker last looked for rows whose worker's lease ran out.
    abandoned_look: Arc<std::sync::Mutex<Option<DateTime<Utc>>>>,
}

impl Worker {
    pub fn new(svc: Context, transport: Arc<dyn MailTransport>) -> Self {
        let rate = SendRate::shared(svc.config.mail.max_send_rate, svc.db.clone());
        Self {
            svc,
            transport,
            rate: Arc::new(rate),
            id: format!("worker-{}", uuid::Uuid::new_v4().simple()).into(),
            ahead: Arc::default(),
            uncounted: Arc::default(),
            abandoned_look: Arc::default(),
        }
    }

    /// Whether to look for abandoned rows now: at the first round, then every half lease. The
    /// look walks every live row on PostgreSQL (no index names the status, so that a claim
    /// writes no index entry), so it is not done at every round; a dead worker's rows wait at
    /// most half a lease longer.
    fn look_for_abandoned(&self, now: DateTime<Utc>) -> bool {
        let mut last = self
            .abandoned_look
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let look = last.is_none_or(|at| now >= at + self.svc.config.mail.lease / 2 || now < at);
        if look {
            *last = Some(now);
        }
        look
    }

    /// Runs until `stop` turns true, then finishes the messages in hand.
    pub fn spawn(self, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
        tokio::spawn(async move {
            let wake = self.svc.wakeup.clone();
            loop {
                if *stop.borrow() {
                    break;
                }
                let notified = wake.notified();
                let worked = match self.round().await {
                    Ok(n) => n > 0,
                    Err(e) => {
                        tracing::error!(error = %e, "delivery round failed; retrying");
                        false
                    }
                };
                if worked {
                    continue;
                }
                tokio::select! {
                    _ = notified => {}
                    _ = tokio::time::sleep(self.svc.config.mail.poll) => {}
                    _ = stop.changed() => {}
                }
            }
            self.release_ahead().await;
            tracing::info!(worker = %self.id, "delivery worker stopped");
        })
    }

    /// Runs rounds until no message is due or held by any worker, and returns how many rows
    /// this worker handled. Messages waiting for a later retry do not count as work. Tests
    /// call it to know that everything that was going to be sent has been.
    pub async fn drain(&self) -> DeliveryResult<usize> {
        // Wall-clock bound: with a frozen test clock a stuck worker's lease never runs out.
        let deadline = tokio::time::Instant::now() + StdDuration::from_secs(60);
        let mut handled = 0;
        loop {
            let n = self.round().await?;
            handled += n;
            if n > 0 {
                continue;
            }
            let now = self.svc.clock.now();
            // Due rows this round could not claim are being claimed by another worker right
            // now (on PostgreSQL its claim skips past ours, and is not yet visible as held).
            // While delivery is paused, due rows wait for staff, not for another worker.
            let claimable = store::delivery_pause::get(&self.svc.db).await?.is_none()
                && store::outbound::due(&self.svc.db, now, self.look_for_abandoned(now))
                    .await?
                    .any();
            if !store::outbound::any_held(&self.svc.db, now).await? && !claimable {
                return Ok(handled);
            }
            if tokio::time::Instant::now() > deadline {
                return Err(DeliveryError::NotDrained);
            }
            // Another worker holds or is claiming rows; they end (or their lease runs out) soon.
            tokio::time::sleep(StdDuration::from_millis(20)).await;
        }
    }

    /// Records as finished the communications (of `only`, when given) whose deliveries have
    /// all ended, each in its own short transaction. A failure is logged and tried again at
    /// the next round; it never holds up sending.
    async fn settle(&self, only: Option<&[MassCommunicationId]>) {
        if let Err(e) = self.try_settle(only).await {
            tracing::warn!(error = %e, "could not record finished communications; trying again later");
        }
    }

    async fn try_settle(&self, only: Option<&[MassCommunicationId]>) -> DeliveryResult<()> {
        for id in store::mass::in_flight(&self.svc.db, only).await? {
            // A read first: mid-send something is almost always pending, and a write
            // transaction (on SQLite the one write lock) is taken only when nothing seems to be.
            if store::mass::has_pending(&self.svc.db, id).await? {
                continue;
            }
            let txn = store::begin_write(&self.svc.db).await?;
            let finished = store::mass::settle(&txn, id, self.svc.clock.now()).await?;
            store::commit(txn).await?;
            if finished {
                tracing::info!(mass_id = id.get(), "mass communication finished");
            }
        }
        Ok(())
    }

    /// Rows claimed per round: enough to keep the provider busy for a few seconds, few enough
    /// that the rows held by one worker stay a small share of a large send.
    fn batch_size(&self) -> u64 {
        let mail = &self.svc.config.mail;
        let by_rate = (mail.max_send_rate * 5.0) as u64;
        by_rate.clamp(mail.send_concurrency as u64, 500)
    }

    /// One round: sends the batch in hand (claimed ahead in the round before, or claimed now)
    /// while it claims and prepares the next. Returns how many rows it claimed.
    async fn round(&self) -> DeliveryResult<usize> {
        // Communications whose deliveries all ended (some end without a send: all skipped,
        // or nothing left to retry) are recorded as finished here, never by a read.
        self.settle(None).await;
        // While the provider refuses the account, nothing is claimed: the messages wait
        // queued, unharmed, until staff resume delivery.
        if store::delivery_pause::get(&self.svc.db).await?.is_some() {
            self.release_ahead().await;
            return Ok(0);
        }
        let mut claimed = 0;
        let ahead = std::mem::take(&mut *self.ahead.lock().await);
        let (jobs, stopped) = if ahead.is_empty() {
            let (jobs, n) = self.claim().await?;
            claimed += n;
            (jobs, Vec::new())
        } else {
            self.recheck(ahead).await?
        };
        if jobs.is_empty() && stopped.is_empty() {
            return Ok(claimed);
        }
        let mut communications: Vec<MassCommunicationId> = jobs
            .iter()
            .filter_map(|j| j.mass_communication_id)
            .chain(stopped.iter().filter_map(|(_, m, _)| *m))
            .collect();
        communications.sort_unstable();
        communications.dedup();
        let claimer = self.clone();
        let next = tokio::spawn(async move { claimer.claim().await });
        let (_, next) = tokio::join!(self.send(jobs, stopped), next);
        // The batch just sent is recorded whatever became of the next one's claim.
        let next = next.map_err(DeliveryError::from).and_then(|claim| {
            let (jobs, n) = claim?;
            claimed += n;
            Ok(jobs)
        });
        // Once per round, not per group of outcomes: the round's last outcome is stored by
        // now, and a check per group of outcomes cost about a tenth of the delivery rate
        // (BENCHMARKS.md).
        self.settle(Some(&communications)).await;
        *self.ahead.lock().await = next?;
        Ok(claimed)
    }

    /// A batch claimed ahead waited while the one before it was sent: its communications may
    /// have paused themselves, or been cancelled, meanwhile. Returns the jobs still to send
    /// and the outcomes of the others (back to the queue, or cancelled).
    async fn recheck(&self, jobs: Vec<Job>) -> DeliveryResult<(Vec<Job>, Vec<Recorded>)> {
        let mut ids: Vec<MassCommunicationId> = jobs
            .iter()
            .filter_map(|j| j.mass_communication_id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let statuses = store::mass::statuses(&self.svc.db, &ids).await?;
        let mut send = Vec::with_capacity(jobs.len());
        let mut stopped = Vec::new();
        for job in jobs {
            let status = job.mass_communication_id.and_then(|m| statuses.get(&m));
            match status.and_then(|s| self.stopped_by(*s)) {
                Some(outcome) => stopped.push((job.id, job.mass_communication_id, outcome)),
                None => send.push(job),
            }
        }
        Ok((send, stopped))
    }

    /// The outcome of a held message whose communication is no longer sending: back to the
    /// queue when it paused, cancelled when staff cancelled it.
    fn stopped_by(&self, status: MassStatus) -> Option<Outcome> {
        match status {
            MassStatus::Paused => Some(self.held_back()),
            MassStatus::Cancelled => Some(Outcome::Cancelled),
            _ => None,
        }
    }

    /// The statuses of the communications whose messages a group of steps has just marked
    /// as handed over, read once that group is stored and before its slots send: a batch
    /// takes seconds to send at the provider's rate, and staff who cancel or pause expect
    /// nothing more to leave. Each message goes out only after a read that began once it was
    /// marked, so only the messages already in the provider's hands (one per slot) can still
    /// go out; one read serves the whole group (a read per message cost a third of the
    /// delivery rate, BENCHMARKS.md). If the read fails, the messages go out as they would
    /// have a moment earlier.
    async fn statuses_now(
        &self,
        mut ids: Vec<MassCommunicationId>,
    ) -> std::collections::HashMap<MassCommunicationId, MassStatus> {
        ids.sort_unstable();
        ids.dedup();
        match store::mass::statuses(&self.svc.db, &ids).await {
            Ok(statuses) => statuses,
            Err(e) => {
                tracing::warn!(error = %e, "could not recheck the communications before sending; sending");
                Default::default()
            }
        }
    }

    /// Puts the batch claimed ahead back in the queue, unsent: delivery paused, or the worker
    /// is stopping. (Had the process died instead, the rows would come back when their lease
    /// ran out, not flagged as possible duplicates, since none was handed over.)
    async fn release_ahead(&self) {
        let jobs = std::mem::take(&mut *self.ahead.lock().await);
        if jobs.is_empty() {
            return;
        }
        let outcomes = jobs
            .iter()
            .map(|j| (j.id, j.mass_communication_id, self.held_back()))
            .collect();
        self.record(vec![Step {
            outcomes,
            hand_over: None,
        }])
        .await;
    }

    /// The outcome of a message that goes back to the queue unsent, due again at once.
    fn held_back(&self) -> Outcome {
        Outcome::Retry {
            at: self.svc.clock.now(),
            error: "delivery is paused".into(),
            maybe_sent: false,
        }
    }

    /// Sends a batch and records every outcome; `stopped` are outcomes already decided.
    ///
    /// `send_concurrency` slots each take the batch's next message in turn. Every step of a
    /// slot is one write to the ledger, stored by one writer in group commits: the outcome of
    /// the message the slot just sent together with the mark that it hands over the next. A
    /// slot sends only once that write is stored, so at most `send_concurrency` messages are
    /// ever sent but unrecorded (the most a crash can duplicate), and each message costs one
    /// commit, not two.
    async fn send(&self, jobs: Vec<Job>, stopped: Vec<Recorded>) {
        if !stopped.is_empty() {
            self.record(vec![Step {
                outcomes: stopped,
                hand_over: None,
            }])
            .await;
        }
        if jobs.is_empty() {
            return;
        }
        let concurrency = self.svc.config.mail.send_concurrency;
        let (step_tx, step_rx) = tokio::sync::mpsc::channel(concurrency);
        // What stops the rest of this round: the provider refusing the account (every message
        // goes back to the queue unsent) or a communication pausing itself (its messages do).
        let stops = RoundStops::default();
        let stops = &stops;
        let queue = std::sync::Mutex::new(jobs.into_iter());
        let queue = &queue;
        let slots = futures_util::future::join_all((0..concurrency).map(|_| {
            let step_tx = step_tx.clone();
            async move { self.run_slot(queue, &step_tx, stops).await }
        }));
        drop(step_tx);
        let (done_tx, done_rx) = watch::channel(false);
        tokio::join!(
            async move {
                slots.await;
                let _ = done_tx.send(true);
            },
            write_in_groups(step_rx, |steps: Vec<Step>| async move {
                let handed: Vec<MassCommunicationId> = steps
                    .iter()
                    .filter_map(|s| s.hand_over.and_then(|(_, m)| m))
                    .collect();
                let paused = self.record(steps).await;
                stops.pause(paused);
                // Before the group's slots go on to send.
                stops.note(self.statuses_now(handed).await);
            }),
            self.heartbeat(done_rx),
        );
        self.count_successes().await;
    }

    /// One sending slot: takes messages from the round's queue until it is empty.
    async fn run_slot(
        &self,
        queue: &std::sync::Mutex<std::vec::IntoIter<Job>>,
        steps: &tokio::sync::mpsc::Sender<Waiting<Step>>,
        stops: &RoundStops,
    ) {
        let held_back = || self.held_back();
        // Outcomes not stored yet; they go with the slot's next write.
        let mut outcomes: Vec<Recorded> = Vec::new();
        loop {
            let next = lock(queue).next();
            let Some(job) = next else { break };
            if stops.holds_back(job.mass_communication_id) {
                outcomes.push((job.id, job.mass_communication_id, held_back()));
                continue;
            }
            // Marked before the provider sees the message, so after a crash only rows that
            // may really have gone out are flagged as duplicates; the previous outcome is
            // stored in the same commit.
            let step = Step {
                outcomes: std::mem::take(&mut outcomes),
                hand_over: Some((job.id, job.mass_communication_id)),
            };
            wait_stored(steps, step).await;
            // The rate is taken last, right before the send: a slow group commit in between
            // would release sends in a burst.
            let slot = self.rate.acquire().await;
            if let Err(e) = &slot {
                tracing::warn!(error = %e, "could not reserve a send slot; the message waits");
            }
            let outcome = if slot.is_err() || stops.holds_back(job.mass_communication_id) {
                held_back()
            } else if let Some(stopped) = job
                .mass_communication_id
                .and_then(|m| stops.status_of(m))
                .and_then(|s| self.stopped_by(s))
            {
                stopped
            } else {
                match self.deliver(&job).await {
                    Delivered::Outcome(outcome) => outcome,
                    Delivered::AccountRefused(reason) => {
                        stops.refuse();
                        self.pause(&reason).await;
                        held_back()
                    }
                }
            };
            outcomes.push((job.id, job.mass_communication_id, outcome));
        }
        if !outcomes.is_empty() {
            let step = Step {
                outcomes,
                hand_over: None,
            };
            wait_stored(steps, step).await;
        }
    }

    /// Renews this worker's leases every third of a lease until the round's sends are done, so
    /// leases can be short: a live worker keeps its rows however slow a send is, and a dead
    /// worker's rows are taken over within one lease. A failed renewal is retried at the next
    /// beat; the lease still has two thirds left.
    async fn heartbeat(&self, mut done: watch::Receiver<bool>) {
        let lease = self.svc.config.mail.lease;
        let every = (lease / 3)
            .to_std()
            .unwrap_or(StdDuration::from_secs(1))
            .max(StdDuration::from_millis(100));
        loop {
            tokio::select! {
                _ = done.wait_for(|d| *d) => return,
                _ = tokio::time::sleep(every) => {}
            }
            let until = self.svc.clock.now() + lease;
            if let Err(e) = store::outbound::renew_leases(&self.svc.db, &self.id, until).await {
                tracing::warn!(error = %e, "could not renew delivery leases; trying again");
            }
        }
    }

    /// Claims and prepares a batch; returns what to send and how many rows it claimed (rows
    /// that ended at once, e.g. skipped, count as handled). The write lock is held twice,
    /// briefly: to lease the rows, and to store their links once they are rendered.
    async fn claim(&self) -> DeliveryResult<(Vec<Job>, usize)> {
        let svc = &self.svc;
        let now = svc.clock.now();
        let lease_until = now + svc.config.mail.lease;
        let limit = self.batch_size();
        let due = store::outbound::due(&svc.db, now, self.look_for_abandoned(now)).await?;
        if !due.any() {
            return Ok((Vec::new(), 0));
        }
        let txn = store::begin_write(&svc.db).await?;
        let mut rows = Vec::new();
        for due in due.claims() {
            let room = limit.saturating_sub(rows.len() as u64);
            if room == 0 {
                break;
            }
            rows.extend(store::outbound::claim(&txn, due, &self.id, lease_until, room, now).await?);
        }
        store::commit(txn).await?;
        if rows.is_empty() {
            return Ok((Vec::new(), 0));
        }
        // A crash from here until the links are stored leaves the rows leased, none handed
        // over: they are claimed again when the lease ends, and not flagged as duplicates.
        let drafts = compose::draft_all(svc, &rows).await?;
        let txn = store::begin_write(&svc.db).await?;
        let prepared = drafts.complete(svc, &txn).await?;
        let mut jobs = Vec::with_capacity(rows.len());
        let mut ended = Vec::new();
        let mut done = Vec::new();
        for (row, prepared) in rows.iter().zip(prepared) {
            if row.possible_duplicate {
                tracing::warn!(
                    outbound_id = row.id.get(),
                    "re-sending a message whose worker stopped mid-send; it may arrive twice"
                );
            }
            match prepared {
                Prepared::Send(email) => jobs.push(Job {
                    id: row.id,
                    attempts: row.attempts,
                    email,
                    mass_communication_id: row.mass_communication_id,
                }),
                Prepared::Done(outcome) => {
                    done.push((row.id, outcome));
                    ended.extend(row.mass_communication_id);
                }
            }
        }
        let done: Vec<(OutboundId, &Outcome)> = done.iter().map(|(id, o)| (*id, o)).collect();
        store::outbound::record(&txn, &done, &[], &self.id, now).await?;
        store::commit(txn).await?;
        if !ended.is_empty() {
            ended.dedup();
            self.settle(Some(&ended)).await;
        }
        Ok((jobs, rows.len()))
    }

    /// Pauses the whole queue because the provider refused the account or sender. Logged at
    /// error level and audited once, when the pause begins.
    async fn pause(&self, reason: &str) {
        let now = self.svc.clock.now();
        let result = async {
            let txn = store::begin_write(&self.svc.db).await?;
            let began = store::delivery_pause::pause(&txn, reason, now).await?;
            if began {
                let event = crate::domain::NewAuditEvent::new(
                    crate::domain::AuditAction::DeliveryPaused,
                    crate::domain::AuditActor::System,
                    None,
                )
                .detail(serde_json::json!({ "reason": reason }));
                store::audit::record(&txn, now, event).await?;
            }
            store::commit(txn).await?;
            Ok::<bool, DeliveryError>(began)
        }
        .await;
        match result {
            Ok(true) => tracing::error!(
                reason = %crate::logsafe::Field(reason),
                "the mail provider refuses this account or sender: delivery is PAUSED and no message is failed. Fix the account or the sender identity, then resume delivery (resumeDelivery)"
            ),
            Ok(false) => {}
            Err(e) => {
                tracing::error!(error = %e, reason = %crate::logsafe::Field(reason), "could not record the delivery pause")
            }
        }
    }

    async fn deliver(&self, job: &Job) -> Delivered {
        let outcome = match self.transport.send(&job.email).await {
            Err(SendError::AccountRefused(reason)) => return Delivered::AccountRefused(reason),
            Ok(provider_message_id) => Outcome::Sent {
                provider_message_id,
            },
            Err(SendError::Permanent(error)) => Outcome::Failed { error },
            Err(err @ (SendError::Throttled(_) | SendError::Transient(_))) => Outcome::Retry {
                at: self.svc.clock.now() + backoff(job.attempts),
                error: err.to_string(),
                maybe_sent: false,
            },
            Err(err @ SendError::Uncertain(_)) => Outcome::Retry {
                at: self.svc.clock.now() + backoff(job.attempts),
                error: err.to_string(),
                maybe_sent: true,
            },
        };
        match &outcome {
            Outcome::Failed { error } => {
                tracing::warn!(outbound_id = job.id.get(), error = %crate::logsafe::Field(&error.to_string()), "message failed permanently")
            }
            Outcome::Retry { error, .. } => {
                tracing::info!(outbound_id = job.id.get(), attempts = job.attempts, error = %crate::logsafe::Field(&error.to_string()), "message will be retried")
            }
            _ => {}
        }
        Delivered::Outcome(outcome)
    }
}
