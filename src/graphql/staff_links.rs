//! Staff users' addresses and set-password links: an administrator records where a staff
//! user's mail goes and sends them a link; the staff user sets a password with it.

use async_graphql::{Context, ID, Object, Result, SimpleObject};

use super::staff::StaffUserPayload;
use super::{Require, parts};
use crate::domain::Right;
use crate::services;

/// The result of `sendStaffPasswordReset`.
#[derive(SimpleObject)]
pub(super) struct SendStaffPasswordResetPayload {
    /// The address the set-password link is going to: the staff user's recorded email.
    sent_to: String,
}

/// The result of `setStaffPasswordWithToken`.
#[derive(SimpleObject)]
pub(super) struct SetStaffPasswordPayload {
    /// The staff user whose password is now set: sign in with it (`staffLogin`).
    username: String,
}

#[derive(Default)]
pub(super) struct StaffLinkMutation;

#[Object]
impl StaffLinkMutation {
    /// Records or changes the address a staff user's set-password link goes to; `null` or
    /// blank removes it. A link already sent stops working when the address changes.
    /// Audited. Needs the MANAGE_STAFF right and step-up (`confirmStaffIdentity`), else
    /// STEP_UP_REQUIRED.
    #[graphql(guard = "Require::Right(Right::ManageStaff)")]
    async fn set_staff_user_email(
        &self,
        ctx: &Context<'_>,
        staff_user_id: ID,
        #[graphql(desc = "The new address, or null to remove it.")] email: Option<String>,
    ) -> Result<StaffUserPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let id = crate::graphql::ids::staff_user_id(&staff_user_id, "staffUserId")?;
        let user = services::staff::set_email(svc, principal, meta, id, email.as_deref()).await?;
        Ok(StaffUserPayload::new(user))
    }

    /// Emails a staff user a one-time link to set a new password in the staff console
    /// (`/staff/#set-password=…`). It works for `MEMBERKEY_STAFF_LINK_TTL_MINUTES` and only
    /// the newest link works. Errors: `NO_EMAIL_ADDRESS` when the user has no address
    /// (`setStaffUserEmail` first), `CONFLICT` when the user is deactivated,
    /// `ADDRESS_SUPPRESSED` when the address bounced. Audited. Needs the MANAGE_STAFF right
    /// and step-up (`confirmStaffIdentity`), else STEP_UP_REQUIRED.
    #[graphql(guard = "Require::Right(Right::ManageStaff)")]
    async fn send_staff_password_reset(
        &self,
        ctx: &Context<'_>,
        staff_user_id: ID,
    ) -> Result<SendStaffPasswordResetPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let id = crate::graphql::ids::staff_user_id(&staff_user_id, "staffUserId")?;
        let sent_to = services::staff::links::send(svc, principal, meta, id).await?;
        Ok(SendStaffPasswordResetPayload { sent_to })
    }

    /// Sets a staff user's password with the token from their link, using the link up. A
    /// password the policy refuses leaves the link usable. Every session of that staff user
    /// ends and a sign-in lock is lifted; a second factor is still asked at sign-in. Errors:
    /// `INVALID_TOKEN` (unknown, used or replaced link), `TOKEN_EXPIRED`, `WEAK_PASSWORD`.
    async fn set_staff_password_with_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret, desc = "The token from the link (after `#set-password=`).")]
        token: String,
        #[graphql(secret, desc = "The new password.")] new_password: String,
    ) -> Result<SetStaffPasswordPayload> {
        let (svc, _, meta) = parts(ctx)?;
        let username =
            services::staff::links::set_with_token(svc, meta, &token, &new_password).await?;
        Ok(SetStaffPasswordPayload { username })
    }
}
