//! What stops the rest of a round's sends: the provider refusing the account, a
//! communication pausing itself, noticed by one sending slot and obeyed by all, or staff
//! cancelling or pausing one, seen by the status read after each group write.

use std::collections::HashMap;

use super::lock;
use crate::domain::{MassCommunicationId, MassStatus};

/// What stops the rest of a round's sends.
#[derive(Default)]
pub(super) struct RoundStops {
    /// The provider refused the account.
    refused: std::sync::atomic::AtomicBool,
    /// Communications that paused themselves.
    paused: std::sync::Mutex<Vec<MassCommunicationId>>,
    /// Communications' statuses as last read, after a group write.
    statuses: std::sync::Mutex<HashMap<MassCommunicationId, MassStatus>>,
}

impl RoundStops {
    pub(super) fn refuse(&self) {
        self.refused
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub(super) fn pause(&self, communications: Vec<MassCommunicationId>) {
        if !communications.is_empty() {
            lock(&self.paused).extend(communications);
        }
    }

    /// Keeps the statuses just read; newer reads replace older ones.
    pub(super) fn note(&self, statuses: HashMap<MassCommunicationId, MassStatus>) {
        if !statuses.is_empty() {
            lock(&self.statuses).extend(statuses);
        }
    }

    /// A communication's status as last read after a group write.
    pub(super) fn status_of(&self, mass: MassCommunicationId) -> Option<MassStatus> {
        lock(&self.statuses).get(&mass).copied()
    }

    /// Whether a message of this communication (or none) must go back to the queue unsent.
    pub(super) fn holds_back(&self, mass: Option<MassCommunicationId>) -> bool {
        self.refused.load(std::sync::atomic::Ordering::Relaxed)
            || mass.is_some_and(|m| lock(&self.paused).contains(&m))
    }
}
