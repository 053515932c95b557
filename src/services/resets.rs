//! Sending set-password links: staff "Send Password Reset Email", the member's "Forgot
//! Login", and a one-time link for staff to pass on by phone. Requests only queue mail; the
//! delivery worker mints each link when it sends the message.

use serde_json::json;

use super::{Principal, RequestMeta, Services, audit};
use crate::domain::{
    AuditAction, AuditActor, EmailAddress, NewAuditEvent, OutboundMessage, ProfileId, Right,
    SetPasswordLinks, ShortCode, Token, TokenPurpose, search_key,
};
use crate::error::{AppError, AppResult};
use crate::mail::links::set_password_link;
use crate::store::{
    self,
    links::{LinkOwner, NewLink},
};

/// A link for a credential staff switched off would only lead to a password that cannot
/// sign in, so staff are told to switch it on first.
async fn refuse_switched_off(txn: &store::Txn, profile_id: ProfileId) -> AppResult<()> {
    if store::credentials::switched_off(txn, &[profile_id])
        .await?
        .is_empty()
    {
        return Ok(());
    }
    Err(AppError::conflict(
        "this profile's portal credentials are switched off, so a link would not let the member sign in. Switch them on first (setPortalCredentialsEnabled, or Web > Portal in the console), then send again",
    ))
}

/// Staff send the standard "Forgot Login" email to one profile's address. Returns the
/// address it goes to.
pub async fn send_reset_email(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    profile_id: ProfileId,
) -> AppResult<String> {
    let staff = principal.require(Right::SendPasswordResets)?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    let profile = store::profiles::get(&txn, profile_id)
        .await?
        .ok_or_else(|| AppError::not_found("profile", profile_id))?;
    let email = profile.email.clone().ok_or(AppError::NoEmailAddress)?;
    refuse_switched_off(&txn, profile_id).await?;
    super::suppressions::refuse_bounced(svc, &txn, &email).await?;
    let message = OutboundMessage::SetPasswordLinks(SetPasswordLinks {
        profiles: vec![profile_id],
        ttl: svc.config.mail.staff_link_ttl,
        purpose: TokenPurpose::StaffReset,
        issued_by: Some(staff.user.id),
    });
    let outbound_id =
        store::outbound::enqueue(&txn, &message, Some(profile_id), &email, now).await?;
    audit::record(
        &txn,
        now,
        principal
            .audit_event(AuditAction::ResetEmailQueued, meta)
            .profile(profile_id)
            .detail(json!({ "outboundEmailId": outbound_id.get() })),
    )
    .await?;
    store::commit(txn).await?;
    tracing::info!(
        profile_id = profile_id.get(),
        outbound_id = outbound_id.get(),
        staff_user = staff.user.id.get(),
        "password reset email queued"
    );
    svc.wake_delivery();
    Ok(email)
}

/// "Forgot Login". The answer is the same whether or not anyone uses the address, and
/// whether or not a limit held the mail back. One email lists every profile that uses the
/// address, each with its own link.
///
/// Floods are bounded three ways, each counted per call (so every alias counts): per client
/// IP (IPv6 by /64), per address per hour, and in all per hour. A request for an address
/// nobody uses stores nothing beyond its client's one counter row.
pub async fn request_reset(svc: &Services, meta: &RequestMeta, raw_email: &str) -> AppResult<()> {
    let email = EmailAddress::parse(raw_email).map_err(|e| AppError::bad_input("email", e))?;
    if !super::rate_limit::within(svc, meta, super::rate_limit::Limit::ResetFromIp).await? {
        return Ok(());
    }
    let key = search_key(email.as_str());
    let now = svc.clock.now();
    let hour = chrono::Duration::hours(1);
    let txn = store::begin_write(&svc.db).await?;
    let mut ids = store::profiles::ids_by_email(&txn, &key).await?;
    // A credential staff switched off gets no link: the answer stays the same.
    let off = store::credentials::switched_off(&txn, &ids).await?;
    ids.retain(|id| !off.contains(id));
    if ids.is_empty() {
        store::commit(txn).await?;
        return Ok(());
    }
    let hits = store::rate_limits::hit(&txn, &address_bucket(&key), hour, now).await?;
    if hits > svc.config.mail.resets_per_address_per_hour {
        store::commit(txn).await?;
        tracing::info!("Forgot Login request over the per-address limit; not queued");
        return Ok(());
    }
    let all = store::rate_limits::hit(&txn, "reset-mail-total", hour, now).await?;
    if all > svc.config.reset_mail_per_hour {
        store::commit(txn).await?;
        tracing::warn!(
            limit = svc.config.reset_mail_per_hour,
            "Forgot Login mail is over its hourly cap (MEMBERKEY_RESET_MAIL_PER_HOUR); not queued"
        );
        return Ok(());
    }
    // The stored address is the one mail goes to, never the typed variant.
    let to = match ids.first() {
        Some(first) => store::profiles::get(&txn, *first)
            .await?
            .and_then(|p| p.email)
            .unwrap_or_else(|| email.to_string()),
        None => email.to_string(),
    };
    let message = OutboundMessage::SetPasswordLinks(SetPasswordLinks {
        profiles: ids.clone(),
        ttl: svc.config.mail.member_link_ttl,
        purpose: TokenPurpose::ForgotLogin,
        issued_by: None,
    });
    let outbound_id =
        store::outbound::enqueue(&txn, &message, ids.first().copied(), &to, now).await?;
    audit::record(
        &txn,
        now,
        NewAuditEvent::new(
            AuditAction::ForgotLoginRequested,
            AuditActor::Anonymous,
            meta.client_ip.as_deref(),
        )
        .with_profile(ids.first().copied())
        .detail(json!({ "profiles": ids.len() })),
    )
    .await?;
    store::commit(txn).await?;
    tracing::info!(
        outbound_id = outbound_id.get(),
        profiles = ids.len(),
        "Forgot Login email queued"
    );
    svc.wake_delivery();
    Ok(())
}

