//! Why the delivery worker could not finish a round. It never reaches a client: the worker
//! logs it and tries again at its next round; `drain` (tests, the command line) passes it on.

use crate::store::StoreError;

/// A failure of the delivery worker.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The database failed; the round's claims run out and are taken again.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The operating system's random source failed, so no link could be minted.
    #[error("the random source failed: {0}")]
    Random(#[from] getrandom::Error),
    /// A task of the worker panicked or was cancelled.
    #[error("a delivery task ended abnormally: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// `drain` gave up: another worker still holds messages.
    #[error("the queue did not drain: another worker still holds messages")]
    NotDrained,
    /// Something the worker relies on did not hold (a bug).
    #[error("delivery invariant broken: {0}")]
    Invariant(&'static str),
}

/// What the worker's steps return.
pub type DeliveryResult<T> = Result<T, DeliveryError>;
