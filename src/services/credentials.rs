//! Staff managing a member's portal credentials.

use serde_json::json;

use super::{Principal, RequestMeta, Services, audit};
use crate::domain::AuditAction;
use crate::domain::{
    CredentialInfo, Password, PasswordContext, PasswordSetBy, Profile, ProfileId, Right, Username,
};
use crate::error::{AppError, AppResult};
use crate::store::{
    self,
    credentials::{CredentialChange, NewPassword},
};

/// What staff asked to set. Each part may be left out.
#[derive(Debug, Default)]
pub struct SetCredentials<'a> {
    pub username: Option<&'a str>,
    pub password: Option<&'a str>,
    pub must_change_password: Option<bool>,
}

/// Parses and judges a new password for a profile. Refusals are `WEAK_PASSWORD` with the reason.
pub(crate) fn judge_password(
    svc: &Services,
    raw: &str,
    ctx: PasswordContext<'_>,
) -> AppResult<Password> {
    let password =
        Password::parse(raw, svc.password_policy()).map_err(|e| AppError::WeakPassword {
            reason: format!("The password {}.", e.message),
        })?;
    let ctx = PasswordContext {
        association_name: Some(&svc.config.association_name),
        ..ctx
    };
    password
        .check_strength(ctx)
        .map_err(|e| AppError::WeakPassword {
            reason: format!(
                "This password cannot be used: {}. Choose a different one.",
                e.message
            ),
        })?;
    Ok(password)
}

/// Sets a profile's username and/or password by hand. The password is hashed at once and
/// never returned.
pub async fn set(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    profile_id: ProfileId,
    input: SetCredentials<'_>,
) -> AppResult<CredentialInfo> {
    let staff = principal.require(Right::ManagePortalCredentials)?;
    if input.username.is_none() && input.password.is_none() && input.must_change_password.is_none()
    {
        return Err(AppError::BadUserInput {
            field: "input".into(),
            message: "give a username, a password or mustChangePassword".into(),
        });
    }
    let profile = store::profiles::get(&svc.db, profile_id)
        .await?
        .ok_or_else(|| AppError::not_found("profile", profile_id))?;
    let username = input
        .username
        .map(|raw| Username::parse(raw).map_err(|e| AppError::bad_input("input.username", e)))
        .transpose()?;
    let current = store::credentials::get(&svc.db, profile_id).await?;
    let effective_username = username
        .as_ref()
        .map(|u| u.as_str().to_owned())
        .or_else(|| current.as_ref().and_then(|c| c.username.clone()));
    let new_password = match input.password {
        Some(raw) => {
            let ctx = PasswordContext {
                username: effective_username.as_deref(),
                email: profile.email.as_deref(),
                association_name: None,
            };
            let password = judge_password(svc, raw, ctx)?;
            let sealed = svc
                .sealer
                .as_ref()
                .map(|s| s.seal(&password, profile_id))
                .transpose()?;
            Some((svc.hasher.hash(&password).await?, sealed))
        }
        None => None,
    };
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    if let Some(u) = &username
        && let Some(owner) = store::credentials::username_owner(&txn, u.key()).await?
        && owner != profile_id
    {
        return Err(AppError::UsernameTaken {
            username: u.to_string(),
        });
    }
    let password_changed = new_password.is_some();
    let change = CredentialChange {
        username: username
            .as_ref()
            .map(|u| (u.as_str().to_owned(), u.key().to_owned())),
        password: new_password.map(|(hash, sealed)| NewPassword {
            hash,
            set_by: PasswordSetBy::Staff,
            sealed,
        }),
        // A password staff typed in is known to someone else: by default the member replaces
        // it at the first sign-in. Staff may untick that.
        must_change_password: input
            .must_change_password
            .or(password_changed.then_some(true)),
    };
    let info = store::credentials::upsert(&txn, profile_id, change, now).await?;
    if password_changed {
        // A new password ends the member's sessions: whoever held the old one is signed out.
        store::sessions::delete_all(&txn, profile_id, None).await?;
    }
    audit::record(
        &txn,
        now,
        principal
            .audit_event(AuditAction::CredentialsSet, meta)
            .profile(profile_id)
            .detail(json!({
                "usernameChanged": username.is_some(),
                "passwordChanged": password_changed,
                "mustChangePassword": info.must_change_password,
                "by": staff.user.username,
            })),
    )
    .await?;
    store::commit(txn).await?;
    Ok(info)
}

