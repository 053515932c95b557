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

use chrono::{DateTime, Utc};

use crate::domain::TokenHash;
use crate::error::AppResult;
use crate::services::Services;
use crate::services::grouped::{self, Grouped};
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

type Waiting = grouped::Waiting<Spend, Spent>;

/// The most exchanges one transaction writes: their tokens' statement binds 8 values each,
/// well inside both databases' limits on a statement's parameters.
const MAX_BATCH: usize = 256;

/// The codes waiting to be written.
pub struct CodeSpender {
    queue: Grouped<Spend, Spent>,
}

impl Default for CodeSpender {
    fn default() -> Self {
        Self {
            queue: Grouped::new(MAX_BATCH),
        }
    }
}

impl CodeSpender {
    /// Spends a code, with the codes of other exchanges arriving meanwhile.
    pub async fn spend(&self, svc: &Services, spend: Spend) -> AppResult<Spent> {
        self.queue.join(spend, || start_writer(svc)).await
    }

    /// Takes the writer, then what is queued by then, and writes it in one transaction.
    async fn write_waiting(&self, svc: &Services) {
        let txn = store::begin_write(&svc.db).await;
        let batch = self.queue.take(|| start_writer(svc));
        let outcome = match txn {
            Ok(txn) => write(txn, &batch, svc.clock.now()).await,
            Err(e) => Err(e.into()),
        };
        grouped::answer(batch, outcome);
    }
}

/// Writes what is queued, in a task of its own.
fn start_writer(svc: &Services) {
    let svc = svc.clone();
    grouped::spawn(Box::pin(
        async move { svc.oidc_codes.write_waiting(&svc).await },
    ));
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
