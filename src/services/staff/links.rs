//! Set-password links for staff users. An administrator with MANAGE_STAFF sends one to the
//! staff user's recorded address; the delivery worker mints the link when it sends the mail,
//! as for members. Using it sets the password, ends every session of that staff user, lifts a
//! sign-in lock and retires the user's other links. The second factor stays as it was: a link
//! proves the mailbox, not the authenticator.

use serde_json::json;

use crate::domain::PasswordSetBy;
use crate::domain::{
    AuditAction, AuditActor, LinkState, NewAuditEvent, OutboundMessage, Right, StaffUserId, Token,
};
use crate::error::{AppError, AppResult};
use crate::services::passwords;
use crate::services::rate_limit::{self, Limit};
use crate::services::{Principal, RequestMeta, Services, audit};
use crate::store::{
    self,
    links::{LinkOwner, LinkRecord, OwnerKind},
};

/// Queues a set-password link to a staff user's address and returns the address.
pub async fn send(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    id: StaffUserId,
) -> AppResult<String> {
    let admin = principal.require(Right::ManageStaff)?;
    // A link is a way into the account it goes to: a session alone must not be able to send
    // one (to itself, or to an address it just set on another account).
    super::step_up::require(svc, admin)?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    let target = super::existing(&txn, id).await?;
    if !target.active {
        return Err(AppError::conflict(
            "this staff user is deactivated, so a link would not let them sign in. Reactivate them first (reactivateStaffUser, or Staff users in the console), then send again",
        ));
    }
    let email = target.email.clone().ok_or(AppError::NoEmailAddress)?;
    crate::services::suppressions::refuse_bounced(svc, &txn, &email).await?;
    let message = OutboundMessage::StaffPasswordLink {
        staff_user: id,
        ttl: svc.config.mail.staff_link_ttl,
        issued_by: Some(admin.user.id),
    };
    let outbound_id = store::outbound::enqueue(&txn, &message, None, &email, now).await?;
    audit::record(
        &txn,
        now,
        principal
            .audit_event(AuditAction::StaffPasswordLinkSent, meta)
            .staff(id)
            .detail(json!({ "outboundEmailId": outbound_id.get() })),
    )
    .await?;
    store::commit(txn).await?;
    svc.wake_delivery();
    Ok(email)
}

/// Why a presented link cannot be used, if it cannot: the same rules as any link's state.
fn refusal(record: &LinkRecord, now: chrono::DateTime<chrono::Utc>) -> Option<AppError> {
    match LinkState::of(
        record.used_at,
        record.invalidated_at,
        record.expires_at,
        now,
    ) {
        LinkState::Unused => None,
        LinkState::Expired => Some(AppError::TokenExpired),
        LinkState::Used | LinkState::Replaced => Some(AppError::InvalidToken),
    }
}

/// Sets a staff user's password with a link and returns their username, to prefill sign-in.
/// A password the policy refuses leaves the link unused.
pub async fn set_with_token(
    svc: &Services,
    meta: &RequestMeta,
    raw_token: &str,
    raw_password: &str,
) -> AppResult<String> {
    rate_limit::check(svc, meta, Limit::TokenFromIp).await?;
    let token = Token::from_presented(raw_token.trim()).ok_or(AppError::InvalidToken)?;
    let hash = token.hash();
    let record = store::links::find(&svc.db, OwnerKind::Staff, &hash)
        .await?
        .ok_or(AppError::InvalidToken)?;
    let staff_user = record.owner.staff().ok_or(AppError::InvalidToken)?;
    if let Some(refused) = refusal(&record, svc.clock.now()) {
        return Err(refused);
    }
    let user = store::staff::get(&svc.db, staff_user)
        .await?
        .filter(|u| u.active)
        .ok_or(AppError::InvalidToken)?;
    let password = super::password::judge(svc, &user.username, raw_password)?;
    let password_hash = svc.hasher.hash(&password).await?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    // The conditional update decides: of two concurrent uses, or a use racing expiry, one wins.
    let owner = LinkOwner::Staff(user.id);
    if store::links::consume(&txn, OwnerKind::Staff, &hash, now).await? != Some(owner) {
        return Err(AppError::InvalidToken);
    }
    passwords::replace(&txn, owner, password_hash, PasswordSetBy::Staff, None, now).await?;
    let cleared = crate::services::lockout::lift(
        &txn,
        now,
        &crate::services::lockout::Account::Staff(user.id),
    )
    .await?;
    audit::record(
        &txn,
        now,
        NewAuditEvent::new(
            AuditAction::StaffPasswordSetWithLink,
            // Whoever holds the link acts as the staff user it was sent to.
            AuditActor::Staff(user.id.get()),
            meta.client_ip.as_deref(),
        )
        .staff(user.id)
        .detail(json!({ "lockedClientsCleared": cleared })),
    )
    .await?;
    store::commit(txn).await?;
    Ok(user.username)
}
