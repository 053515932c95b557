//! Set-password links: staff send resets or issue a link; members ask for "Forgot Login",
//! check a link and set their password with it.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::{Require, parts};
use crate::domain::{PasswordPolicy as Policy, Right};
use crate::services::{resets, set_password};

/// The result of `requestPasswordReset`.
#[derive(SimpleObject)]
pub(super) struct RequestPasswordResetPayload {
    /// Always true: the request was taken. It says nothing about whether the address is
    /// known, so it cannot be used to find members' addresses.
    accepted: bool,
}

/// The result of `setPasswordWithToken`.
#[derive(SimpleObject)]
pub(super) struct SetPasswordWithTokenPayload {
    /// What the member signs in with now: their username, else their email address.
    login: String,
}

/// The result of `sendPasswordResetEmail`.
#[derive(SimpleObject)]
pub(super) struct SendPasswordResetPayload {
    /// The address the "Forgot Login" email is going to: the profile's stored email.
    sent_to: String,
}

/// The result of `issueCredentialsLink`.
pub(super) struct CredentialsLinkPayload {
    url: String,
    expires_at: DateTime<Utc>,
    short_code: String,
    short_code_expires_at: DateTime<Utc>,
}

/// The result of `redeemSetPasswordCode`.
#[derive(SimpleObject)]
pub(super) struct RedeemCodePayload {
    /// A set-password token, as in a link's `#token=`. Use it at once: it is shown once.
    token: String,
}

/// The result of `issueCredentialsLink`.
#[Object]
impl CredentialsLinkPayload {
    /// The one-time link where the member sets a password. Pass it on privately.
    async fn url(&self) -> &str {
        &self.url
    }
    /// When the link stops working.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }
    /// A code a person can read out instead of the link, e.g. `K7Q2-9MXD-3H` (50 random
    /// bits): on the set-password page, "I have a code" with the member's login opens the
    /// same form. It works for 15 minutes and 5 wrong tries, once, and dies with the link.
    async fn short_code(&self) -> &str {
        &self.short_code
    }
    /// When the short code stops working.
    async fn short_code_expires_at(&self) -> DateTime<Utc> {
        self.short_code_expires_at
    }
    /// The link as a QR code, an SVG document (black on white, with a quiet zone), so a
    /// member at the front desk can scan it from the staff screen. Show it as an image; it
    /// is as secret as the link.
    async fn qr_svg(&self) -> Result<String> {
        Ok(super::qr::svg(&self.url)?)
    }
}

/// Where a set-password link stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum SetPasswordTokenState {
    /// The link can be used to set a password.
    Valid,
    /// The link ran out; request a new one.
    Expired,
    /// The link was already used.
    Used,
    /// The link is unknown, or a newer link or password replaced it.
    Invalid,
}

impl From<set_password::TokenState> for SetPasswordTokenState {
    fn from(s: set_password::TokenState) -> Self {
        match s {
            set_password::TokenState::Valid => Self::Valid,
            set_password::TokenState::Expired => Self::Expired,
            set_password::TokenState::Used => Self::Used,
            set_password::TokenState::Invalid => Self::Invalid,
        }
    }
}

/// What a set-password link is for. Checking never uses the link up.
#[derive(SimpleObject)]
pub(super) struct SetPasswordTokenCheck {
    /// Whether the link can be used.
    state: SetPasswordTokenState,
    /// The login the password is for (the username, else the email address); only while
    /// the link is valid. Null for a valid link to a profile with neither: the member must
    /// then choose a username.
    login: Option<String>,
    /// When the link stops (or stopped) working; null for used or invalid links.
    expires_at: Option<DateTime<Utc>>,
    /// True when the account has a username; false means the member may choose one when
    /// setting the password (and false for links that are not valid).
    has_username: bool,
}

/// The password rules, so a form can guide the member before submitting.
#[derive(SimpleObject)]
pub(super) struct PasswordPolicy {
    /// The fewest characters (code points) a password may have.
    min_length: usize,
    /// The most characters (code points) a password may have.
    max_length: usize,
}

/// Public facts about the Members Only portal, for member-facing pages such as the
/// set-password page. Open to anyone.
#[derive(SimpleObject)]
pub(super) struct PortalSettings {
    /// The association's name (`MEMBERKEY_ASSOCIATION_NAME`).
    association_name: String,
    /// The Members Only portal's address, for "Go to the portal" links
    /// (`MEMBERKEY_PORTAL_URL`); null when it is not configured.
    portal_url: Option<String>,
    /// The association's time zone, an IANA name such as `Europe/Copenhagen`
    /// (`MEMBERKEY_TIMEZONE`). Times in mail are shown in it; pages should show times in it too.
    time_zone: String,
    /// Minutes a link that staff send works: the Send Password Reset Email link and a link
    /// for the phone (`MEMBERKEY_STAFF_LINK_TTL_MINUTES`).
    staff_link_minutes: i64,
    /// Whether mail leaves this server: false when it is only written to the outbox folder
    /// as `.eml` files (`MEMBERKEY_MAIL_TRANSPORT=outbox`), so staff screens say "queued"
    /// rather than "on its way". Staff only: null for anyone else (without an error, so a
    /// page may ask for it before its user signs in).
    mail_is_sent: Option<bool>,
}

