//! The staff second factor: enrolling an authenticator app, finishing a sign-in with its
//! code (or a recovery code), and resetting another user's.

use async_graphql::{Context, ID, Object, Result, SimpleObject};

use super::staff::{StaffLoginPayload, StaffUserPayload};
use super::types::StaffUser;
use super::{Require, parts};
use crate::domain::Right;
use crate::services::staff::second_factor;

/// The result of `enrollStaffSecondFactor`.
#[derive(SimpleObject)]
pub(super) struct EnrollStaffSecondFactorPayload {
    /// The new secret to add to the authenticator app, pending `confirmStaffSecondFactor`.
    enrollment: SecondFactorEnrollment,
}

/// What an authenticator app needs to start making codes.
#[derive(SimpleObject)]
pub(super) struct SecondFactorEnrollment {
    /// The `otpauth://totp/…` URI an authenticator app reads, as text.
    otpauth_uri: String,
    /// The same URI as a QR code (SVG) to scan with the app.
    qr_svg: String,
    /// The secret in base32, for apps that cannot scan. Shown only now.
    secret: String,
}

/// The result of `confirmStaffSecondFactor`.
#[derive(SimpleObject)]
pub(super) struct RecoveryCodesPayload {
    /// Ten single-use codes for signing in without the phone. Shown only now: keep them
    /// somewhere safe, away from the phone.
    recovery_codes: Vec<String>,
    /// The staff user, now with `secondFactorEnabled`.
    staff_user: StaffUser,
}

#[derive(Default)]
pub(super) struct SecondFactorMutation;

#[Object]
impl SecondFactorMutation {
    /// Starts setting up a second factor for the signed-in staff user: scan the QR code
    /// with an authenticator app, then confirm with its code (`confirmStaffSecondFactor`).
    /// Asking again starts over with a new secret; one already in force stays until the new
    /// one is confirmed. Needs step-up (`confirmStaffIdentity`), else STEP_UP_REQUIRED.
    #[graphql(guard = "Require::Staff")]
    async fn enroll_staff_second_factor(
        &self,
        ctx: &Context<'_>,
    ) -> Result<EnrollStaffSecondFactorPayload> {
        let (svc, principal, _) = parts(ctx)?;
        let e = second_factor::enroll(svc, principal).await?;
        let qr_svg = super::qr::svg(&e.otpauth_uri)?;
        Ok(EnrollStaffSecondFactorPayload {
            enrollment: SecondFactorEnrollment {
                otpauth_uri: e.otpauth_uri,
                qr_svg,
                secret: e.secret,
            },
        })
    }

    /// Confirms the second factor with the app's current 6-digit code and returns ten
    /// recovery codes. From now on, sign-in asks for a code. A wrong code gives
    /// BAD_USER_INPUT (field `code`). Audited.
    #[graphql(guard = "Require::Staff")]
    async fn confirm_staff_second_factor(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret, desc = "The 6-digit code the app shows now.")] code: String,
    ) -> Result<RecoveryCodesPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let recovery_codes = second_factor::confirm(svc, principal, meta, &code).await?;
        let user = crate::services::staff::get(svc, principal.staff()?.user.id).await?;
        Ok(RecoveryCodesPayload {
            recovery_codes,
            staff_user: StaffUser(user),
        })
    }

    /// Replaces the caller's recovery codes with ten new ones (the old ones, used or not,
    /// stop working). Needs step-up (`confirmStaffIdentity`, which checks the app's code),
    /// else STEP_UP_REQUIRED. A `code`, if still sent, must be the app's current one: a wrong
    /// or used one gives BAD_USER_INPUT (field `code`). An account without a second factor
    /// gets CONFLICT. Audited.
    #[graphql(guard = "Require::Staff")]
    async fn regenerate_staff_recovery_codes(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            secret,
            desc = "Optional: the 6-digit code the app shows now. Step-up already proved it."
        )]
        code: Option<String>,
    ) -> Result<RecoveryCodesPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let recovery_codes =
            second_factor::regenerate_recovery_codes(svc, principal, meta, code.as_deref()).await?;
        let user = crate::services::staff::get(svc, principal.staff()?.user.id).await?;
        Ok(RecoveryCodesPayload {
            recovery_codes,
            staff_user: StaffUser(user),
        })
    }

    /// Finishes a sign-in that answered SECOND_FACTOR_REQUIRED, with the challenge from that
    /// error and the app's current code or an unused recovery code. A code works once, and so
    /// does a challenge (a second use gives INVALID_TOKEN). A wrong code gives INVALID_LOGIN
    /// and counts toward the lockout, per client and for the account across all clients; an
    /// expired challenge gives TOKEN_EXPIRED (sign in again).
    async fn staff_verify_second_factor(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            secret,
            desc = "`extensions.challenge` of the SECOND_FACTOR_REQUIRED error."
        )]
        challenge: String,
        #[graphql(secret, desc = "The app's 6-digit code, or a recovery code.")] code: String,
    ) -> Result<StaffLoginPayload> {
        let (svc, _, meta) = parts(ctx)?;
        let (token, user) = second_factor::verify_login(svc, meta, &challenge, &code).await?;
        Ok(StaffLoginPayload::new(svc, token, user))
    }

    /// Removes another staff user's second factor, e.g. after a lost phone: they sign in
    /// with their password and can set up a new one. Audited. Needs the MANAGE_STAFF right
    /// and step-up (`confirmStaffIdentity`), else STEP_UP_REQUIRED. One's own gives CONFLICT:
    /// another administrator, or the operator's `memberkey staff reset-second-factor`, removes
    /// it.
    #[graphql(guard = "Require::Right(Right::ManageStaff)")]
    async fn reset_staff_second_factor(
        &self,
        ctx: &Context<'_>,
        staff_user_id: ID,
    ) -> Result<StaffUserPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let id = crate::graphql::ids::staff_user_id(&staff_user_id, "staffUserId")?;
        let user = second_factor::reset(svc, principal, meta, id).await?;
        Ok(StaffUserPayload::new(user))
    }
}
