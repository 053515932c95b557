//! Member sign-in, sign-out, their own account, and changing their password.
//!
//! Every failure looks the same: unknown login, wrong password, locked or password-less
//! account all give `INVALID_LOGIN` after the same hashing work. Failures are counted in the
//! database by `super::lockout` (per client, with a ceiling per account), so the lockout holds
//! across processes and under load, and nobody can lock a member out from elsewhere.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use serde_json::json;

use super::lockout::{self, Account, Refusal};
use super::passwords::{self, Current};
use super::rate_limit::Limit;
use super::{Principal, RequestMeta, Services, audit};
use crate::domain::{
    AuditAction, AuditActor, CredentialInfo, EmailAddress, MemberStatus, NewAuditEvent, Password,
    PasswordContext, PasswordSetBy, Profile, ProfileId, Token, Username, search_key,
};
use crate::error::{AppError, AppResult};
use crate::store::{
    self,
    credentials::{ClearLock, LoginRecord},
    links::LinkOwner,
};

/// Counts one wrong password against `account`, audits it on `profile`, and audits a lock
/// this failure started (`"scope"`: the client's, or the account's ceiling).
async fn count_failure(
    svc: &Services,
    meta: &RequestMeta,
    (account, profile_id): (&Account, ProfileId),
    action: AuditAction,
    actor: AuditActor,
) -> AppResult<()> {
    let counted = lockout::fail(svc, meta, account).await?;
    let ip = meta.client_ip.as_deref();
    audit::record(
        &svc.db,
        svc.clock.now(),
        NewAuditEvent::new(action, actor, ip).profile(profile_id),
    )
    .await?;
    for (locked, scope) in [
        (counted.client_locked, Refusal::Client),
        (counted.account_locked, Refusal::Account),
    ] {
        if locked {
            let event = NewAuditEvent::new(AuditAction::AccountLocked, AuditActor::System, ip)
                .profile(profile_id)
                .detail(json!({ "scope": scope.as_str() }));
            audit::record(&svc.db, svc.clock.now(), event).await?;
        }
    }
    Ok(())
}

/// The lockout account a login string names: the one profile it names, or the address its
/// profiles share.
fn account_for(found: &[LoginRecord], login: &str) -> Option<Account> {
    match found {
        [] => None,
        [one] => Some(Account::Member(one.profile_id)),
        _ => EmailAddress::parse(login)
            .ok()
            .map(|email| Account::Address(search_key(email.as_str()))),
    }
}

/// The credentials a login names: with `@`, every profile sharing that email address;
/// without, the one with that username.
async fn candidates(svc: &Services, login: &str) -> AppResult<Vec<LoginRecord>> {
    // A username never contains `@` and an email always does, so at most one lookup can
    // match: a login string names one identity (or the profiles sharing one address).
    if let Ok(username) = Username::parse(login)
        && let Some(found) = store::credentials::login_by_username(&svc.db, username.key()).await?
    {
        return Ok(vec![found]);
    }
    match EmailAddress::parse(login) {
        Ok(email) => {
            Ok(store::credentials::logins_by_email(&svc.db, &search_key(email.as_str())).await?)
        }
        Err(_) => Ok(Vec::new()),
    }
}

/// Why a credential may not sign in at all, before any password is looked at.
fn barred(
    svc: &Services,
    c: &LoginRecord,
    statuses: &HashMap<ProfileId, MemberStatus>,
) -> Option<&'static str> {
    if c.disabled {
        return Some("CREDENTIAL_DISABLED");
    }
    match statuses.get(&c.profile_id) {
        Some(status) if !svc.config.may_sign_in(*status) => Some("MEMBERSHIP_STATUS"),
        _ => None,
    }
}

/// What a successful sign-in gives: the session token, the member's profile, and whether they
/// must choose a new password before anything else.
pub struct SignedIn {
    pub token: Token,
    pub profile: Profile,
    pub must_change_password: bool,
}

