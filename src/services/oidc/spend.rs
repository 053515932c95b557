//! Authorization codes spent in group commits.
//!
//! On SQLite every write waits for the one writer. An exchange's write (spend the code,
//! create the grant, insert its two tokens) held it for five round trips to the
//! connection's thread, and measured under load the token endpoint waited on the writer
//! while a third of the CPU sat idle. Exchanges that arrive while one is waiting for the
//! writer join it, and are written together in one transaction of five statements whatever
//! their number (up to [`MAX_BATCH`]). Each still learns on its own whether its code was
//! spent before.

use std::collections::HashSet;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;

use crate::domain::TokenHash;
use crate::error::{AppError, AppResult};
use crate::services::Services;
use crate::store::{
    self,
    oidc::grants::{CodeRecord, NewToken, TokenKind},
};

/// One code to spend and, when the member may use the site, the grant it gives.
pub struct Spend {
    pub code_hash: TokenHash,
    pub grant: Option<NewGrant>,
}

/// A grant and the digests of its two tokens.
pub struct NewGrant {
    pub code: CodeRecord,
    pub access: (TokenHash, DateTime<Utc>),
    pub refresh: (TokenHash, DateTime<Utc>),
}

/// What became of a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spent {
    /// Spent now, giving its grant and tokens.
    Granted,
    /// Spent now, giving nothing (the member may not use the site).
    Refused,
    /// It had been spent already: a replay.
    Before,
}

type Waiting = (Spend, oneshot::Sender<Result<Spent, String>>);

/// The most exchanges one transaction writes: their tokens' statement binds 8 values each,
/// well inside both databases' limits on a statement's parameters.
const MAX_BATCH: usize = 256;

/// The codes waiting to be written.
#[derive(Default)]
pub struct CodeSpender {
    queue: Mutex<Vec<Waiting>>,
}

impl CodeSpender {
    fn queue(&self) -> std::sync::MutexGuard<'_, Vec<Waiting>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Spends a code, with the codes of other exchanges arriving meanwhile.
    pub async fn spend(&self, svc: &Services, spend: Spend) -> AppResult<Spent> {
        let (tx, rx) = oneshot::channel();
        let first = {
            let mut queue = self.queue();
            queue.push((spend, tx));
            queue.len() == 1
        };
        if first {
            start_writer(svc);
        }
        rx.await
            .map_err(|_| AppError::internal("the code writer stopped"))?
            .map_err(AppError::internal)
    }

    /// Takes the writer, then what is queued by then (up to [`MAX_BATCH`]), and writes it in
    /// one transaction. What is left over gets a task of its own, since no newcomer finds
    /// the queue empty and starts one.
    async fn write_waiting(&self, svc: &Services) {
        let txn = store::begin_write(&svc.db).await;
        let (batch, more) = {
            let mut queue = self.queue();
            let n = queue.len().min(MAX_BATCH);
            let batch: Vec<Waiting> = queue.drain(..n).collect();
            (batch, !queue.is_empty())
        };
        if more {
            start_writer(svc);
        }
        let result = match txn {
            Ok(txn) => write(txn, &batch, svc.clock.now()).await,
            Err(e) => Err(e.into()),
        };
        match result {
            Ok(outcomes) => {
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
}

/// Writes what is queued, in a task of its own: a request that goes away midway (its client
/// hung up) takes no one else's exchange with it.
fn start_writer(svc: &Services) {
    let svc = svc.clone();
    // Boxed: the writer may start another writer, and a future cannot hold its own type.
    let task: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> =
        Box::pin(async move { svc.oidc_codes.write_waiting(&svc).await });
    tokio::spawn(task);
}

async fn write(txn: store::Txn, batch: &[Waiting], now: DateTime<Utc>) -> AppResult<Vec<Spent>> {
    let hashes: Vec<&TokenHash> = batch.iter().map(|(s, _)| &s.code_hash).collect();
    let spent = store::oidc::grants::spend_codes(&txn, &hashes, now).await?;
    let spent: HashSet<&str> = spent.iter().map(|h| h.as_str()).collect();
    // Whether each was spent now, and the grant it gives; a code presented twice in one
    // batch is spent by the first only.
    let mut taken = HashSet::new();
    let decided: Vec<(bool, Option<&NewGrant>)> = batch
        .iter()
        .map(|(s, _)| {
            let hash = s.code_hash.as_str();
            let now_spent = spent.contains(hash) && taken.insert(hash);
            (now_spent, s.grant.as_ref().filter(|_| now_spent))
        })
        .collect();
    let granting: Vec<(&CodeRecord, &TokenHash)> = batch
        .iter()
        .zip(&decided)
        .filter_map(|((s, _), (_, grant))| grant.map(|g| (&g.code, &s.code_hash)))
        .collect();
    let ids = store::oidc::grants::create_grants(&txn, &granting, now).await?;
    let grants = decided.iter().filter_map(|(_, g)| *g);
    let mut tokens: Vec<NewToken<'_>> = Vec::with_capacity(ids.len() * 2);
    for (grant, id) in grants.zip(&ids) {
        tokens.push((&grant.access.0, *id, TokenKind::Access, grant.access.1));
        tokens.push((&grant.refresh.0, *id, TokenKind::Refresh, grant.refresh.1));
    }
    store::oidc::grants::insert_tokens(&txn, &tokens).await?;
    store::commit(txn).await?;
    Ok(decided
        .iter()
        .map(|(now_spent, grant)| match (now_spent, grant) {
            (false, _) => Spent::Before,
            (true, Some(_)) => Spent::Granted,
            (true, None) => Spent::Refused,
        })
        .collect())
}
