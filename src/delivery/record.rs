//! Recording what became of sent messages: outcomes written in groups (one statement a
//! group, retried while the database is away), and each communication's outcomes counted
//! toward the rule that pauses it.

use crate::domain::OutboundId;
use std::time::Duration as StdDuration;

use super::{DeliveryError, DeliveryResult};
use super::{Recorded, Step, Worker, lock};
use crate::domain::MassCommunicationId;
use crate::store::{self, outbound::Outcome};

/// Something on its way to a group writer, and how the writer says it is stored.
pub(super) type Waiting<T> = (T, tokio::sync::oneshot::Sender<()>);

/// Hands `item` to a group writer and waits until the group holding it is stored.
pub(super) async fn wait_stored<T>(tx: &tokio::sync::mpsc::Sender<Waiting<T>>, item: T) {
    let (done, stored) = tokio::sync::oneshot::channel();
    if tx.send((item, done)).await.is_ok() {
        let _ = stored.await;
    }
}

/// Writes whatever is waiting in one go (a group commit), then releases its senders.
pub(super) async fn write_in_groups<T, F: Future<Output = ()>>(
    mut rx: tokio::sync::mpsc::Receiver<Waiting<T>>,
    write: impl Fn(Vec<T>) -> F,
) {
    while let Some(first) = rx.recv().await {
        let mut group = vec![first];
        // One yield lets slots that are already awake hand in their outcomes too; without
        // it a group holds about half the slots, and each group costs the writer a commit.
        loop {
            while let Ok(more) = rx.try_recv() {
                group.push(more);
            }
            tokio::task::yield_now().await;
            if rx.is_empty() {
                break;
            }
        }
        let (items, waiters): (Vec<T>, Vec<_>) = group.into_iter().unzip();
        write(items).await;
        for done in waiters {
            let _ = done.send(());
        }
    }
}

impl Worker {
    /// Counts the successes not counted yet toward their communications' pause rule. A
    /// failure is logged; the counts wait for the next try.
    pub(super) async fn count_successes(&self) {
        let uncounted = std::mem::take(&mut *lock(&self.uncounted));
        let rule = self.svc.config.mail.mass_pause;
        for (mass, n) in uncounted {
            if let Err(e) = store::mass::tally_successes(&self.svc.db, mass, n, &rule).await {
                tracing::warn!(error = %e, mass_id = mass.get(), "could not count delivered messages toward the pause rule");
                *lock(&self.uncounted).entry(mass).or_default() += n;
            }
        }
    }

    /// Writes a group of steps in one transaction, retrying while the database is
    /// unreachable: a sent message must not be left looking unsent, or it would go out again
    /// when its lease ends. Returns the communications that paused themselves with these
    /// outcomes.
    pub(super) async fn record(&self, steps: Vec<Step>) -> Vec<MassCommunicationId> {
        let mut group = Vec::new();
        let mut hand_over = Vec::new();
        for step in steps {
            group.extend(step.outcomes);
            hand_over.extend(step.hand_over.map(|(id, _)| id));
        }
        let mut wait = StdDuration::from_millis(200);
        for _ in 0..10 {
            match self.try_record(&group, &hand_over).await {
                Ok((lost, paused)) => {
                    if lost > 0 {
                        tracing::warn!(
                            lost,
                            "leases lost before outcomes were recorded: another worker took these messages over and records them itself"
                        );
                    }
                    return paused;
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot record delivery outcomes; retrying");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(StdDuration::from_secs(10));
                }
            }
        }
        Vec::new()
    }

    /// Stores the outcomes and hand-over marks in one statement, then counts each
    /// communication's outcomes for the rule that pauses it. Returns how many rows were no
    /// longer ours, and the communications that paused themselves.
    pub(super) async fn try_record(
        &self,
        group: &[Recorded],
        hand_over: &[OutboundId],
    ) -> DeliveryResult<(usize, Vec<MassCommunicationId>)> {
        let now = self.svc.clock.now();
        let outcomes: Vec<(OutboundId, &Outcome)> =
            group.iter().map(|(id, _, o)| (*id, o)).collect();
        let written =
            store::outbound::record(&self.svc.db, &outcomes, hand_over, &self.id, now).await?;
        let lost = (group.len() + hand_over.len()).saturating_sub(written as usize);
        if lost > 0 {
            // Another worker took rows over (this one stalled past their lease) and records
            // them itself; which ones is not known here, so none of these is counted twice.
            return Ok((lost, Vec::new()));
        }
        // Each communication's sent (false) and failed (true) outcomes, in order, for the
        // rule that pauses a communication whose deliveries keep failing.
        let mut tallies: Vec<(MassCommunicationId, Vec<bool>)> = Vec::new();
        for (_, mass, outcome) in group {
            let failed = match outcome {
                Outcome::Sent { .. } => false,
                Outcome::Failed { .. } => true,
                Outcome::Retry { .. } | Outcome::Skipped { .. } | Outcome::Cancelled => continue,
            };
            if let Some(mass) = mass {
                match tallies.iter_mut().find(|(m, _)| m == mass) {
                    Some((_, outcomes)) => outcomes.push(failed),
                    None => tallies.push((*mass, vec![failed])),
                }
            }
        }
        let mut paused = Vec::new();
        for (mass, outcomes) in &tallies {
            // The outcomes are stored; a failure to count them for the pause rule is logged,
            // not retried with them.
            match self.tally(*mass, outcomes, now).await {
                Ok(Some(reason)) => paused.push((*mass, reason)),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, mass_id = mass.get(), "could not count failed deliveries toward the pause rule")
                }
            }
        }
        for (mass, reason) in &paused {
            tracing::error!(
                mass_id = mass.get(),
                %reason,
                "a mass communication PAUSED itself because its deliveries keep failing; check the errors of its deliveries, then resume or cancel it"
            );
        }
        Ok((lost, paused.into_iter().map(|(m, _)| m).collect()))
    }

    /// Counts a communication's new outcomes (`true` = failed) and returns why it paused
    /// itself, if it just did. Successes alone never pause it and wait to be counted (see
    /// `uncounted`); a group with failures is counted at once, in a transaction that also
    /// audits the pause.
    pub(super) async fn tally(
        &self,
        mass: MassCommunicationId,
        outcomes: &[bool],
        now: chrono::DateTime<chrono::Utc>,
    ) -> DeliveryResult<Option<String>> {
        if !outcomes.contains(&true) {
            *lock(&self.uncounted).entry(mass).or_default() += outcomes.len();
            return Ok(None);
        }
        // The successes before this failure count first, in the order they ended.
        let before = lock(&self.uncounted).remove(&mass).unwrap_or(0);
        let ordered: Vec<bool> = std::iter::repeat_n(false, before)
            .chain(outcomes.iter().copied())
            .collect();
        let rule = self.svc.config.mail.mass_pause;
        let counted = async {
            let txn = store::begin_write(&self.svc.db).await?;
            let paused = store::mass::tally_failures(&txn, mass, &ordered, &rule, now).await?;
            if let Some(reason) = &paused {
                let event = crate::domain::NewAuditEvent::new(
                    crate::domain::AuditAction::MassCommunicationPaused,
                    crate::domain::AuditActor::System,
                    None,
                )
                .detail(serde_json::json!({ "massCommunicationId": mass.get(), "reason": reason }));
                store::audit::record(&txn, now, event).await?;
            }
            store::commit(txn).await?;
            Ok::<_, DeliveryError>(paused)
        }
        .await;
        if counted.is_err() {
            *lock(&self.uncounted).entry(mass).or_default() += before;
        }
        counted
    }
}
