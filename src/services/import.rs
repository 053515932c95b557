//! Bringing portal accounts over from another system: a username and a password hash that
//! system made (Argon2, PBKDF2 or scrypt PHC strings, or bcrypt). The password itself is
//! never known to us; the member signs in with it and the hash is replaced by Argon2id on
//! that sign-in.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::foreign_hashes::HashLimits;
use super::{Services, audit};
use crate::domain::{AuditAction, AuditActor, NewAuditEvent};
use crate::domain::{CredentialInfo, PasswordSetBy, ProfileId, Username};
use crate::error::{AppError, AppResult};
use crate::store::{
    self,
    credentials::{CredentialChange, NewPassword},
};

/// One account to import.
#[derive(Debug)]
pub struct ImportedCredential<'a> {
    pub profile_id: ProfileId,
    pub username: Option<&'a str>,
    pub password_hash: &'a str,
}

/// Refuses a hash we could not verify at sign-in, or whose cost is over the limits
/// (`super::foreign_hashes`); `field` names where it came from.
fn check_hash(field: &str, hash: &str) -> AppResult<()> {
    HashLimits::IMPORT
        .check(hash)
        .map_err(|why| AppError::BadUserInput {
            field: field.into(),
            message: format!("the password hash {why}"),
        })
}

/// Imports one account. Run by an operator (the CLI), so there is no staff principal; the
/// audit row names the system as the actor. An existing password is replaced.
pub async fn import(svc: &Services, row: ImportedCredential<'_>) -> AppResult<CredentialInfo> {
    check_hash("passwordHash", row.password_hash)?;
    let username = row
        .username
        .filter(|u| !u.is_empty())
        .map(|raw| Username::parse(raw).map_err(|e| AppError::bad_input("username", e)))
        .transpose()?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    store::profiles::get(&txn, row.profile_id)
        .await?
        .ok_or_else(|| AppError::not_found("profile", row.profile_id))?;
    let account = ImportedAccount {
        username: username.as_ref(),
        password_hash: Some(row.password_hash),
        replace_password: true,
    };
    apply(&txn, now, row.profile_id, account).await?;
    let info = store::credentials::get(&txn, row.profile_id)
        .await?
        .ok_or_else(|| AppError::internal("imported credential vanished"))?;
    store::commit(txn).await?;
    Ok(info)
}

/// What an import sets on one profile's credential; the hash already checked.
pub(crate) struct ImportedAccount<'a> {
    pub username: Option<&'a Username>,
    pub password_hash: Option<&'a str>,
    /// Whether a password already in force is replaced. A profile import re-run after members
    /// signed in or chose new passwords must keep those.
    pub replace_password: bool,
}

/// Sets an imported username and password hash inside `txn`, audited. Returns whether
/// anything changed. A username another profile holds is `USERNAME_TAKEN`.
pub(crate) async fn apply(
    txn: &store::Txn,
    now: DateTime<Utc>,
    profile_id: ProfileId,
    account: ImportedAccount<'_>,
) -> AppResult<bool> {
    let current = store::credentials::get(txn, profile_id).await?;
    let username = match account.username {
        Some(u) if current.as_ref().and_then(|c| c.username.as_deref()) != Some(u.as_str()) => {
            if let Some(owner) = store::credentials::username_owner(txn, u.key()).await?
                && owner != profile_id
            {
                return Err(AppError::UsernameTaken {
                    username: u.to_string(),
                });
            }
            Some(u)
        }
        _ => None,
    };
    let has_password = current.as_ref().is_some_and(|c| c.password_is_set);
    let password = account
        .password_hash
        .filter(|_| account.replace_password || !has_password);
    if username.is_none() && password.is_none() {
        return Ok(false);
    }
    let change = CredentialChange {
        username: username.map(|u| (u.as_str().to_owned(), u.key().to_owned())),
        password: password.map(|hash| NewPassword {
            hash: hash.to_owned(),
            set_by: PasswordSetBy::Imported,
            sealed: None,
        }),
        must_change_password: None,
    };
    store::credentials::upsert(txn, profile_id, change, now).await?;
    audit::record(
        txn,
        now,
        NewAuditEvent::new(AuditAction::CredentialsImported, AuditActor::System, None)
            .profile(profile_id)
            .detail(
                json!({ "usernameSet": username.is_some(), "passwordSet": password.is_some() }),
            ),
    )
    .await?;
    Ok(true)
}
