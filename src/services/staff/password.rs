//! A staff user's own password: changing it (the current one is a sign-in guess and counts
//! toward the staff lockout), and the operator's reset from the command line for the last
//! administrator, who has nobody to ask.

use serde_json::json;

use super::step_up;
use crate::domain::{
    AuditAction, AuditActor, NewAuditEvent, Password, PasswordContext, PasswordSetBy, Username,
};
use crate::error::{AppError, AppResult};
use crate::services::lockout::{self, Account};
use crate::services::passwords::{self, Current};
use crate::services::rate_limit::Limit;
use crate::services::{Principal, RequestMeta, Services, audit};
use crate::store::{self, links::LinkOwner};

/// The password policy for a staff user, with their username refused inside the password.
pub(super) fn judge(svc: &Services, username: &str, new: &str) -> AppResult<Password> {
    crate::services::credentials::judge_password(
        svc,
        new,
        PasswordContext {
            username: Some(username),
            ..PasswordContext::default()
        },
    )
}

/// Checks the signed-in staff user's own password again (to change it, or for step-up) as a
/// sign-in guess: the per-client budget and the lockout apply, a locked client's answer is
/// refused without a look, and a wrong one counts and is audited as `failed`. True when right.
pub(super) async fn recheck(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    password: &str,
    failed: AuditAction,
) -> AppResult<bool> {
    let staff = principal.staff()?;
    let username = Username::parse_for_lookup(&staff.user.username)
        .map_err(|e| AppError::internal(format!("stored staff username: {}", e.message)))?;
    let login = store::staff::find_for_login(&svc.db, &username)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let account = Account::Staff(staff.user.id);
    let stored = Some(login.password_hash.as_str());
    let limit = Limit::StaffLoginFromIp;
    match passwords::check_current(svc, meta, limit, &account, stored, password).await? {
        Current::Right => return Ok(true),
        Current::Wrong => {
            lockout::fail(svc, meta, &account).await?;
        }
        Current::Locked => {}
    }
    audit::record(
        &svc.db,
        svc.clock.now(),
        principal.audit_event(failed, meta).staff(staff.user.id),
    )
    .await?;
    Ok(false)
}

/// Changes the signed-in staff user's password. Their other sessions end; this one lives on.
/// Returns when the change took effect.
pub async fn change(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    current: &str,
    new: &str,
) -> AppResult<chrono::DateTime<chrono::Utc>> {
    let staff = principal.staff()?;
    step_up::require(svc, staff)?;
    if !recheck(
        svc,
        principal,
        meta,
        current,
        AuditAction::StaffPasswordChangeFailed,
    )
    .await?
    {
        return Err(AppError::InvalidLogin);
    }
    let now = svc.clock.now();
    let account = Account::Staff(staff.user.id);
    let password = judge(svc, &staff.user.username, new)?;
    let hash = svc.hasher.hash(&password).await?;
    let txn = store::begin_write(&svc.db).await?;
    let owner = LinkOwner::Staff(staff.user.id);
    let keep = Some(staff.session_id);
    passwords::replace(&txn, owner, hash, PasswordSetBy::Staff, keep, now).await?;
    audit::record(
        &txn,
        now,
        principal
            .audit_event(AuditAction::StaffPasswordChanged, meta)
            .staff(staff.user.id),
    )
    .await?;
    store::commit(txn).await?;
    lockout::succeeded(svc, meta, &account).await?;
    Ok(now)
}

/// Sets a staff user's password with the operator's authority (`memberkey staff
/// reset-password`): every session of theirs ends and any sign-in lock is lifted.
pub async fn reset(svc: &Services, username: &str, new: &str) -> AppResult<()> {
    let user = super::find_by_username(svc, username).await?;
    let password = judge(svc, &user.username, new)?;
    let hash = svc.hasher.hash(&password).await?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    let owner = LinkOwner::Staff(user.id);
    passwords::replace(&txn, owner, hash, PasswordSetBy::Staff, None, now).await?;
    let cleared = lockout::lift(&txn, now, &Account::Staff(user.id)).await?;
    audit::record(
        &txn,
        now,
        NewAuditEvent::new(AuditAction::StaffPasswordReset, AuditActor::System, None)
            .staff(user.id)
            .detail(json!({ "lockedClientsCleared": cleared })),
    )
    .await?;
    store::commit(txn).await?;
    Ok(())
}
