//! The member side: sign-in, own account, password change.

use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::types::Profile;
use super::{Require, parts};
use crate::domain;
use crate::services::{impersonation, member_auth};

/// The result of `memberLogin`.
#[derive(SimpleObject)]
pub(super) struct MemberLoginPayload {
    /// The member's bearer token: send it as `Authorization: Bearer <token>`. Shown only once.
    token: String,
    /// The member who signed in.
    profile: Profile,
    /// True when the member must choose a new password now (a password staff set, or staff
    /// asked for it). Until they call `changePassword`, this session may only read `me`, call
    /// `changePassword` and `memberLogout`; anything else answers PASSWORD_CHANGE_REQUIRED.
    must_change_password: bool,
}

/// The result of `memberLogout`.
#[derive(SimpleObject)]
pub(super) struct MemberLogoutPayload {
    /// True: the session (or the staff user's view as the member) has ended.
    signed_out: bool,
}

/// The result of `memberLogoutEverywhere`.
#[derive(SimpleObject)]
pub(super) struct MemberLogoutEverywherePayload {
    /// True: every session of the member has ended, this one included.
    signed_out: bool,
}

/// The result of `changePassword`.
#[derive(SimpleObject)]
pub(super) struct ChangePasswordPayload {
    /// When the new password took effect. The member's other sessions ended then.
    changed_at: DateTime<Utc>,
}

/// The signed-in member's own account.
pub(super) struct MemberAccount {
    profile: domain::Profile,
    credential: Option<domain::CredentialInfo>,
    impersonated_by: Option<String>,
}

/// The staff user viewing the portal as the member.
#[derive(SimpleObject)]
pub(super) struct PortalImpersonator {
    /// Their staff username.
    username: String,
}

/// A staff user's read-only view of the member's portal.
#[derive(SimpleObject)]
pub(super) struct PortalVisit {
    /// When it started.
    at: DateTime<Utc>,
    /// The staff user's username, or null if that staff user no longer exists.
    staff_username: Option<String>,
}

/// The signed-in member's own account.
#[Object]
impl MemberAccount {
    /// The member's profile.
    async fn profile(&self) -> Profile {
        Profile(self.profile.clone())
    }
    /// The member's portal username, or null when they sign in with their email address.
    async fn username(&self) -> Option<&str> {
        self.credential.as_ref().and_then(|c| c.username.as_deref())
    }
    /// True when the member must choose a new password now; until then the session may only
    /// read `me`, call `changePassword` and `memberLogout`.
    async fn must_change_password(&self) -> bool {
        self.credential
            .as_ref()
            .is_some_and(|c| c.must_change_password)
    }
    /// When the password last changed.
    async fn password_changed_at(&self) -> Option<DateTime<Utc>> {
        self.credential.as_ref().and_then(|c| c.password_changed_at)
    }
    /// Set when this session is a staff user's read-only view of the portal as the member
    /// (startPortalImpersonation), so the portal can show a banner; null in the member's own
    /// sessions.
    async fn impersonated_by(&self) -> Option<PortalImpersonator> {
        self.impersonated_by
            .clone()
            .map(|username| PortalImpersonator { username })
    }
    /// The latest times staff viewed the portal as this member, newest first (up to 20).
    async fn recent_access(&self, ctx: &Context<'_>) -> Result<Vec<PortalVisit>> {
        let (svc, principal, _) = parts(ctx)?;
        Ok(impersonation::recent_visits(svc, principal)
            .await?
            .into_iter()
            .map(|v| PortalVisit {
                at: v.at,
                staff_username: v.staff_username,
            })
            .collect())
    }
    /// When the member last signed in.
    async fn last_login_at(&self) -> Option<DateTime<Utc>> {
        self.credential.as_ref().and_then(|c| c.last_login_at)
    }
}

#[derive(Default)]
pub(super) struct MemberQuery;

#[Object]
impl MemberQuery {
    /// The signed-in member's own account. Needs a member sign-in.
    #[graphql(guard = "Require::Member")]
    async fn me(&self, ctx: &Context<'_>) -> Result<MemberAccount> {
        let (svc, principal, _) = parts(ctx)?;
        let (profile, credential) = member_auth::me(svc, principal).await?;
        let impersonated_by = principal
            .member()?
            .impersonated_by
            .as_ref()
            .map(|s| s.username.clone());
        Ok(MemberAccount {
            profile,
            credential,
            impersonated_by,
        })
    }
}

#[derive(Default)]
pub(super) struct MemberMutation;

#[Object]
impl MemberMutation {
    /// Signs a member in with their username or email address. When several profiles share
    /// the email and the password matches more than one, the answer is AMBIGUOUS_LOGIN: sign
    /// in with the username. Every other failure is INVALID_LOGIN. After too many failures
    /// the account is locked for a while. A credential staff switched off, or a member whose
    /// membership status may not sign in (`MEMBERKEY_SIGN_IN_STATUSES`), gets the same
    /// INVALID_LOGIN.
    async fn member_login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A username or an email address.")] login: String,
        #[graphql(secret)] password: String,
    ) -> Result<MemberLoginPayload> {
        let (svc, _, meta) = parts(ctx)?;
        let signed_in = member_auth::login(svc, meta, &login, &password).await?;
        Ok(MemberLoginPayload {
            token: signed_in.token.expose().to_owned(),
            profile: Profile(signed_in.profile),
            must_change_password: signed_in.must_change_password,
        })
    }

    /// Ends the member's current session (or a staff user's view as the member).
    #[graphql(guard = "Require::Member")]
    async fn member_logout(&self, ctx: &Context<'_>) -> Result<MemberLogoutPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        member_auth::logout(svc, principal, meta).await?;
        Ok(MemberLogoutPayload { signed_out: true })
    }

    /// Ends every session of the member, this one included: a browser left signed in
    /// elsewhere stops working at once. A staff user's view as the member gets
    /// READ_ONLY_SESSION.
    #[graphql(guard = "Require::Member")]
    async fn member_logout_everywhere(
        &self,
        ctx: &Context<'_>,
    ) -> Result<MemberLogoutEverywherePayload> {
        let (svc, principal, meta) = parts(ctx)?;
        member_auth::logout_everywhere(svc, principal, meta).await?;
        Ok(MemberLogoutEverywherePayload { signed_out: true })
    }

    /// Changes the member's own password. Their other sessions end; this one stays. A staff
    /// user's view as the member gets READ_ONLY_SESSION.
    #[graphql(guard = "Require::Member")]
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret, desc = "The password in use now.")] current_password: String,
        #[graphql(secret, desc = "The new password.")] new_password: String,
    ) -> Result<ChangePasswordPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let changed_at =
            member_auth::change_password(svc, principal, meta, &current_password, &new_password)
                .await?;
        Ok(ChangePasswordPayload { changed_at })
    }
}