/// Removes a profile's credentials and ends the member's sessions. Returns the profile, and
/// `false` when there were none.
pub async fn remove(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    profile_id: ProfileId,
) -> AppResult<(Profile, bool)> {
    principal.require(Right::ManagePortalCredentials)?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    let profile = store::profiles::get(&txn, profile_id)
        .await?
        .ok_or_else(|| AppError::not_found("profile", profile_id))?;
    let removed = store::credentials::remove(&txn, profile_id).await?;
    store::sessions::delete_all(&txn, profile_id, None).await?;
    if removed {
        audit::record(
            &txn,
            now,
            principal
                .audit_event(AuditAction::CredentialsRemoved, meta)
                .profile(profile_id),
        )
        .await?;
    }
    store::commit(txn).await?;
    Ok((profile, removed))
}

/// Switches a credential off or on without removing it. A switched-off credential keeps its
/// username and password, its holder cannot sign in (the answer is `INVALID_LOGIN`, as for a
/// wrong password), and its sessions end at once.
pub async fn set_enabled(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    profile_id: ProfileId,
    enabled: bool,
) -> AppResult<CredentialInfo> {
    principal.require(Right::ManagePortalCredentials)?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    let current = store::credentials::get(&txn, profile_id)
        .await?
        .ok_or_else(|| AppError::not_found("portal credential", profile_id))?;
    if current.disabled_at.is_none() == enabled {
        // Already as asked: nothing changes, and nothing is recorded.
        return Ok(current);
    }
    let info = store::credentials::set_disabled(&txn, profile_id, (!enabled).then_some(now), now)
        .await?
        .ok_or_else(|| AppError::not_found("portal credential", profile_id))?;
    let action = if enabled {
        AuditAction::CredentialsEnabled
    } else {
        store::sessions::delete_all(&txn, profile_id, None).await?;
        // Unused links die too: switched on again, the member asks for a new one.
        let retired =
            store::links::invalidate_for(&txn, store::links::LinkOwner::Member(profile_id), now)
                .await?;
        if retired > 0 {
            let detail = json!({ "reason": "CREDENTIALS_DISABLED", "links": retired });
            let event = principal.audit_event(AuditAction::SetPasswordLinksRetired, meta);
            audit::record(&txn, now, event.profile(profile_id).detail(detail)).await?;
        }
        AuditAction::CredentialsDisabled
    };
    audit::record(
        &txn,
        now,
        principal.audit_event(action, meta).profile(profile_id),
    )
    .await?;
    store::commit(txn).await?;
    Ok(info)
}

/// Clears a lockout before it runs out.
pub async fn unlock(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    profile_id: ProfileId,
) -> AppResult<CredentialInfo> {
    principal.require(Right::ManagePortalCredentials)?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    store::credentials::get(&txn, profile_id)
        .await?
        .ok_or_else(|| AppError::not_found("portal credential", profile_id))?;
    let clients =
        super::lockout::lift(&txn, now, &super::lockout::Account::Member(profile_id)).await?;
    audit::record(
        &txn,
        now,
        principal
            .audit_event(AuditAction::AccountUnlocked, meta)
            .profile(profile_id)
            .detail(json!({ "clients": clients })),
    )
    .await?;
    let info = store::credentials::get(&txn, profile_id)
        .await?
        .ok_or_else(|| AppError::not_found("portal credential", profile_id))?;
    store::commit(txn).await?;
    Ok(info)
}

/// The staff-assigned password still in force, for a holder of VIEW_PORTAL_PASSWORDS. Null
/// for member-chosen and imported passwords, once the member has set their own, and when
/// revealing is turned off. Every reveal is audited.
pub async fn reveal(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    profile_id: ProfileId,
) -> AppResult<Option<String>> {
    principal.require(Right::ViewPortalPasswords)?;
    let Some(sealer) = &svc.sealer else {
        return Ok(None);
    };
    let Some(sealed) = store::credentials::sealed_password(&svc.db, profile_id).await? else {
        return Ok(None);
    };
    let Some(password) = sealer.open(&sealed, profile_id) else {
        tracing::warn!(profile_id = %profile_id, "a sealed password does not open with the current key");
        return Ok(None);
    };
    audit::record(
        &svc.db,
        svc.clock.now(),
        principal
            .audit_event(AuditAction::PasswordRevealed, meta)
            .profile(profile_id),
    )
    .await?;
    Ok(Some(password))
}
