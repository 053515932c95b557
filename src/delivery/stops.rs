//! What stops the rest of a round's sends: the provider refusing the account, or a
//! communication pausing itself, noticed by one sending slot and obeyed by all.

use super::lock;
use crate::domain::MassCommunicationId;

/// What stops the rest of a round's sends.
#[derive(Default)]
pub(super) struct RoundStops {
    /// The provider refused the account.
    refused: std::sync::atomic::AtomicBool,
    /// Communications that paused themselves.
    paused: std::sync::Mutex<Vec<MassCommunicationId>>,
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

    /// Whether a message of this communication (or none) must go back to the queue unsent.
    pub(super) fn holds_back(&self, mass: Option<MassCommunicationId>) -> bool {
        self.refused.load(std::sync::atomic::Ordering::Relaxed)
            || mass.is_some_and(|m| lock(&self.paused).contains(&m))
    }
}
