//! The one path by which a signed-in user's current password is checked again and by which
//! any account's password is replaced, for members and staff alike: the same guessing budget,
//! the same lockout, and the same consequences of a new password (every link retired, other
//! sessions ended).

use chrono::{DateTime, Utc};

use super::lockout::{self, Account};
use super::rate_limit::{self, Limit};
use super::{RequestMeta, Services};
use crate::domain::{Password, PasswordSetBy};
use crate::error::AppResult;
use crate::store::{
    self,
    credentials::{CredentialChange, NewPassword},
    links::LinkOwner,
};

/// How a re-presented current password fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Current {
    Right,
    /// Wrong, and not yet counted: the caller counts and audits it its own way.
    Wrong,
    /// The client or the account is locked: the password was not looked at.
    Locked,
}

/// Checks a signed-in user's current password as a sign-in guess: a stolen session must not
/// be a way to try passwords without limit. `limit` is the per-client budget of sign-ins of
/// that kind of account. A locked client costs the same hashing work as a wrong password.
pub(crate) async fn check_current(
    svc: &Services,
    meta: &RequestMeta,
    limit: Limit,
    account: &Account,
    stored_hash: Option<&str>,
    presented: &str,
) -> AppResult<Current> {
    rate_limit::check(svc, meta, limit).await?;
    let locked = lockout::check(svc, meta, account).await?.is_some();
    let candidate = Password::for_verification(presented);
    let stored = if locked { None } else { stored_hash };
    Ok(match svc.hasher.verify(candidate.as_ref(), stored).await? {
        true => Current::Right,
        false if locked => Current::Locked,
        false => Current::Wrong,
    })
}

/// Replaces `owner`'s password with `hash` inside `txn`: every live link of theirs is retired
/// (it would otherwise overwrite the new password) and every session ends but `keep`, the one
/// that made the change when it should live on. A member's "must change" flag is cleared and
/// `set_by` recorded (staff accounts keep no such record).
pub(crate) async fn replace(
    txn: &impl store::Conn,
    owner: LinkOwner,
    hash: String,
    set_by: PasswordSetBy,
    keep: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    match owner {
        LinkOwner::Member(id) => {
            let change = CredentialChange {
                username: None,
                password: Some(NewPassword {
                    hash,
                    set_by,
                    sealed: None,
                }),
                must_change_password: Some(false),
            };
            store::credentials::upsert(txn, id, change, now).await?;
            store::sessions::delete_all(txn, id, keep).await?;
        }
        LinkOwner::Staff(id) => {
            store::staff::set_password_hash(txn, id, hash, now).await?;
            store::sessions::delete_all(txn, id, keep).await?;
        }
    }
    store::links::invalidate_for(txn, owner, now).await?;
    Ok(())
}
