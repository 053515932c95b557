//! Access tokens read in groups, for userinfo.
//!
//! Every userinfo request reads its token, the site's rule and the member. Alone, each read
//! is a pool checkout, a round trip to the connection (on SQLite, to its thread) and the
//! pool's check of the connection it takes back: measured, those cost more than the read.
//! Requests that arrive while a read is under way are read together, in one statement, when
//! it ends. Each read starts after its requests arrived, so it sees every revocation
//! committed before them.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::domain::TokenHash;
use crate::error::AppResult;
use crate::services::Services;
use crate::services::grouped::{self, Grouped};
use crate::store::{self, oidc::grants::AccessFacts};

/// The most tokens one statement reads: one bound value each.
const MAX_BATCH: usize = 256;

/// How many reads run at once. One read at a time, like the code writer: measured, a second
/// slot only split the waiting requests into smaller batches (BENCHMARKS.md, issue 31).
const READ_SLOTS: usize = 1;

/// What a read answers for one token: its facts, or `None` when it is unknown.
type Found = Option<Arc<AccessFacts>>;

/// The access tokens waiting to be read.
pub struct AccessReader {
    queue: Grouped<TokenHash, Found>,
    slots: Semaphore,
}

impl Default for AccessReader {
    fn default() -> Self {
        Self {
            queue: Grouped::new(MAX_BATCH),
            slots: Semaphore::new(READ_SLOTS),
        }
    }
}

impl AccessReader {
    /// What is known of an access token, read with the tokens of other requests arriving
    /// meanwhile.
    pub async fn read(&self, svc: &Services, hash: TokenHash) -> AppResult<Found> {
        self.queue.join(hash, || start_reader(svc)).await
    }

    /// Takes a read slot, then what is queued by then, and reads it in one statement.
    async fn read_waiting(&self, svc: &Services) {
        // The semaphore is never closed, so this always gets a slot.
        let _slot = self.slots.acquire().await;
        let batch = self.queue.take(|| start_reader(svc));
        let hashes: Vec<&TokenHash> = batch.iter().map(|(hash, _)| hash).collect();
        let outcome = store::oidc::grants::access_facts(&svc.db, &hashes)
            .await
            .map(|found| {
                let found: HashMap<String, Arc<AccessFacts>> =
                    found.into_iter().map(|(k, v)| (k, Arc::new(v))).collect();
                // The same token may be presented by two requests of one batch.
                hashes
                    .iter()
                    .map(|hash| found.get(hash.as_str()).cloned())
                    .collect()
            })
            .map_err(Into::into);
        drop(hashes);
        grouped::answer(batch, outcome);
    }
}

/// Reads what is queued, in a task of its own.
fn start_reader(svc: &Services) {
    let svc = svc.clone();
    grouped::spawn(Box::pin(
        async move { svc.oidc_access.read_waiting(&svc).await },
    ));
}
