//! Staff sign-in and staff administration.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::types::{Right as GqlRight, StaffUser};
use super::{Require, parts};
use crate::domain::Right;
use crate::services;

/// The result of `changeStaffPassword`.
#[derive(SimpleObject)]
pub(super) struct ChangeStaffPasswordPayload {
    /// When the new password took effect. The user's other sessions ended then.
    changed_at: DateTime<Utc>,
}

/// The result of `staffLogout`.
#[derive(SimpleObject)]
pub(super) struct StaffLogoutPayload {
    /// True: this session has ended and its token no longer works.
    signed_out: bool,
}

/// The result of `staffLogin` and `staffVerifySecondFactor`.
#[derive(SimpleObject)]
pub(super) struct StaffLoginPayload {
    /// The bearer token: send it as `Authorization: Bearer <token>`. It is shown only once.
    pub(super) token: String,
    /// Who signed in.
    pub(super) staff_user: StaffUser,
    /// True when the association requires a second factor and this user has none yet:
    /// the session can only set one up (`enrollStaffSecondFactor`), read `viewer` and sign
    /// out until it is confirmed.
    pub(super) second_factor_setup_required: bool,
}

impl StaffLoginPayload {
    pub(super) fn new(
        svc: &services::Services,
        token: crate::domain::Token,
        user: crate::domain::StaffUser,
    ) -> Self {
        Self {
            token: token.expose().to_owned(),
            second_factor_setup_required: svc.config.staff_require_second_factor
                && !user.second_factor,
            staff_user: StaffUser(user),
        }
    }
}

/// A new staff user.
#[derive(InputObject)]
pub(super) struct CreateStaffUserInput {
    /// Sign-in name: 3 to 64 letters, digits or `. _ -`; unique regardless of case.
    username: String,
    /// The initial password (at least the configured minimum length, at most 128 characters).
    #[graphql(secret)]
    password: String,
    /// Where their set-password link goes (`sendStaffPasswordReset`); optional.
    email: Option<String>,
    /// The rights to grant.
    rights: Vec<GqlRight>,
}

/// The result of a mutation that changes a staff user.
#[derive(SimpleObject)]
pub(super) struct StaffUserPayload {
    /// The staff user as saved.
    staff_user: StaffUser,
}

impl StaffUserPayload {
    pub(super) fn new(user: crate::domain::StaffUser) -> Self {
        Self {
            staff_user: StaffUser(user),
        }
    }
}

/// The result of `confirmStaffIdentity`.
#[derive(SimpleObject)]
pub(super) struct ConfirmStaffIdentityPayload {
    /// Until when this session may make the changes that need a fresh proof (step-up).
    fresh_until: chrono::DateTime<chrono::Utc>,
}

fn rights(list: Vec<GqlRight>) -> Vec<Right> {
    list.into_iter().map(Into::into).collect()
}

#[derive(Default)]
pub(super) struct StaffQuery;

#[Object]
impl StaffQuery {
    /// The signed-in staff user, or null when the request carries no valid staff token.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Option<StaffUser>> {
        let (_, principal, _) = parts(ctx)?;
        Ok(principal.staff().ok().map(|s| StaffUser(s.user.clone())))
    }

    /// Every staff user. Needs the MANAGE_STAFF right.
    #[graphql(guard = "Require::Right(Right::ManageStaff)")]
    async fn staff_users(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default = 100,
            validator(minimum = 1, maximum = 500),
            desc = "How many staff users to return, 1 to 500; 100 when left out."
        )]
        first: Option<i32>,
    ) -> Result<Vec<StaffUser>> {
        let (svc, principal, _) = parts(ctx)?;
        let first = first.unwrap_or(100).clamp(1, 500) as u64;
        Ok(services::staff::list(svc, principal, first)
            .await?
            .into_iter()
            .map(StaffUser)
            .collect())
    }
}

#[derive(Default)]
pub(super) struct StaffMutation;

#[Object]
impl StaffMutation {
    /// Signs a staff user in and returns a bearer token. A wrong password, an unknown user and
    /// a deactivated one all give INVALID_LOGIN. When the user has a second factor, a right
    /// password answers SECOND_FACTOR_REQUIRED instead, with a 5-minute challenge in
    /// `extensions.challenge` for `staffVerifySecondFactor`.
    async fn staff_login(
        &self,
        ctx: &Context<'_>,
        username: String,
        #[graphql(secret)] password: String,
    ) -> Result<StaffLoginPayload> {
        let (svc, _, meta) = parts(ctx)?;
        let (token, user) = services::auth::staff_login(svc, meta, &username, &password).await?;
        Ok(StaffLoginPayload::new(svc, token, user))
    }

