//! The audit trail's vocabulary and its rows.

use chrono::{DateTime, Utc};

use super::{ProfileId, StaffUserId};

/// One audit event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// The event's ID; later events have larger IDs.
    pub id: i64,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// What happened.
    pub action: AuditAction,
    /// Who did it, as stored: `STAFF`, `MEMBER`, `SYSTEM` or `ANONYMOUS`.
    pub actor_kind: String,
    /// The staff user who did it, if a staff user did.
    pub actor_staff_id: Option<i64>,
    /// The profile it concerns, if any.
    pub profile_id: Option<i64>,
    /// Where the request came from.
    pub client_ip: Option<String>,
    /// Extra facts as JSON text; never a password or a token.
    pub detail: Option<String>,
}

/// Which events a page or count covers; every part left out matches all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only events about this profile.
    pub profile: Option<ProfileId>,
    /// Only events of this kind.
    pub action: Option<AuditAction>,
    /// Only events at or after this moment.
    pub since: Option<DateTime<Utc>>,
    /// Only events before this moment.
    pub until: Option<DateTime<Utc>>,
}

/// What an audit event records. Each is written by exactly one use case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// Staff set or changed a profile's portal username or password.
    CredentialsSet,
    /// Staff removed a profile's portal credentials.
    CredentialsRemoved,
    /// Staff switched a credential off: its holder cannot sign in.
    CredentialsDisabled,
    /// Staff switched a credential back on.
    CredentialsEnabled,
    /// Credentials were imported with their existing password hashes.
    CredentialsImported,
    /// Staff revealed a password they had assigned.
    PasswordRevealed,
    /// Staff queued the "Forgot Login" email for a profile.
    ResetEmailQueued,
    /// Someone asked for the "Forgot Login" email.
    ForgotLoginRequested,
    /// Staff issued a one-time set-password link to pass on.
    CredentialsLinkIssued,
    /// A member typed their login and a link's short code on the set-password page.
    ShortCodeRedeemed,
    /// A member set a password through a link.
    PasswordSetWithLink,
    /// A signed-in member changed their password.
    PasswordChanged,
    /// A signed-in member gave a wrong current password.
    PasswordChangeFailed,
    /// A member signed in.
    MemberLogin,
    /// A member's sign-in failed.
    MemberLoginFailed,
    /// A correct password was given for a locked account.
    MemberLoginWhileLocked,
    /// A member ended all their sessions ("Sign out everywhere").
    MemberSignedOutEverywhere,
    /// Staff gave usernames to the profiles a filter selected ("Create Portal Logins").
    PortalLoginsCreated,
    /// A person's data was exported at their request.
    PersonalDataExported,
    /// A person was erased at their request (detail: how many profiles, never their data).
    PersonalDataErased,
    /// A member signed in to a connected site (detail: the site's client ID).
    SiteSignIn,
    /// A connected site's sign-in or token request was refused (detail: site and reason).
    SiteSignInRefused,
    /// A member removed a site's access from their account page.
    SiteAccessRemoved,
    /// Staff registered a connected site.
    ConnectedSiteCreated,
    /// Staff changed a connected site's settings.
    ConnectedSiteUpdated,
    /// Staff gave a connected site a new secret.
    ConnectedSiteSecretRotated,
    /// Staff removed a connected site.
    ConnectedSiteDeleted,
    /// A new key for signing ID tokens was published.
    SigningKeyRotated,
    /// Too many failures locked an account.
    AccountLocked,
    /// Staff unlocked an account.
    AccountUnlocked,
    /// A profile was created.
    ProfileCreated,
    /// A profile was changed.
    ProfileUpdated,
    /// A change of address retired the profile's unused set-password links.
    SetPasswordLinksRetired,
    /// A staff user signed in.
    StaffLogin,
    /// A staff sign-in failed.
    StaffLoginFailed,
    /// A staff user was created.
    StaffUserCreated,
    /// A staff user's rights changed.
    StaffRightsChanged,
    /// A staff user was deactivated.
    StaffUserDeactivated,
    /// A deactivated staff user was made active again.
    StaffUserReactivated,
    /// A locked staff user was unlocked.
    StaffUserUnlocked,
    /// A staff user ended one of their own sessions from the session list.
    StaffSessionRevoked,
    /// An administrator ended every session of another staff user.
    StaffSessionsRevoked,
    /// A staff user changed their own password.
    StaffPasswordChanged,
    /// A staff user gave a wrong current password when changing it.
    StaffPasswordChangeFailed,
    /// An operator set a staff user's password from the command line.
    StaffPasswordReset,
    /// An administrator sent a staff user a set-password link.
    StaffPasswordLinkSent,
    /// A staff user set their password with a link an administrator sent.
    StaffPasswordSetWithLink,
    /// An administrator recorded, changed or removed a staff user's email address.
    StaffEmailChanged,
    /// A staff user confirmed an authenticator app as their second factor.
    StaffSecondFactorEnrolled,
    /// A staff user's second factor was removed by an administrator.
    StaffSecondFactorReset,
    /// A wrong, replayed or used-up second-factor code was given at sign-in.
    StaffSecondFactorFailed,
    /// A staff user signed in with a recovery code, which is now used up.
    StaffRecoveryCodeUsed,
    /// A staff user replaced their recovery codes with new ones.
    StaffRecoveryCodesRegenerated,
    /// A staff session proved its user again (password and second factor) for step-up.
    StaffStepUp,
    /// A staff session's step-up proof was wrong.
    StaffStepUpFailed,
    /// A mass communication draft was created.
    MassCommunicationCreated,
    /// A mass communication draft was changed.
    MassCommunicationUpdated,
    /// A test copy of a mass communication was queued.
    MassCommunicationTestSent,
    /// A mass communication was queued for its recipients.
    MassCommunicationSent,
    /// A draft was scheduled to send by itself, or its schedule was removed.
    MassCommunicationScheduled,
    /// A scheduled draft could not start at its time; it stays a draft.
    MassCommunicationScheduleFailed,
    /// A mass communication draft was deleted.
    MassCommunicationDeleted,
    /// A mass communication's unsent deliveries were cancelled.
    MassCommunicationCancelled,
    /// A mass communication's failed deliveries were queued again.
    MassDeliveriesRetried,
    /// A mass communication stopped itself because too many of its deliveries failed.
    MassCommunicationPaused,
    /// Staff resumed a paused mass communication.
    MassCommunicationResumed,
    /// The mail provider refused the account or sender, and delivery paused.
    DeliveryPaused,
    /// Staff resumed paused delivery.
    DeliveryResumed,
    /// The provider reported a permanent bounce or a complaint, and the address went on the
    /// suppression list.
    EmailSuppressed,
    /// Staff took an address off the suppression list.
    EmailSuppressionCleared,
    /// A complaint opted the profile out of mass mail.
    MassMailOptedOut,
    /// A staff user started a read-only view of the portal as the member.
    PortalImpersonationStarted,
    /// A staff user ended their read-only view of the portal as the member.
    PortalImpersonationEnded,
}

