//! Who is calling, and staff sign-in.

use chrono::Duration;

use super::lockout::{self, Account};
use super::{Services, audit};
use crate::domain::{AuditAction, AuditActor, NewAuditEvent, StaffUserId};
use crate::domain::{Password, ProfileId, Right, StaffUser, Token, Username};
use crate::error::{AppError, AppResult};
use crate::store;

/// Facts about the HTTP request that the use cases may record.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub client_ip: Option<String>,
    /// The client's `User-Agent`, cut to 256 characters; kept with staff sessions so a
    /// staff user can tell them apart.
    pub user_agent: Option<String>,
}

/// A signed-in staff user.
#[derive(Debug, Clone)]
pub struct StaffPrincipal {
    pub user: StaffUser,
    pub session_id: i64,
    /// A second factor is required (`MEMBERKEY_STAFF_REQUIRE_SECOND_FACTOR`) and this user
    /// has none: the session may only set one up, read `viewer` and sign out.
    pub setup_required: bool,
    /// When this session last proved its user again (`confirmStaffIdentity`); see
    /// [`super::step_up`].
    pub stepped_up_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A signed-in member.
#[derive(Debug, Clone)]
pub struct MemberPrincipal {
    pub profile_id: ProfileId,
    pub session_id: i64,
    /// The member must choose a new password first: until then the session may only read
    /// `me`, change the password and sign out.
    pub must_change_password: bool,
    /// The staff user viewing the portal as this member, for a read-only impersonation
    /// session: it may read, never change a password, credentials or the email address.
    pub impersonated_by: Option<StaffUser>,
}

impl MemberPrincipal {
    /// Refuses a change in a staff user's read-only view as the member.
    pub fn may_change(&self) -> AppResult<()> {
        match self.impersonated_by {
            Some(_) => Err(AppError::ReadOnlySession),
            None => Ok(()),
        }
    }
}

/// The caller of one request, resolved once from the `Authorization` header.
#[derive(Debug, Clone, Default)]
pub enum Principal {
    #[default]
    Anonymous,
    Staff(StaffPrincipal),
    Member(MemberPrincipal),
}

impl Principal {
    /// Any signed-in staff user. A member gets `FORBIDDEN`: they are signed in, just not staff.
    pub fn staff(&self) -> AppResult<&StaffPrincipal> {
        match self {
            Principal::Staff(s) => Ok(s),
            Principal::Member(_) => Err(AppError::Forbidden { right: None }),
            Principal::Anonymous => Err(AppError::Unauthenticated),
        }
    }

    /// A signed-in member.
    pub fn member(&self) -> AppResult<&MemberPrincipal> {
        match self {
            Principal::Member(m) => Ok(m),
            Principal::Staff(_) => Err(AppError::Forbidden { right: None }),
            Principal::Anonymous => Err(AppError::Unauthenticated),
        }
    }

    /// A signed-in staff user holding `right`.
    pub fn require(&self, right: Right) -> AppResult<&StaffPrincipal> {
        let staff = self.staff()?;
        if staff.user.has(right) {
            Ok(staff)
        } else {
            Err(AppError::Forbidden { right: Some(right) })
        }
    }

    /// Whether this caller may run the root field `field` (of `QueryRoot`, `MutationRoot` or
    /// `SubscriptionRoot`). A member who must change their password is held back: their
    /// session may read `me` (and the public `passwordPolicy` and `portalSettings` its form
    /// needs), call `changePassword` and `memberLogout`, and nothing else. So is a staff user
    /// who must set up a second factor: only `viewer`, the two enrolment mutations and
    /// `staffLogout`.
    pub fn may_run(&self, field: &str) -> AppResult<()> {
        match self {
            Principal::Staff(s)
                if s.setup_required
                    && !matches!(
                        field,
                        "viewer"
                            | "confirmStaffIdentity"
                            | "enrollStaffSecondFactor"
                            | "confirmStaffSecondFactor"
                            | "staffLogout"
                            | "passwordPolicy"
                            | "portalSettings"
                    ) =>
            {
                Err(AppError::SecondFactorSetupRequired)
            }
            Principal::Member(m)
                if m.must_change_password
                    && !matches!(
                        field,
                        "me" | "changePassword"
                            | "memberLogout"
                            | "passwordPolicy"
                            | "portalSettings"
                    ) =>
            {
                Err(AppError::PasswordChangeRequired)
            }
            _ => Ok(()),
        }
    }

    pub fn audit_actor(&self) -> AuditActor {
        match self {
            Principal::Anonymous => AuditActor::Anonymous,
            Principal::Staff(s) => AuditActor::Staff(s.user.id.get()),
            // What a staff user does while viewing the portal as a member is theirs.
            Principal::Member(m) => match &m.impersonated_by {
                Some(staff) => AuditActor::Staff(staff.id.get()),
                None => AuditActor::Member(m.profile_id.get()),
            },
        }
    }

    /// An audit event of this caller's, from the request `meta` describes.
    pub fn audit_event<'a>(&self, action: AuditAction, meta: &'a RequestMeta) -> NewAuditEvent<'a> {
        NewAuditEvent::new(action, self.audit_actor(), meta.client_ip.as_deref())
    }
}

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
        let challenge = super::second_factor::challenge(svc, login.user.id, now).await?;
        return Err(AppError::SecondFactorRequired { challenge });
    }
    lockout::succeeded(svc, meta, &Account::Staff(login.user.id)).await?;
    let token = open_staff_session(svc, meta, &login.user, None).await?;
    Ok((token, login.user))
}

/// Starts a session for a staff user who has proved who they are, audited as a sign-in;
/// `second_factor` names what finished it (`totp`, `recovery_code`), if anything did.
pub(super) async fn open_staff_session(
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
    txn.commit().await?;
    Ok(token)
}

/// Ends the caller's own session.
pub async fn staff_logout(svc: &Services, principal: &Principal) -> AppResult<bool> {
    let staff = principal.staff()?;
    store::sessions::delete::<StaffUserId>(&svc.db, staff.session_id).await?;
    Ok(true)
}
