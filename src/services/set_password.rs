//! What a set-password link leads to: checking a token (never consuming it, since mail
//! scanners fetch links) and setting the password with it, which consumes it atomically.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::rate_limit::{self, Limit};
use super::{RequestMeta, Services, audit};
use crate::domain::{AuditAction, AuditActor, NewAuditEvent};
use crate::domain::{PasswordContext, PasswordSetBy, ProfileId, Token, Username};
use crate::error::{AppError, AppResult};
use crate::store::{
    self,
    credentials::CredentialChange,
    links::{LinkOwner, LinkRecord, OwnerKind},
};

/// Where a token stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    Valid,
    Expired,
    Used,
    Invalid,
}

/// What `checkSetPasswordToken` tells the page.
#[derive(Debug, Clone)]
pub struct TokenCheck {
    pub state: TokenState,
    /// The username, else the email address; only for a valid token.
    pub login: Option<String>,
    /// Only for a valid or expired token.
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether the account already has a username (else the page may offer to choose one).
    pub has_username: bool,
}

fn state_of(record: &LinkRecord, now: DateTime<Utc>) -> TokenState {
    if record.used_at.is_some() {
        TokenState::Used
    } else if record.invalidated_at.is_some() {
        TokenState::Invalid
    } else if record.expires_at <= now {
        TokenState::Expired
    } else {
        TokenState::Valid
    }
}

/// A presented member link and the profile it opens.
async fn lookup(svc: &Services, raw: &str) -> AppResult<Option<(LinkRecord, ProfileId)>> {
    let Some(token) = Token::from_presented(raw.trim()) else {
        return Ok(None);
    };
    let found = store::links::find(&svc.db, OwnerKind::Member, &token.hash()).await?;
    Ok(found.and_then(|r| r.owner.member().map(|id| (r, id))))
}

/// The login a profile signs in with: its username, else its email.
async fn login_of(
    svc: &Services,
    profile_id: ProfileId,
) -> AppResult<(Option<String>, Option<String>)> {
    let username = store::credentials::get(&svc.db, profile_id)
        .await?
        .and_then(|c| c.username);
    let email = store::profiles::get(&svc.db, profile_id)
        .await?
        .and_then(|p| p.email);
    Ok((username, email))
}

pub async fn check(svc: &Services, meta: &RequestMeta, raw: &str) -> AppResult<TokenCheck> {
    rate_limit::check(svc, meta, Limit::TokenFromIp).await?;
    let Some((record, profile_id)) = lookup(svc, raw).await? else {
        return Ok(TokenCheck {
            state: TokenState::Invalid,
            login: None,
            expires_at: None,
            has_username: false,
        });
    };
    let mut state = state_of(&record, svc.clock.now());
    if state == TokenState::Valid
        && !store::credentials::switched_off(&svc.db, &[profile_id])
            .await?
            .is_empty()
    {
        state = TokenState::Invalid;
    }
    let (login, has_username) = if state == TokenState::Valid {
        let (username, email) = login_of(svc, profile_id).await?;
        let has = username.is_some();
        (username.or(email), has)
    } else {
        (None, false)
    };
    let expires_at =
        matches!(state, TokenState::Valid | TokenState::Expired).then_some(record.expires_at);
    Ok(TokenCheck {
        state,
        login,
        expires_at,
        has_username,
    })
}

fn refusal(state: TokenState) -> AppError {
    match state {
        TokenState::Expired => AppError::TokenExpired,
        _ => AppError::InvalidToken,
    }
}