/// Signs a member in with a username or email address.
pub async fn login(
    svc: &Services,
    meta: &RequestMeta,
    login: &str,
    password: &str,
) -> AppResult<SignedIn> {
    super::rate_limit::check(svc, meta, Limit::LoginFromIp).await?;
    let candidate = Password::for_verification(password);
    let now = svc.clock.now();
    let found = candidates(svc, login).await?;
    // Membership statuses are read only when the settings restrict sign-in by them.
    let statuses = match &svc.config.sign_in_statuses {
        Some(_) if !found.is_empty() => {
            let ids: Vec<ProfileId> = found.iter().map(|c| c.profile_id).collect();
            store::profiles::get_many(&svc.db, &ids)
                .await?
                .into_iter()
                .map(|(id, p)| (id, p.member_status))
                .collect()
        }
        _ => HashMap::new(),
    };
    let open: Vec<&LoginRecord> = found
        .iter()
        .filter(|c| c.password_hash.is_some())
        .filter(|c| barred(svc, c, &statuses).is_none())
        .collect();
    let account = account_for(&found, login);
    let refusal = match (&account, open.is_empty()) {
        (Some(account), false) => lockout::check(svc, meta, account).await?,
        _ => None,
    };
    if open.is_empty() || refusal.is_some() {
        // Unknown, locked, switched off, outside the statuses allowed to sign in, or
        // password-less: the same work and the same answer as a wrong password.
        svc.hasher.verify(candidate.as_ref(), None).await?;
        let first = found.first();
        let action = if refusal.is_some() {
            AuditAction::MemberLoginWhileLocked
        } else {
            AuditAction::MemberLoginFailed
        };
        let mut event =
            NewAuditEvent::new(action, AuditActor::Anonymous, meta.client_ip.as_deref())
                .with_profile(first.map(|c| c.profile_id));
        // Staff asking "why can't this member sign in?" find the reason in the audit trail.
        if let Some(reason) = first.and_then(|c| barred(svc, c, &statuses)) {
            event = event.detail(json!({ "reason": reason }));
        } else if let Some(refusal) = refusal {
            event = event.detail(json!({ "lock": refusal.as_str() }));
        }
        audit::record(&svc.db, svc.clock.now(), event).await?;
        return Err(AppError::InvalidLogin);
    }
    let account =
        account.ok_or_else(|| AppError::internal("an open credential without an account"))?;
    let mut matches = Vec::new();
    for c in &open {
        if svc
            .hasher
            .verify(candidate.as_ref(), c.password_hash.as_deref())
            .await?
        {
            matches.push(c.profile_id);
        }
    }
    match matches.as_slice() {
        [] => {
            // One failure, against the account the login string names: guessing at an
            // address several profiles share never locks any of them by their username.
            count_failure(
                svc,
                meta,
                (&account, open[0].profile_id),
                AuditAction::MemberLoginFailed,
                AuditActor::Anonymous,
            )
            .await?;
            Err(AppError::InvalidLogin)
        }
        [profile_id] => {
            let profile_id = *profile_id;
            lockout::succeeded(svc, meta, &account).await?;
            if account != Account::Member(profile_id) {
                lockout::succeeded(svc, meta, &Account::Member(profile_id)).await?;
            }
            // Upgrade a hash made with older parameters while the password is at hand.
            let stored = open
                .iter()
                .find(|c| c.profile_id == profile_id)
                .and_then(|c| c.password_hash.as_deref());
            if let (Some(stored), Some(candidate)) = (stored, candidate.as_ref())
                && svc.hasher.needs_rehash(stored)
            {
                let fresh = svc.hasher.hash(candidate).await?;
                store::credentials::replace_hash(&svc.db, profile_id, fresh).await?;
            }
            let token = Token::generate().map_err(AppError::internal)?;
            let txn = store::begin_write(&svc.db).await?;
            store::credentials::clear_lock(&txn, profile_id, ClearLock::SignedIn, now).await?;
            store::sessions::create(
                &txn,
                &token.hash(),
                profile_id,
                now,
                svc.config.member_session_ttl,
                &store::sessions::SessionClient::default(),
            )
            .await?;
            let profile = store::profiles::get(&txn, profile_id)
                .await?
                .ok_or_else(|| AppError::not_found("profile", profile_id))?;
            store::commit(txn).await?;
            let actor = AuditActor::Member(profile_id.get());
            let event =
                NewAuditEvent::new(AuditAction::MemberLogin, actor, meta.client_ip.as_deref());
            audit::record(&svc.db, svc.clock.now(), event.profile(profile_id)).await?;
            let must_change_password = open
                .iter()
                .any(|c| c.profile_id == profile_id && c.must_change_password);
            Ok(SignedIn {
                token,
                profile,
                must_change_password,
            })
        }
        _ => Err(AppError::AmbiguousLogin),
    }
}