db_enum!(AuditAction {
    CredentialsSet => "CREDENTIALS_SET",
    CredentialsRemoved => "CREDENTIALS_REMOVED",
    CredentialsDisabled => "CREDENTIALS_DISABLED",
    CredentialsEnabled => "CREDENTIALS_ENABLED",
    CredentialsImported => "CREDENTIALS_IMPORTED",
    PasswordRevealed => "PASSWORD_REVEALED",
    ResetEmailQueued => "RESET_EMAIL_QUEUED",
    ForgotLoginRequested => "FORGOT_LOGIN_REQUESTED",
    CredentialsLinkIssued => "CREDENTIALS_LINK_ISSUED",
    ShortCodeRedeemed => "SHORT_CODE_REDEEMED",
    PasswordSetWithLink => "PASSWORD_SET_WITH_LINK",
    PasswordChanged => "PASSWORD_CHANGED",
    PasswordChangeFailed => "PASSWORD_CHANGE_FAILED",
    MemberLogin => "MEMBER_LOGIN",
    MemberLoginFailed => "MEMBER_LOGIN_FAILED",
    MemberLoginWhileLocked => "MEMBER_LOGIN_WHILE_LOCKED",
    MemberSignedOutEverywhere => "MEMBER_SIGNED_OUT_EVERYWHERE",
    PortalLoginsCreated => "PORTAL_LOGINS_CREATED",
    PersonalDataExported => "PERSONAL_DATA_EXPORTED",
    PersonalDataErased => "PERSONAL_DATA_ERASED",
    SiteSignIn => "SITE_SIGN_IN",
    SiteSignInRefused => "SITE_SIGN_IN_REFUSED",
    SiteAccessRemoved => "SITE_ACCESS_REMOVED",
    ConnectedSiteCreated => "CONNECTED_SITE_CREATED",
    ConnectedSiteUpdated => "CONNECTED_SITE_UPDATED",
    ConnectedSiteSecretRotated => "CONNECTED_SITE_SECRET_ROTATED",
    ConnectedSiteDeleted => "CONNECTED_SITE_DELETED",
    SigningKeyRotated => "SIGNING_KEY_ROTATED",
    AccountLocked => "ACCOUNT_LOCKED",
    AccountUnlocked => "ACCOUNT_UNLOCKED",
    ProfileCreated => "PROFILE_CREATED",
    ProfileUpdated => "PROFILE_UPDATED",
    SetPasswordLinksRetired => "SET_PASSWORD_LINKS_RETIRED",
    StaffLogin => "STAFF_LOGIN",
    StaffLoginFailed => "STAFF_LOGIN_FAILED",
    StaffUserCreated => "STAFF_USER_CREATED",
    StaffRightsChanged => "STAFF_RIGHTS_CHANGED",
    StaffUserDeactivated => "STAFF_USER_DEACTIVATED",
    StaffUserReactivated => "STAFF_USER_REACTIVATED",
    StaffUserUnlocked => "STAFF_USER_UNLOCKED",
    StaffSessionRevoked => "STAFF_SESSION_REVOKED",
    StaffSessionsRevoked => "STAFF_SESSIONS_REVOKED",
    StaffPasswordChanged => "STAFF_PASSWORD_CHANGED",
    StaffPasswordChangeFailed => "STAFF_PASSWORD_CHANGE_FAILED",
    StaffPasswordReset => "STAFF_PASSWORD_RESET",
    StaffPasswordLinkSent => "STAFF_PASSWORD_LINK_SENT",
    StaffPasswordSetWithLink => "STAFF_PASSWORD_SET_WITH_LINK",
    StaffEmailChanged => "STAFF_EMAIL_CHANGED",
    StaffSecondFactorEnrolled => "STAFF_SECOND_FACTOR_ENROLLED",
    StaffSecondFactorReset => "STAFF_SECOND_FACTOR_RESET",
    StaffSecondFactorFailed => "STAFF_SECOND_FACTOR_FAILED",
    StaffRecoveryCodeUsed => "STAFF_RECOVERY_CODE_USED",
    StaffRecoveryCodesRegenerated => "STAFF_RECOVERY_CODES_REGENERATED",
    StaffStepUp => "STAFF_STEP_UP",
    StaffStepUpFailed => "STAFF_STEP_UP_FAILED",
    MassCommunicationCreated => "MASS_COMMUNICATION_CREATED",
    MassCommunicationUpdated => "MASS_COMMUNICATION_UPDATED",
    MassCommunicationTestSent => "MASS_COMMUNICATION_TEST_SENT",
    MassCommunicationSent => "MASS_COMMUNICATION_SENT",
    MassCommunicationScheduled => "MASS_COMMUNICATION_SCHEDULED",
    MassCommunicationScheduleFailed => "MASS_COMMUNICATION_SCHEDULE_FAILED",
    MassCommunicationDeleted => "MASS_COMMUNICATION_DELETED",
    MassCommunicationCancelled => "MASS_COMMUNICATION_CANCELLED",
    MassDeliveriesRetried => "MASS_DELIVERIES_RETRIED",
    MassCommunicationPaused => "MASS_COMMUNICATION_PAUSED",
    MassCommunicationResumed => "MASS_COMMUNICATION_RESUMED",
    DeliveryPaused => "DELIVERY_PAUSED",
    DeliveryResumed => "DELIVERY_RESUMED",
    EmailSuppressed => "EMAIL_SUPPRESSED",
    EmailSuppressionCleared => "EMAIL_SUPPRESSION_CLEARED",
    MassMailOptedOut => "MASS_MAIL_OPTED_OUT",
    PortalImpersonationStarted => "PORTAL_IMPERSONATION_STARTED",
    PortalImpersonationEnded => "PORTAL_IMPERSONATION_ENDED",
});