/// Sets the password a link was sent for. A password that fails the policy leaves the token
/// unused. On success: the token is used, every other token of the profile retired, a lock
/// cleared, every session of the member ended, and a "password changed" notice queued.
/// Returns what the member signs in with now.
pub async fn set_with_token(
    svc: &Services,
    meta: &RequestMeta,
    raw_token: &str,
    raw_password: &str,
    raw_username: Option<&str>,
) -> AppResult<String> {
    rate_limit::check(svc, meta, Limit::TokenFromIp).await?;
    let token = Token::from_presented(raw_token.trim()).ok_or(AppError::InvalidToken)?;
    let record = store::links::find(&svc.db, OwnerKind::Member, &token.hash())
        .await?
        .ok_or(AppError::InvalidToken)?;
    let state = state_of(&record, svc.clock.now());
    if state != TokenState::Valid {
        return Err(refusal(state));
    }
    let profile_id = record.owner.member().ok_or(AppError::InvalidToken)?;
    // A link minted before staff switched the credential off (a mass mail's) stops working.
    if !store::credentials::switched_off(&svc.db, &[profile_id])
        .await?
        .is_empty()
    {
        return Err(AppError::InvalidToken);
    }
    let (current_username, email) = login_of(svc, profile_id).await?;
    let new_username = match (
        raw_username.map(str::trim).filter(|u| !u.is_empty()),
        &current_username,
    ) {
        (None, _) => None,
        (Some(raw), None) => {
            Some(Username::parse(raw).map_err(|e| AppError::bad_input("username", e))?)
        }
        (Some(raw), Some(existing)) => {
            let parsed = Username::parse(raw).map_err(|e| AppError::bad_input("username", e))?;
            if Username::parse(existing).is_ok_and(|u| u.key() == parsed.key()) {
                None
            } else {
                return Err(AppError::BadUserInput {
                    field: "username".into(),
                    message:
                        "this account already has a username; leave it out or give the same one"
                            .into(),
                });
            }
        }
    };
    // Neither a username nor an email address: without a username the member could never
    // sign in, so one is required and the link stays usable until it is given.
    if new_username.is_none() && current_username.is_none() && email.is_none() {
        return Err(AppError::BadUserInput {
            field: "username".into(),
            message: "choose a username: this profile has no email address, so the username is how the member will sign in".into(),
        });
    }
    let username_for_policy = new_username
        .as_ref()
        .map(|u| u.as_str().to_owned())
        .or(current_username.clone());
    let ctx = PasswordContext {
        username: username_for_policy.as_deref(),
        email: email.as_deref(),
        association_name: None,
    };
    let password = super::credentials::judge_password(svc, raw_password, ctx)?;
    let hash = svc.hasher.hash(&password).await?;

    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    if let Some(u) = &new_username
        && let Some(owner) = store::credentials::username_owner(&txn, u.key()).await?
        && owner != profile_id
    {
        return Err(AppError::UsernameTaken {
            username: u.to_string(),
        });
    }
    // The single conditional UPDATE decides which of concurrent uses wins.
    if store::links::consume(&txn, OwnerKind::Member, &token.hash(), now)
        .await?
        .is_none()
    {
        drop(txn);
        let state = match store::links::find(&svc.db, OwnerKind::Member, &token.hash()).await? {
            Some(r) => state_of(&r, now),
            None => TokenState::Invalid,
        };
        return Err(refusal(state));
    }
    if let Some(u) = &new_username {
        let change = CredentialChange {
            username: Some((u.as_str().to_owned(), u.key().to_owned())),
            password: None,
            must_change_password: None,
        };
        store::credentials::upsert(&txn, profile_id, change, now).await?;
    }
    let owner = LinkOwner::Member(profile_id);
    super::passwords::replace(&txn, owner, hash, PasswordSetBy::Member, None, now).await?;
    // A link that came by mail proves the member reads mail there (`email_verified` for the
    // sites they sign in to).
    if let Some(address) = store::credentials::link_mailed_to(&txn, &token.hash()).await? {
        let key = crate::domain::search_key(&address);
        store::credentials::set_email_verified(&txn, profile_id, &key).await?;
    }
    // The mailed link lifts every lock, so a member can always get back in this way, whoever
    // was guessing and from where.
    super::lockout::lift(&txn, now, &super::lockout::Account::Member(profile_id)).await?;
    // And the address it may share with other profiles, by which the member may sign in.
    if let Some(address) = email.as_deref() {
        let shared = super::lockout::Account::Address(crate::domain::search_key(address));
        super::lockout::lift(&txn, now, &shared).await?;
    }
    let login = new_username
        .map(|u| u.to_string())
        .or(current_username)
        .or(email)
        .unwrap_or_default();
    super::resets::queue_password_changed(&txn, profile_id, login.clone(), now).await?;
    audit::record(
        &txn,
        now,
        NewAuditEvent::new(
            AuditAction::PasswordSetWithLink,
            AuditActor::Member(profile_id.get()),
            meta.client_ip.as_deref(),
        )
        .profile(profile_id)
        .detail(json!({ "tokenId": record.id })),
    )
    .await?;
    store::commit(txn).await?;
    svc.wake_delivery();
    Ok(login)
}