/// Ends the member's current session; the end of a staff user's view as the member is
/// audited.
pub async fn logout(svc: &Services, principal: &Principal, meta: &RequestMeta) -> AppResult<()> {
    let member = principal.member()?;
    store::sessions::delete::<ProfileId>(&svc.db, member.session_id).await?;
    super::impersonation::record_end(svc, principal, meta).await?;
    Ok(())
}

/// Ends every session of the signed-in member, this one included ("Sign out everywhere"):
/// a browser left signed in elsewhere stops working at once. A staff user's read-only view
/// may not do it.
pub async fn logout_everywhere(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
) -> AppResult<()> {
    let member = principal.member()?;
    member.may_change()?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    store::sessions::delete_all::<ProfileId>(&txn, member.profile_id, None).await?;
    let event = NewAuditEvent::new(
        AuditAction::MemberSignedOutEverywhere,
        AuditActor::Member(member.profile_id.get()),
        meta.client_ip.as_deref(),
    )
    .profile(member.profile_id);
    audit::record(&txn, now, event).await?;
    store::commit(txn).await?;
    Ok(())
}

/// The signed-in member's profile and credential metadata.
pub async fn me(
    svc: &Services,
    principal: &Principal,
) -> AppResult<(Profile, Option<CredentialInfo>)> {
    let member = principal.member()?;
    let profile = store::profiles::get(&svc.db, member.profile_id)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let credential = store::credentials::get(&svc.db, member.profile_id).await?;
    Ok((profile, credential))
}

/// Changes the member's own password after checking the current one. Ends their other
/// sessions. Returns when the change took effect.
pub async fn change_password(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    current: &str,
    new: &str,
) -> AppResult<DateTime<Utc>> {
    let member = principal.member()?;
    member.may_change()?;
    let now = svc.clock.now();
    let record = store::credentials::login_by_profile(&svc.db, member.profile_id)
        .await?
        .ok_or(AppError::InvalidLogin)?;
    let account = Account::Member(member.profile_id);
    let stored = record.password_hash.as_deref();
    match passwords::check_current(svc, meta, Limit::LoginFromIp, &account, stored, current).await?
    {
        Current::Right => {}
        Current::Locked => return Err(AppError::InvalidLogin),
        Current::Wrong => {
            let actor = AuditActor::Member(member.profile_id.get());
            let failure = (&account, member.profile_id);
            count_failure(svc, meta, failure, AuditAction::PasswordChangeFailed, actor).await?;
            return Err(AppError::InvalidLogin);
        }
    }
    let (profile, info) = me(svc, principal).await?;
    let username = info.and_then(|i| i.username);
    let ctx = PasswordContext {
        username: username.as_deref(),
        email: profile.email.as_deref(),
        association_name: None,
    };
    let password = super::credentials::judge_password(svc, new, ctx)?;
    let hash = svc.hasher.hash(&password).await?;
    let txn = store::begin_write(&svc.db).await?;
    let owner = LinkOwner::Member(member.profile_id);
    let keep = Some(member.session_id);
    passwords::replace(&txn, owner, hash, PasswordSetBy::Member, keep, now).await?;
    let login = username
        .clone()
        .or(profile.email.clone())
        .unwrap_or_default();
    super::resets::queue_password_changed(&txn, member.profile_id, login, now).await?;
    audit::record(
        &txn,
        now,
        NewAuditEvent::new(
            AuditAction::PasswordChanged,
            AuditActor::Member(member.profile_id.get()),
            meta.client_ip.as_deref(),
        )
        .profile(member.profile_id)
        .detail(json!({ "by": "MEMBER" })),
    )
    .await?;
    store::commit(txn).await?;
    svc.wake_delivery();
    Ok(now)
}