#[derive(Default)]
pub(super) struct ResetQuery;

#[Object]
impl ResetQuery {
    /// Says whether a set-password link is valid, whose login it is for and when it expires.
    /// It does not use the link up. Open to anyone holding the link.
    async fn check_set_password_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret, desc = "The token from the link (after `#token=`).")] token: String,
    ) -> Result<SetPasswordTokenCheck> {
        let (svc, _, meta) = parts(ctx)?;
        let check = set_password::check(svc, meta, &token).await?;
        Ok(SetPasswordTokenCheck {
            state: check.state.into(),
            login: check.login,
            expires_at: check.expires_at,
            has_username: check.has_username,
        })
    }

    /// The password rules in force.
    async fn password_policy(&self, ctx: &Context<'_>) -> Result<PasswordPolicy> {
        let (svc, _, _) = parts(ctx)?;
        Ok(PasswordPolicy {
            min_length: svc.config.password_min_chars,
            max_length: Policy::MAX_CHARS,
        })
    }

    /// The portal's public settings: its address, the association's name and time zone.
    async fn portal_settings(&self, ctx: &Context<'_>) -> Result<PortalSettings> {
        let (svc, principal, _) = parts(ctx)?;
        Ok(PortalSettings {
            association_name: svc.config.association_name.clone(),
            portal_url: svc.config.portal_url.clone(),
            time_zone: svc.config.time_zone.name().to_owned(),
            staff_link_minutes: svc.config.mail.staff_link_ttl.num_minutes(),
            mail_is_sent: principal.staff().is_ok().then_some(svc.mail_is_sent),
        })
    }
}

#[derive(Default)]
pub(super) struct ResetMutation;

#[Object]
impl ResetMutation {
    /// Sends the standard "Forgot Login" email to the profile's email address, with a link to
    /// set a password. No username is needed. Fails with NO_EMAIL_ADDRESS when the profile
    /// has no email. Needs the SEND_PASSWORD_RESETS right.
    #[graphql(guard = "Require::Right(Right::SendPasswordResets)")]
    async fn send_password_reset_email(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile to send the email to.")] profile_id: ID,
    ) -> Result<SendPasswordResetPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let id = crate::graphql::ids::profile_id(&profile_id)?;
        let sent_to = resets::send_reset_email(svc, principal, meta, id).await?;
        Ok(SendPasswordResetPayload { sent_to })
    }

    /// Issues a one-time set-password link for staff to pass on, e.g. by phone. Earlier
    /// links of the profile stop working. Needs the SEND_PASSWORD_RESETS right.
    #[graphql(guard = "Require::Right(Right::SendPasswordResets)")]
    async fn issue_credentials_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile the link is for.")] profile_id: ID,
    ) -> Result<CredentialsLinkPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let id = crate::graphql::ids::profile_id(&profile_id)?;
        let link = resets::issue_link(svc, principal, meta, id).await?;
        Ok(CredentialsLinkPayload {
            url: link.url,
            expires_at: link.expires_at,
            short_code: link.short_code,
            short_code_expires_at: link.short_code_expires_at,
        })
    }

    /// "I have a code": the member's login (username or email) and the short code staff
    /// read out with a link for the phone. Returns a token for `checkSetPasswordToken` and
    /// `setPasswordWithToken`, exactly as the link's would be; the link and the code stop
    /// working. A wrong, used or expired code (15 minutes; 5 wrong tries) gives
    /// INVALID_TOKEN. Open to anyone; limited per client IP.
    async fn redeem_set_password_code(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member's username or email address.")] login: String,
        #[graphql(secret, desc = "The short code, e.g. `K7Q2-9MXD-3H`.")] code: String,
    ) -> Result<RedeemCodePayload> {
        let (svc, _, meta) = parts(ctx)?;
        let token = resets::redeem_short_code(svc, meta, &login, &code).await?;
        Ok(RedeemCodePayload {
            token: token.expose().to_owned(),
        })
    }

    /// "Forgot Login": emails a set-password link for every profile that uses this address.
    /// The answer is the same whether or not the address is known.
    async fn request_password_reset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The email address on the member's profile.")] email: String,
    ) -> Result<RequestPasswordResetPayload> {
        let (svc, _, meta) = parts(ctx)?;
        resets::request_reset(svc, meta, &email).await?;
        Ok(RequestPasswordResetPayload { accepted: true })
    }

    /// Sets a password with a link's token, using the link up. A password the policy refuses
    /// leaves the link usable. The member's sessions end; sign in with the new password.
    async fn set_password_with_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret, desc = "The token from the link (after `#token=`).")] token: String,
        #[graphql(secret, desc = "The new password.")] password: String,
        #[graphql(
            desc = "A username to set, only when the account has none yet. Required when the profile has no email address either (else BAD_USER_INPUT on `username`)."
        )]
        username: Option<String>,
    ) -> Result<SetPasswordWithTokenPayload> {
        let (svc, _, meta) = parts(ctx)?;
        let login =
            set_password::set_with_token(svc, meta, &token, &password, username.as_deref()).await?;
        Ok(SetPasswordWithTokenPayload { login })
    }
}
