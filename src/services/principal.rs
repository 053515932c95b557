//! Who is calling: the request's facts and the signed-in principal every use case checks.
//! Plain types below every use case, so the account modules and sign-in need not import
//! each other.

use crate::domain::{AuditAction, AuditActor, NewAuditEvent, ProfileId, Right, StaffUser};
use crate::error::{AppError, AppResult};

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
    /// When the member signed in to open this session (`auth_time` for the sites they then
    /// reach through the OpenID Connect provider).
    pub signed_in_at: chrono::DateTime<chrono::Utc>,
    /// When this session ends at the latest (a view as the member: within 15 minutes).
    pub expires_at: chrono::DateTime<chrono::Utc>,
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
    /// A staff user acting through the server later, with no session: a scheduled send
    /// started at its time on behalf of who scheduled it. Their rights are as stored now.
    pub fn on_behalf_of(user: StaffUser) -> Principal {
        Principal::Staff(StaffPrincipal {
            user,
            // No session: nothing a scheduled send does touches one.
            session_id: 0,
            setup_required: false,
            stepped_up_at: None,
        })
    }

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
    /// needs), call `changePassword`, `memberLogout` and `memberLogoutEverywhere`, and nothing else. So is a staff user
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
                            | "memberLogoutEverywhere"
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