/// Who did what an audit event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditActor {
    /// Nobody signed in (Forgot Login, a failed sign-in).
    Anonymous,
    /// A staff user, by ID.
    Staff(i64),
    /// A member, by profile ID.
    Member(i64),
    /// memberkey itself or its command line.
    System,
}

impl AuditActor {
    /// The stored `actor_kind`.
    pub fn kind(self) -> &'static str {
        match self {
            AuditActor::Anonymous => "ANONYMOUS",
            AuditActor::Staff(_) => "STAFF",
            AuditActor::Member(_) => "MEMBER",
            AuditActor::System => "SYSTEM",
        }
    }
}

/// One audit event to write. The detail is structured JSON chosen by the use case; it never
/// holds a password or a token.
#[derive(Debug, Clone)]
pub struct NewAuditEvent<'a> {
    /// What happened.
    pub action: AuditAction,
    /// Who did it.
    pub actor: AuditActor,
    /// The profile it concerns.
    pub profile_id: Option<ProfileId>,
    /// The staff user it concerns.
    pub target_staff_id: Option<StaffUserId>,
    /// Where the request came from.
    pub client_ip: Option<&'a str>,
    /// Anything else worth keeping.
    pub detail: Option<serde_json::Value>,
}

impl<'a> NewAuditEvent<'a> {
    /// An event with no subject and no detail yet.
    pub fn new(action: AuditAction, actor: AuditActor, client_ip: Option<&'a str>) -> Self {
        Self {
            action,
            actor,
            profile_id: None,
            target_staff_id: None,
            client_ip,
            detail: None,
        }
    }

    /// About this profile.
    pub fn profile(mut self, profile: ProfileId) -> Self {
        self.profile_id = Some(profile);
        self
    }

    /// About this profile, when there is one.
    pub fn with_profile(mut self, profile: Option<ProfileId>) -> Self {
        self.profile_id = profile;
        self
    }

    /// About this staff user.
    pub fn staff(mut self, staff: StaffUserId) -> Self {
        self.target_staff_id = Some(staff);
        self
    }

    /// With this detail.
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }
}
