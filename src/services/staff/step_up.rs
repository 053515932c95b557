//! Step-up ("sudo mode"): the few staff actions that change how an account is proven or
//! recovered need a fresh proof from the session that asks, not just the session token.
//!
//! The proof is the password plus, when the user has one, a second-factor code (or a
//! recovery code), given to `confirmStaffIdentity`. It lasts `MEMBERKEY_STAFF_STEP_UP_MINUTES`
//! (5 by default) for that session only. A sign-in does not count: whoever steals a session
//! token, however fresh, still has to know the password and hold the second factor.
//!
//! Needs step-up: enrolling a second factor, regenerating recovery codes, resetting another
//! user's second factor, changing one's own password, recording or changing a staff user's
//! email address, and sending a staff user a set-password link.

use chrono::{DateTime, Utc};

use crate::domain::AuditAction;
use crate::error::{AppError, AppResult};
use crate::services::lockout::{self, Account};
use crate::services::principal::StaffPrincipal;
use crate::services::{Principal, RequestMeta, Services, audit};
use crate::store;

/// Refuses with `STEP_UP_REQUIRED` unless this session proved its user within the window.
pub fn require(svc: &Services, staff: &StaffPrincipal) -> AppResult<()> {
    let now = svc.clock.now();
    match staff.stepped_up_at {
        Some(at) if at <= now && now - at < svc.config.staff_step_up => Ok(()),
        _ => Err(AppError::StepUpRequired),
    }
}

/// Proves the signed-in staff user again with their password and, if they have a second
/// factor, a code. Wrong proofs count toward the lockout like sign-ins. Returns until when
/// the session may make step-up changes. Audited.
pub async fn confirm(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    password: &str,
    code: Option<&str>,
) -> AppResult<DateTime<Utc>> {
    let staff = principal.staff()?;
    let code = code.map(str::trim).filter(|c| !c.is_empty());
    if staff.user.second_factor && code.is_none() {
        return Err(AppError::BadUserInput {
            field: "code".into(),
            message: "your account has a second factor: also give the 6-digit code your authenticator app shows now, or one of your recovery codes".into(),
        });
    }
    let failed = AuditAction::StaffStepUpFailed;
    if !super::password::recheck(svc, principal, meta, password, failed).await? {
        return Err(AppError::InvalidLogin);
    }
    let now = svc.clock.now();
    if let Some(code) = code.filter(|_| staff.user.second_factor)
        && super::second_factor::guarded_code(svc, meta, &staff.user, code)
            .await?
            .is_none()
    {
        let event = principal.audit_event(failed, meta).staff(staff.user.id);
        audit::record(&svc.db, now, event).await?;
        return Err(AppError::InvalidLogin);
    }
    lockout::succeeded(svc, meta, &Account::Staff(staff.user.id)).await?;
    let txn = store::begin_write(&svc.db).await?;
    store::sessions::record_step_up(&txn, staff.session_id, now).await?;
    audit::record(
        &txn,
        now,
        principal
            .audit_event(AuditAction::StaffStepUp, meta)
            .staff(staff.user.id),
    )
    .await?;
    store::commit(txn).await?;
    Ok(now + svc.config.staff_step_up)
}
