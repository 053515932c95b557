//! Requests served together: each caller joins a queue and awaits its own answer, and one
//! task takes everything queued by the time it is ready and answers it with one round of
//! database work.
//!
//! The task waits for something first (the write lock, a read slot), and what arrives while
//! it waits goes in its batch; when nothing is in the way it runs at once, so a lone request
//! waits for nobody. Whoever finds the queue empty starts a task, and a task that leaves some
//! behind (more than one batch's worth) starts another: every queued request is taken.

use std::sync::{Mutex, MutexGuard};

use tokio::sync::oneshot;

use crate::error::{AppError, AppResult};

/// A request in the queue and where its answer goes. The answer's error is the cause as
/// text, logged by the caller's error, since one failure answers the whole batch.
pub type Waiting<T, R> = (T, oneshot::Sender<Result<R, String>>);

/// The queue of requests of one kind.
pub struct Grouped<T, R> {
    queue: Mutex<Vec<Waiting<T, R>>>,
    max_batch: usize,
}

impl<T, R> Grouped<T, R> {
    /// A queue whose tasks take at most `max_batch` requests each.
    pub fn new(max_batch: usize) -> Self {
        Self {
            queue: Mutex::new(Vec::new()),
            max_batch: max_batch.max(1),
        }
    }

    fn queue(&self) -> MutexGuard<'_, Vec<Waiting<T, R>>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `item` and awaits its answer. `start` runs when the queue was empty: it must
    /// start a task that calls [`Self::take`].
    pub async fn join(&self, item: T, start: impl FnOnce()) -> AppResult<R> {
        let (tx, rx) = oneshot::channel();
        let first = {
            let mut queue = self.queue();
            queue.push((item, tx));
            queue.len() == 1
        };
        if first {
            start();
        }
        rx.await
            .map_err(|_| AppError::internal("a grouped request's task stopped"))?
            .map_err(AppError::internal)
    }

    /// Takes up to one batch. `start` runs when some are left over, since no newcomer will
    /// find the queue empty and start a task for them.
    pub fn take(&self, start: impl FnOnce()) -> Vec<Waiting<T, R>> {
        let (batch, more) = {
            let mut queue = self.queue();
            let n = queue.len().min(self.max_batch);
            let batch: Vec<Waiting<T, R>> = queue.drain(..n).collect();
            (batch, !queue.is_empty())
        };
        if more {
            start();
        }
        batch
    }
}

/// Answers every request of a batch: each its own outcome, in order, or all the same error.
pub fn answer<T, R>(batch: Vec<Waiting<T, R>>, outcome: AppResult<Vec<R>>) {
    match outcome {
        Ok(outcomes) => {
            debug_assert_eq!(batch.len(), outcomes.len(), "one outcome per request");
            for ((_, reply), outcome) in batch.into_iter().zip(outcomes) {
                let _ = reply.send(Ok(outcome));
            }
        }
        Err(e) => {
            let cause = e.log_text();
            for (_, reply) in batch {
                let _ = reply.send(Err(cause.clone()));
            }
        }
    }
}

/// Runs `task` on its own: a request that goes away midway (its client hung up) takes no one
/// else's answer with it. Boxed by the caller: a task may start another of its own kind, and
/// a future cannot hold its own type.
pub fn spawn(task: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>) {
    tokio::spawn(task);
}
