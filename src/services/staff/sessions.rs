//! A staff user's own sessions: the list (when and where each was opened, when last used),
//! ending one, and an administrator ending all of another user's.

use crate::domain::{
    AuditAction, AuditActor, NewAuditEvent, Right, StaffSessionInfo, StaffUser, StaffUserId, Token,
};
use crate::error::{AppError, AppResult};
use crate::services::{Principal, RequestMeta, Services, audit};
use crate::store;

/// The caller's sessions that still work, most recently used first, and which of them is
/// the one asking.
pub async fn mine(
    svc: &Services,
    principal: &Principal,
) -> AppResult<(Vec<StaffSessionInfo>, i64)> {
    let staff = principal.staff()?;
    let rows = store::sessions::live_staff_sessions(
        &svc.db,
        staff.user.id,
        svc.clock.now(),
        svc.config.staff_session_idle,
    )
    .await?;
    Ok((rows, staff.session_id))
}

/// Ends one of the caller's own sessions (another browser, a lost laptop). Audited.
pub async fn revoke(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    session_id: i64,
) -> AppResult<()> {
    let staff = principal.staff()?;
    let txn = store::begin_write(&svc.db).await?;
    if !store::sessions::delete_owned(&txn, staff.user.id, session_id).await? {
        return Err(AppError::not_found("session of yours", session_id));
    }
    audit::record(
        &txn,
        svc.clock.now(),
        principal
            .audit_event(AuditAction::StaffSessionRevoked, meta)
            .staff(staff.user.id)
            .detail(serde_json::json!({ "sessionId": session_id })),
    )
    .await?;
    store::commit(txn).await?;
    Ok(())
}

/// Ends every session of another staff user at once, e.g. when their laptop is lost. Needs
/// MANAGE_STAFF; audited. Their open WebSockets close at their next check.
pub async fn revoke_all(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    target: StaffUserId,
) -> AppResult<u64> {
    principal.require(Right::ManageStaff)?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    if store::staff::get(&txn, target).await?.is_none() {
        return Err(AppError::not_found("staff user", target.get()));
    }
    let ended =
        store::sessions::live_staff_sessions(&txn, target, now, svc.config.staff_session_idle)
            .await?
            .len() as u64;
    store::sessions::delete_all(&txn, target, None).await?;
    audit::record(
        &txn,
        now,
        principal
            .audit_event(AuditAction::StaffSessionsRevoked, meta)
            .staff(target)
            .detail(serde_json::json!({ "sessions": ended })),
    )
    .await?;
    store::commit(txn).await?;
    Ok(ended)
}

/// Starts a session for a staff user who has proved who they are, audited as a sign-in;
/// `second_factor` names what finished it (`totp`, `recovery_code`), if anything did.
pub(crate) async fn open(
    svc: &Services,
    meta: &RequestMeta,
    user: &StaffUser,
    second_factor: Option<&str>,
) -> AppResult<Token> {
    let now = svc.clock.now();
    let token = Token::generate().map_err(AppError::internal)?;
    let txn = store::begin_write(&svc.db).await?;
    let client = store::sessions::SessionClient {
        ip: meta.client_ip.as_deref(),
        user_agent: meta.user_agent.as_deref(),
    };
    store::sessions::create(
        &txn,
        &token.hash(),
        user.id,
        now,
        svc.config.staff_session_ttl,
        &client,
    )
    .await?;
    let mut event = NewAuditEvent::new(
        AuditAction::StaffLogin,
        AuditActor::Staff(user.id.get()),
        meta.client_ip.as_deref(),
    )
    .staff(user.id);
    if let Some(how) = second_factor {
        event = event.detail(serde_json::json!({ "secondFactor": how }));
    }
    audit::record(&txn, now, event).await?;
    store::commit(txn).await?;
    Ok(token)
}
