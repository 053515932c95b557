//! Who may still guess at an account: the lockout rules for members and staff, in one place.
//!
//! 1. **Per client.** Failures are counted per account *and* client (an IPv4 address, or an
//!    IPv6 /64). At `MEMBERKEY_LOCKOUT_THRESHOLD` failures within `MEMBERKEY_LOCKOUT_MINUTES`,
//!    that client's attempts on that account are refused for `MEMBERKEY_LOCKOUT_MINUTES` from
//!    the failure that locked it. When the lock ends the count starts over. So someone who
//!    knows a member's login can lock out only their own client, never the member.
//! 2. **Per account, a ceiling.** Failures from all clients together are counted too. At
//!    `MEMBERKEY_LOCKOUT_ACCOUNT_CEILING` the account is closed to *new* clients for
//!    `MEMBERKEY_LOCKOUT_MINUTES` (a member's `lockedUntil`): only clients that signed in to
//!    it within the last `store::sign_in_clients::KEPT_DAYS` (90) days may still try. Guessing spread over many
//!    clients gets at most the ceiling's worth of guesses per lock period, and the owner is
//!    not shut out: from a client they used before they sign in as usual, and from anywhere
//!    a mailed set-password link works and lifts every lock.
//! 3. **Second factor.** Wrong codes for a staff account are counted across all clients as
//!    well as per client; at the threshold no code works until the lock ends. Whoever is
//!    guessing already knows the password, so here the owner waits too.
//! 4. Attempts refused by a lock are not counted and cost one dummy hash, like a wrong
//!    password. A success clears the client's count and the account's.
//!
//! A login string that names several member profiles (a shared email address) is its own
//! account here, so guessing at the address never locks the profiles' usernames.

use chrono::Duration;

use super::{RequestMeta, Services, rate_limit};
use crate::domain::{ProfileId, StaffUserId};
use crate::error::AppResult;
use crate::store::{self, credentials::ClearLock};

/// An account that can be guessed at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Account {
    /// One member profile's credential (its username, or an address only it uses).
    Member(ProfileId),
    /// An email address several member profiles share (its search key).
    Address(String),
    /// A staff user's password.
    Staff(StaffUserId),
    /// A staff user's second factor.
    SecondFactor(StaffUserId),
}

impl Account {
    /// The name of the account in counters and in `sign_in_clients`.
    fn name(&self) -> String {
        match self {
            Account::Member(id) => format!("m:{}", id.get()),
            Account::Address(key) => format!("a:{key}"),
            Account::Staff(id) => format!("s:{}", id.get()),
            Account::SecondFactor(id) => format!("f:{}", id.get()),
        }
    }

    /// The counter of failures from every client.
    fn account_key(&self) -> String {
        format!("lock:{}", self.name())
    }

    /// The prefix of every per-client counter. A staff user's password and second factor
    /// share one per-client budget.
    fn client_prefix(&self) -> String {
        match self {
            Account::SecondFactor(id) => format!("lock:s:{}|", id.get()),
            other => format!("lock:{}|", other.name()),
        }
    }

    fn client_key(&self, client: &str) -> String {
        format!("{}{client}", self.client_prefix())
    }
}

/// Why an attempt is refused before any password or code is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This client reached the threshold on this account.
    Client,
    /// The account is over its ceiling and this client is not one it signed in from.
    Account,
}

impl Refusal {
    /// The audit detail's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Client => "CLIENT",
            Refusal::Account => "ACCOUNT",
        }
    }
}

/// What one counted failure started, for the audit trail.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counted {
    /// This failure locked the client out of the account.
    pub client_locked: bool,
    /// This failure reached the account's ceiling (or, for a second factor, locked it).
    pub account_locked: bool,
}

fn client(meta: &RequestMeta) -> String {
    rate_limit::client_key(meta).unwrap_or_else(|| "-".into())
}

