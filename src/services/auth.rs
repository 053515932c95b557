//! Resolving who is calling from a bearer token, and staff sign-in.

use chrono::Duration;

use super::lockout::{self, Account};
use super::principal::{MemberPrincipal, Principal, RequestMeta, StaffPrincipal};
use super::{Services, audit};
use crate::domain::{AuditAction, AuditActor, NewAuditEvent, StaffUserId};
use crate::domain::{Password, ProfileId, Right, StaffUser, Token, Username};
use crate::error::{AppError, AppResult};
use crate::store;

/// Idle sessions are re-stamped at most this often, so reads do not each cost a write.
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// Resolves a bearer token. An unknown, expired or idle token is simply anonymous: public
/// operations still work, and guarded ones answer `UNAUTHENTICATED`.
pub async fn resolve(svc: &Services, bearer: Option<&str>) -> AppResult<Principal> {
    resolve_with(svc, bearer, true).await
}

/// Like [`resolve`], but does not count as activity: an open WebSocket checking on its own
/// does not keep an idle session alive.
pub async fn recheck(svc: &Services, bearer: Option<&str>) -> AppResult<Principal> {
    resolve_with(svc, bearer, false).await
}

async fn resolve_with(svc: &Services, bearer: Option<&str>, touch: bool) -> AppResult<Principal> {
    let Some(token) = bearer.and_then(Token::from_presented) else {
        return Ok(Principal::Anonymous);
    };
    let now = svc.clock.now();
    let hash = token.hash();
    let staff = store::sessions::find_live::<StaffUserId>(
        &svc.db,
        &hash,
        now,
        svc.config.staff_session_idle,
    )
    .await?;
    let Some(session) = staff else {
        let member = store::sessions::find_live::<ProfileId>(
            &svc.db,
            &hash,
            now,
            svc.config.member_session_idle,
        )
        .await?;
        let Some(member) = member else {
            return Ok(Principal::Anonymous);
        };
        if touch && now - member.last_seen_at > TOUCH_EVERY {
            store::sessions::touch::<ProfileId>(&svc.db, member.session_id, now).await?;
        }
        // A view as the member lasts only while its staff user is active, keeps the right, and
        // is still signed in with the session that started it: signing out (or having the
        // session revoked) ends the view too.
        let impersonated_by = match member.impersonated_by {
            Some(staff_id) => {
                let from_live = match member.impersonated_from_session {
                    Some(from) => {
                        store::sessions::staff_session_is_live(
                            &svc.db,
                            from,
                            now,
                            svc.config.staff_session_idle,
                        )
                        .await?
                    }
                    None => false,
                };
                match store::staff::get(&svc.db, staff_id).await? {
                    Some(u) if from_live && u.active && u.has(Right::ImpersonateMembers) => Some(u),
                    _ => return Ok(Principal::Anonymous),
                }
            }
            None => None,
        };
        let must_change_password =
            store::credentials::must_change_password(&svc.db, member.owner).await?;
        return Ok(Principal::Member(MemberPrincipal {
            profile_id: member.owner,
            session_id: member.session_id,
            signed_in_at: member.created_at,
            expires_at: member.expires_at,
            must_change_password,
            impersonated_by,
        }));
    };
    if touch && now - session.last_seen_at > TOUCH_EVERY {
        store::sessions::touch::<StaffUserId>(&svc.db, session.session_id, now).await?;
    }
    // Rights are read on every request, so a revoked right stops working at once.
    let Some(user) = store::staff::get(&svc.db, session.owner).await? else {
        return Ok(Principal::Anonymous);
    };
    let setup_required = svc.config.staff_require_second_factor && !user.second_factor;
    Ok(Principal::Staff(StaffPrincipal {
        user,
        session_id: session.session_id,
        setup_required,
        stepped_up_at: session.stepped_up_at,
    }))
}

/// Signs a staff user in. Unknown user, wrong password and deactivated account all give the
/// same `INVALID_LOGIN` after the same amount of hashing work.
pub async fn staff_login(
    svc: &Services,
    meta: &RequestMeta,
    username: &str,
    password: &str,
) -> AppResult<(Token, StaffUser)> {
    super::rate_limit::check(svc, meta, super::rate_limit::Limit::StaffLoginFromIp).await?;
    let candidate = Password::for_verification(password);
    let parsed = Username::parse_for_lookup(username).ok();
    let found = match &parsed {
        Some(u) => store::staff::find_for_login(&svc.db, u).await?,
        None => None,
    };
    let now = svc.clock.now();
    // The lockout rules (`super::lockout`): per client, with a ceiling per account, so
    // anonymous guessing from elsewhere never locks the real staff member out.
    let account = found.as_ref().map(|f| Account::Staff(f.user.id));
    let locked = match &account {
        Some(account) => lockout::check(svc, meta, account).await?.is_some(),
        None => false,
    };
    let stored = found
        .as_ref()
        .filter(|f| f.user.active && !locked)
        .map(|f| f.password_hash.as_str());
    let ok = svc.hasher.verify(candidate.as_ref(), stored).await?;
    let Some(login) = found.filter(|_| ok) else {
        if let Some(account) = account.as_ref().filter(|_| !locked) {
            lockout::fail(svc, meta, account).await?;
        }
        audit::record(
            &svc.db,
            now,
            NewAuditEvent::new(
                AuditAction::StaffLoginFailed,
                AuditActor::Anonymous,
                meta.client_ip.as_deref(),
            ),
        )
        .await?;
        return Err(AppError::InvalidLogin);
    };
    // With a second factor the password alone opens nothing: the failure count stays until
    // the code is right too, so guessing codes after a right password still locks.
    if login.user.second_factor {
        let challenge = super::staff::second_factor::challenge(svc, login.user.id, now).await?;
        return Err(AppError::SecondFactorRequired { challenge });
    }
    lockout::succeeded(svc, meta, &Account::Staff(login.user.id)).await?;
    let token = super::staff::sessions::open(svc, meta, &login.user, None).await?;
    Ok((token, login.user))
}

/// Ends the caller's own session.
pub async fn staff_logout(svc: &Services, principal: &Principal) -> AppResult<()> {
    let staff = principal.staff()?;
    store::sessions::delete::<StaffUserId>(&svc.db, staff.session_id).await?;
    Ok(())
}
