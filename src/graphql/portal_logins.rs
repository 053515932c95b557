//! "Create Portal Logins": usernames for every profile a filter selects that has none.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};

use super::mass::RecipientFilter;
use super::types::Profile;
use super::{Require, parts};
use crate::domain::{self, Right};
use crate::services::portal_logins;

/// Which profiles get a portal login, and whether to only look.
#[derive(InputObject)]
pub(super) struct CreatePortalLoginsInput {
    /// The profiles to consider: the same filter a mass communication uses, so the Portal
    /// Login Credentials Link can go to the same people afterwards.
    filter: RecipientFilter,
    /// True to change nothing and answer what a real run would do now.
    #[graphql(default)]
    dry_run: bool,
}

/// A username made for a profile.
#[derive(SimpleObject)]
pub(super) struct PortalLoginExample {
    /// The profile that got (or would get) the username.
    profile: Profile,
    /// The username, made from the profile's name: lower-case ASCII, words joined by `.`, a
    /// number added when the plain form is taken.
    username: String,
}

/// The result of `createPortalLogins`.
#[derive(SimpleObject)]
pub(super) struct CreatePortalLoginsPayload {
    /// How many profiles got a username (in a dry run: would get one).
    created: u64,
    /// How many selected profiles already had a username or a password, and were left as
    /// they are.
    skipped: u64,
    /// Whether this was only a look: nothing was changed.
    dry_run: bool,
    /// The first 20 usernames made, in order.
    examples: Vec<PortalLoginExample>,
}

#[derive(Default)]
pub(super) struct PortalLoginMutation;

#[Object]
impl PortalLoginMutation {
    /// Gives every profile the filter selects that has no portal credentials a unique
    /// username made from its name, and no password: the member sets one with a Portal Login
    /// Credentials Link. Profiles with credentials are untouched. Each new login is audited
    /// on its profile, and the run as PORTAL_LOGINS_CREATED. Needs the
    /// MANAGE_PORTAL_CREDENTIALS right.
    #[graphql(guard = "Require::Right(Right::ManagePortalCredentials)")]
    async fn create_portal_logins(
        &self,
        ctx: &Context<'_>,
        input: CreatePortalLoginsInput,
    ) -> Result<CreatePortalLoginsPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let filter = domain::RecipientFilter::try_from(input.filter)?;
        let outcome = portal_logins::create(svc, principal, meta, filter, input.dry_run).await?;
        Ok(CreatePortalLoginsPayload {
            created: outcome.created,
            skipped: outcome.skipped,
            dry_run: input.dry_run,
            examples: outcome
                .examples
                .into_iter()
                .map(|e| PortalLoginExample {
                    profile: Profile(e.profile),
                    username: e.username,
                })
                .collect(),
        })
    }
}