/// Whether this request's client may try `account` now.
pub async fn check(
    svc: &Services,
    meta: &RequestMeta,
    account: &Account,
) -> AppResult<Option<Refusal>> {
    let c = &svc.config;
    let now = svc.clock.now();
    let client = client(meta);
    let window = c.lockout_duration;
    if store::rate_limits::peek(&svc.db, &account.client_key(&client), window, now).await?
        >= c.lockout_threshold
    {
        return Ok(Some(Refusal::Client));
    }
    let over = match account {
        Account::Member(id) => store::credentials::locked_until(&svc.db, *id)
            .await?
            .is_some_and(|until| until > now),
        Account::Address(_) | Account::Staff(_) => {
            store::rate_limits::peek(&svc.db, &account.account_key(), window, now).await?
                >= c.lockout_account_ceiling
        }
        Account::SecondFactor(_) => {
            let over = store::rate_limits::peek(&svc.db, &account.account_key(), window, now)
                .await?
                >= c.lockout_threshold;
            return Ok(over.then_some(Refusal::Account));
        }
    };
    if !over {
        return Ok(None);
    }
    let since = now - Duration::days(store::sign_in_clients::KEPT_DAYS);
    let known = store::sign_in_clients::is_known(&svc.db, &account.name(), &client, since).await?;
    Ok((!known).then_some(Refusal::Account))
}

/// Counts one failure from this request's client against `account`.
pub async fn fail(svc: &Services, meta: &RequestMeta, account: &Account) -> AppResult<Counted> {
    let c = &svc.config;
    let now = svc.clock.now();
    let window = c.lockout_duration;
    let key = account.client_key(&client(meta));
    let hits = store::rate_limits::fail(&svc.db, &key, c.lockout_threshold, window, now).await?;
    let account_hits = match account {
        Account::Member(id) => {
            store::credentials::record_failure(
                &svc.db,
                *id,
                c.lockout_account_ceiling,
                now + window,
                now,
            )
            .await?
                == c.lockout_account_ceiling
        }
        Account::Address(_) | Account::Staff(_) => {
            let ceiling = c.lockout_account_ceiling;
            store::rate_limits::fail(&svc.db, &account.account_key(), ceiling, window, now).await?
                == ceiling
        }
        Account::SecondFactor(_) => {
            let threshold = c.lockout_threshold;
            store::rate_limits::fail(&svc.db, &account.account_key(), threshold, window, now)
                .await?
                == threshold
        }
    };
    Ok(Counted {
        client_locked: hits == c.lockout_threshold,
        account_locked: account_hits,
    })
}

/// A right password or code: the client's count and the account's start over, and the client
/// is remembered as one the account signs in from. A member's own counter
/// (`failed_login_count`) is reset by the sign-in itself (`ClearLock::SignedIn`).
pub async fn succeeded(svc: &Services, meta: &RequestMeta, account: &Account) -> AppResult<()> {
    let client = client(meta);
    store::rate_limits::clear(&svc.db, &account.client_key(&client)).await?;
    if !matches!(account, Account::Member(_)) {
        store::rate_limits::clear(&svc.db, &account.account_key()).await?;
    }
    if !matches!(account, Account::SecondFactor(_)) {
        store::sign_in_clients::remember(&svc.db, &account.name(), &client, svc.clock.now())
            .await?;
    }
    Ok(())
}

/// Lifts every lock on an account (staff unlocking it, a set-password link used): the
/// per-client counts, the ceiling and, for staff, the second factor's. Returns how many
/// clients had failures counted.
pub async fn lift(
    db: &impl store::Conn,
    now: chrono::DateTime<chrono::Utc>,
    account: &Account,
) -> AppResult<u64> {
    let clients = store::rate_limits::clear_prefix(db, &account.client_prefix()).await?;
    match account {
        Account::Member(id) => {
            store::credentials::clear_lock(db, *id, ClearLock::Unlocked, now).await?;
        }
        Account::Staff(id) | Account::SecondFactor(id) => {
            for acct in [Account::Staff(*id), Account::SecondFactor(*id)] {
                store::rate_limits::clear(db, &acct.account_key()).await?;
            }
        }
        Account::Address(_) => store::rate_limits::clear(db, &account.account_key()).await?,
    }
    Ok(clients)
}

/// Forgets every failure counter and remembered client of an erased member: their own, and
/// those of the address (by its search key) they could sign in with.
pub async fn forget(
    db: &impl store::Conn,
    profile: ProfileId,
    address_key: Option<&str>,
) -> AppResult<()> {
    let mut accounts = vec![Account::Member(profile)];
    if let Some(key) = address_key {
        accounts.push(Account::Address(key.to_owned()));
        store::rate_limits::clear(db, &super::resets::address_bucket(key)).await?;
    }
    for account in &accounts {
        store::rate_limits::clear(db, &account.account_key()).await?;
        store::rate_limits::clear_prefix(db, &account.client_prefix()).await?;
        store::sign_in_clients::forget(db, &account.name()).await?;
    }
    Ok(())
}