    /// Proves the signed-in staff user again ("step-up"): their password and, if they have a
    /// second factor, the app's current code or a recovery code. For the next few minutes
    /// (`MEMBERKEY_STAFF_STEP_UP_MINUTES`) this session may then make the changes that
    /// answer STEP_UP_REQUIRED without it: setting up a second factor, new recovery codes,
    /// resetting another user's second factor, changing one's password, a staff user's
    /// email, and sending a staff set-password link. A wrong password or code gives
    /// INVALID_LOGIN and counts toward the lockout like a sign-in; a missing code for an
    /// account with a second factor gives BAD_USER_INPUT (field `code`). Audited.
    #[graphql(guard = "Require::Staff")]
    async fn confirm_staff_identity(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret, desc = "The staff user's password.")] password: String,
        #[graphql(
            secret,
            desc = "The authenticator app's current 6-digit code, or a recovery code; needed when the user has a second factor."
        )]
        code: Option<String>,
    ) -> Result<ConfirmStaffIdentityPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let fresh_until =
            services::staff::step_up::confirm(svc, principal, meta, &password, code.as_deref())
                .await?;
        Ok(ConfirmStaffIdentityPayload { fresh_until })
    }

    /// Changes the signed-in staff user's own password, under the password policy (the
    /// username may not appear in it). Needs step-up (`confirmStaffIdentity`), else
    /// STEP_UP_REQUIRED. A wrong current password gives INVALID_LOGIN and counts toward the
    /// staff lockout, like a failed sign-in; a weak new one gives WEAK_PASSWORD. The user's
    /// other sessions end; this one stays signed in. Audited.
    #[graphql(guard = "Require::Staff")]
    async fn change_staff_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret, desc = "The password in use now.")] current_password: String,
        #[graphql(secret, desc = "The new password.")] new_password: String,
    ) -> Result<ChangeStaffPasswordPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let changed_at = services::staff::password::change(
            svc,
            principal,
            meta,
            &current_password,
            &new_password,
        )
        .await?;
        Ok(ChangeStaffPasswordPayload { changed_at })
    }

    /// Ends the current staff session. Its token stops working at once.
    #[graphql(guard = "Require::Staff")]
    async fn staff_logout(&self, ctx: &Context<'_>) -> Result<StaffLogoutPayload> {
        let (svc, principal, _) = parts(ctx)?;
        services::auth::staff_logout(svc, principal).await?;
        Ok(StaffLogoutPayload { signed_out: true })
    }

    /// Creates a staff user. Needs the MANAGE_STAFF right.
    #[graphql(guard = "Require::Right(Right::ManageStaff)")]
    async fn create_staff_user(
        &self,
        ctx: &Context<'_>,
        input: CreateStaffUserInput,
    ) -> Result<StaffUserPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let user = services::staff::create(
            svc,
            Some(principal),
            meta,
            &input.username,
            input.email.as_deref(),
            &input.password,
            &rights(input.rights),
        )
        .await?;
        Ok(StaffUserPayload {
            staff_user: StaffUser(user),
        })
    }

    /// Replaces a staff user's rights; takes effect on their next request. The last active
    /// holder of MANAGE_STAFF cannot lose it. Needs the MANAGE_STAFF right.
    #[graphql(guard = "Require::Right(Right::ManageStaff)")]
    async fn set_staff_rights(
        &self,
        ctx: &Context<'_>,
        staff_user_id: ID,
        rights: Vec<GqlRight>,
    ) -> Result<StaffUserPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let id = crate::graphql::ids::staff_user_id(&staff_user_id, "staffUserId")?;
        let user =
            services::staff::set_rights(svc, principal, meta, id, &self::rights(rights)).await?;
        Ok(StaffUserPayload {
            staff_user: StaffUser(user),
        })
    }

    /// Deactivates a staff user and ends their sessions at once. The last active holder of
    /// MANAGE_STAFF cannot be deactivated. Needs the MANAGE_STAFF right.
    #[graphql(guard = "Require::Right(Right::ManageStaff)")]
    async fn deactivate_staff_user(
        &self,
        ctx: &Context<'_>,
        staff_user_id: ID,
    ) -> Result<StaffUserPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let id = crate::graphql::ids::staff_user_id(&staff_user_id, "staffUserId")?;
        let user = services::staff::deactivate(svc, principal, meta, id).await?;
        Ok(StaffUserPayload {
            staff_user: StaffUser(user),
        })
    }

    /// Makes a deactivated staff user active again, with the rights they had; they sign in
    /// with their password as before. Answers the user as they stand (a user already active
    /// is left as is). Audited. Needs the MANAGE_STAFF right.
    #[graphql(guard = "Require::Right(Right::ManageStaff)")]
    async fn reactivate_staff_user(
        &self,
        ctx: &Context<'_>,
        staff_user_id: ID,
    ) -> Result<StaffUserPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let id = crate::graphql::ids::staff_user_id(&staff_user_id, "staffUserId")?;
        let user = services::staff::reactivate(svc, principal, meta, id).await?;
        Ok(StaffUserPayload {
            staff_user: StaffUser(user),
        })
    }

    /// Ends a staff user's sign-in lock at once: failed sign-ins from every client are
    /// forgotten. Audited. Needs the MANAGE_STAFF right. (Failures lock only the client that
    /// made them, so anonymous guessing never keeps a staff member out; this is for the
    /// member of staff who locked themselves out.)
    #[graphql(guard = "Require::Right(Right::ManageStaff)")]
    async fn unlock_staff_user(
        &self,
        ctx: &Context<'_>,
        staff_user_id: ID,
    ) -> Result<StaffUserPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let id = crate::graphql::ids::staff_user_id(&staff_user_id, "staffUserId")?;
        let user = services::staff::unlock(svc, Some(principal), meta, id).await?;
        Ok(StaffUserPayload {
            staff_user: StaffUser(user),
        })
    }
}