/// How long the short code of a link for the phone works (the link itself lives longer).
const SHORT_CODE_TTL: chrono::Duration = chrono::Duration::minutes(15);
/// Wrong tries a short code survives; the per-IP limit on token use applies as well.
const SHORT_CODE_ATTEMPTS: i32 = 5;

/// A link for the phone, with the short code that can stand in for it.
pub struct IssuedLink {
    pub url: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub short_code: String,
    pub short_code_expires_at: chrono::DateTime<chrono::Utc>,
}

/// A one-time set-password link for staff to pass on, e.g. by phone, and a short code that
/// a person can read out instead: with their login, it opens the same form.
pub async fn issue_link(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    profile_id: ProfileId,
) -> AppResult<IssuedLink> {
    let staff = principal.require(Right::SendPasswordResets)?;
    let now = svc.clock.now();
    let expires_at = now + svc.config.mail.staff_link_ttl;
    let token = Token::generate().map_err(AppError::internal)?;
    let txn = store::begin_write(&svc.db).await?;
    store::profiles::get(&txn, profile_id)
        .await?
        .ok_or_else(|| AppError::not_found("profile", profile_id))?;
    refuse_switched_off(&txn, profile_id).await?;
    let token_id = store::links::mint(
        &txn,
        NewLink {
            hash: &token.hash(),
            purpose: TokenPurpose::StaffLink,
            owner: LinkOwner::Member(profile_id),
            issued_by: Some(staff.user.id),
            expires_at,
            outbound_email_id: None,
        },
        now,
    )
    .await?;
    let code = ShortCode::generate().map_err(AppError::internal)?;
    let code_expires_at = (now + SHORT_CODE_TTL).min(expires_at);
    store::links::short_codes::set(&txn, token_id, &code.hash(), code_expires_at).await?;
    audit::record(
        &txn,
        now,
        principal
            .audit_event(AuditAction::CredentialsLinkIssued, meta)
            .profile(profile_id),
    )
    .await?;
    store::commit(txn).await?;
    Ok(IssuedLink {
        url: set_password_link(&svc.config, &token),
        expires_at,
        short_code: code.to_string(),
        short_code_expires_at: code_expires_at,
    })
}

/// "I have a code": a member's login and the short code staff read out give the same form
/// as the link. Answers a fresh token for the set-password page; the link and the code both
/// stop working. A wrong code counts against it (it dies after 5) and gives INVALID_TOKEN.
pub async fn redeem_short_code(
    svc: &Services,
    meta: &RequestMeta,
    login: &str,
    code: &str,
) -> AppResult<Token> {
    super::rate_limit::check(svc, meta, super::rate_limit::Limit::TokenFromIp).await?;
    let login = login.trim();
    let profiles = if login.contains('@') {
        match EmailAddress::parse(login) {
            Ok(email) => {
                store::profiles::ids_by_email(&svc.db, &search_key(email.as_str())).await?
            }
            Err(_) => Vec::new(),
        }
    } else {
        match crate::domain::Username::parse(login) {
            Ok(u) => store::credentials::username_owner(&svc.db, u.key())
                .await?
                .into_iter()
                .collect(),
            Err(_) => Vec::new(),
        }
    };
    let Some(code) = ShortCode::parse(code) else {
        return Err(AppError::InvalidToken);
    };
    let now = svc.clock.now();
    let token = Token::generate().map_err(AppError::internal)?;
    let txn = store::begin_write(&svc.db).await?;
    let redeemed = store::links::short_codes::redeem(
        &txn,
        &profiles,
        &code.hash(),
        &token.hash(),
        SHORT_CODE_ATTEMPTS,
        now,
    )
    .await?;
    if let Some(profile) = redeemed {
        audit::record(
            &txn,
            now,
            NewAuditEvent::new(
                AuditAction::ShortCodeRedeemed,
                AuditActor::Anonymous,
                meta.client_ip.as_deref(),
            )
            .profile(profile),
        )
        .await?;
    }
    store::commit(txn).await?;
    redeemed.map(|_| token).ok_or(AppError::InvalidToken)
}

/// Queues the "your password was changed" notice, when the profile has an address.
pub(crate) async fn queue_password_changed(
    db: &impl store::Conn,
    profile_id: ProfileId,
    login: String,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    let Some(email) = store::profiles::get(db, profile_id)
        .await?
        .and_then(|p| p.email)
    else {
        return Ok(());
    };
    let message = OutboundMessage::PasswordChanged {
        login,
        changed_at: now,
    };
    store::outbound::enqueue(db, &message, Some(profile_id), &email, now).await?;
    Ok(())
}

/// The counter of Forgot Login mails to one address (by its search key) in the hour.
pub(super) fn address_bucket(key: &str) -> String {
    format!("reset-address:{key}")
}
