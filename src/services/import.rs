//! Bringing portal accounts over from another system: a username and a password hash that
//! system made (PBKDF2, scrypt or Argon2 PHC strings). The password itself is never known to
//! us; the member signs in with it and the hash is replaced by Argon2id on that sign-in.

use serde_json::json;

use super::{Services, audit, hashing};
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

/// Imports one account. Run by an operator (the CLI), so there is no staff principal; the
/// audit row names the system as the actor.
pub async fn import(svc: &Services, row: ImportedCredential<'_>) -> AppResult<CredentialInfo> {
    if !hashing::accepts_imported(row.password_hash) {
        return Err(AppError::BadUserInput {
            field: "passwordHash".into(),
            message: "is not a PHC string of a supported algorithm (argon2id, pbkdf2-sha256, pbkdf2-sha512, scrypt) within the cost limits".into(),
        });
    }
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
    if let Some(u) = &username
        && let Some(owner) = store::credentials::username_owner(&txn, u.key()).await?
        && owner != row.profile_id
    {
        return Err(AppError::UsernameTaken {
            username: u.to_string(),
        });
    }
    let change = CredentialChange {
        username: username
            .as_ref()
            .map(|u| (u.as_str().to_owned(), u.key().to_owned())),
        password: Some(NewPassword {
            hash: row.password_hash.to_owned(),
            set_by: PasswordSetBy::Imported,
            sealed: None,
        }),
        must_change_password: None,
    };
    let info = store::credentials::upsert(&txn, row.profile_id, change, now).await?;
    audit::record(
        &txn,
        now,
        NewAuditEvent::new(AuditAction::CredentialsImported, AuditActor::System, None)
            .profile(row.profile_id)
            .detail(json!({ "usernameSet": username.is_some() })),
    )
    .await?;
    txn.commit().await?;
    Ok(info)
}
