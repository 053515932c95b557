//! Profile queries and mutations.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};

use super::cursor;
use super::types::{MemberStatus, Profile, ProfileConnection, ProfileKind};
use super::{Require, parts};
use crate::domain::{self, ProfileId, Right};
use crate::error::AppError;
use crate::services::profiles::{self as svc_profiles, Patch, ProfileChanges};

/// Narrows a profile list or search.
#[derive(InputObject, Default)]
pub struct ProfileFilter {
    /// Only organisations or only people.
    kind: Option<ProfileKind>,
    /// Only profiles with this membership status.
    member_status: Option<MemberStatus>,
    /// Only profiles with (true) or without (false) an email address.
    has_email: Option<bool>,
    /// Only profiles with (true) or without (false) a portal username or password.
    has_credentials: Option<bool>,
}

impl From<ProfileFilter> for domain::ProfileFilter {
    fn from(f: ProfileFilter) -> Self {
        Self {
            kind: f.kind.map(Into::into),
            member_status: f.member_status.map(Into::into),
            has_email: f.has_email,
            has_credentials: f.has_credentials,
            ..Default::default()
        }
    }
}

/// The fields of a new profile.
#[derive(InputObject)]
pub struct CreateProfileInput {
    /// Organisation or person.
    kind: ProfileKind,
    /// A person's first name (at most 100 characters).
    first_name: Option<String>,
    /// A person's last name (at most 100 characters). A person needs a first or last name.
    last_name: Option<String>,
    /// The organisation's name (at most 200 characters). Required for organisations.
    organization_name: Option<String>,
    /// The email address. Several profiles may share one.
    email: Option<String>,
    /// Membership status; ACTIVE when left out.
    member_status: Option<MemberStatus>,
    /// The organisation this person is related to.
    parent_id: Option<ID>,
    /// True when the member does not want mass communications.
    email_opt_out: Option<bool>,
}

/// Changes to a profile. Leave a field out to keep it; send null to clear it.
#[derive(InputObject)]
pub struct UpdateProfileInput {
    /// Organisation or person.
    kind: Option<ProfileKind>,
    /// A person's first name.
    first_name: MaybeUndefined<String>,
    /// A person's last name.
    last_name: MaybeUndefined<String>,
    /// The organisation's name.
    organization_name: MaybeUndefined<String>,
    /// The email address.
    email: MaybeUndefined<String>,
    /// Membership status.
    member_status: Option<MemberStatus>,
    /// The organisation this person is related to; null makes the profile stand alone.
    parent_id: MaybeUndefined<ID>,
    /// True when the member does not want mass communications.
    email_opt_out: Option<bool>,
}

fn patch(v: MaybeUndefined<String>) -> Patch<String> {
    match v {
        MaybeUndefined::Undefined => Patch::Keep,
        MaybeUndefined::Null => Patch::Clear,
        MaybeUndefined::Value(s) => Patch::Set(s),
    }
}

fn opt(v: Option<String>) -> Patch<String> {
    v.map_or(Patch::Keep, Patch::Set)
}

/// The parent's ID as a change: blank means none.
fn parent(p: Patch<String>) -> Result<Patch<ProfileId>, AppError> {
    Ok(match p {
        Patch::Keep => Patch::Keep,
        Patch::Clear => Patch::Clear,
        Patch::Set(s) if s.trim().is_empty() => Patch::Clear,
        Patch::Set(s) => Patch::Set(crate::graphql::ids::profile_id(&s)?),
    })
}

impl TryFrom<CreateProfileInput> for ProfileChanges {
    type Error = AppError;

    fn try_from(i: CreateProfileInput) -> Result<Self, AppError> {
        Ok(Self {
            kind: Some(i.kind.into()),
            first_name: opt(i.first_name),
            last_name: opt(i.last_name),
            organization_name: opt(i.organization_name),
            email: opt(i.email),
            member_status: i.member_status.map(Into::into),
            parent_id: parent(opt(i.parent_id.map(|id| id.0)))?,
            email_opt_out: i.email_opt_out,
        })
    }
}

impl TryFrom<UpdateProfileInput> for ProfileChanges {
    type Error = AppError;

    fn try_from(i: UpdateProfileInput) -> Result<Self, AppError> {
        Ok(Self {
            kind: i.kind.map(Into::into),
            first_name: patch(i.first_name),
            last_name: patch(i.last_name),
            organization_name: patch(i.organization_name),
            email: patch(i.email),
            member_status: i.member_status.map(Into::into),
            parent_id: parent(patch(i.parent_id.map_value(|id| id.0)))?,
            email_opt_out: i.email_opt_out,
        })
    }
}

/// The result of `createProfile`.
#[derive(SimpleObject)]
pub(super) struct CreateProfilePayload {
    /// The new profile.
    profile: Profile,
}

/// The result of `updateProfile`.
#[derive(SimpleObject)]
pub(super) struct UpdateProfilePayload {
    /// The profile as saved.
    profile: Profile,
}

#[derive(Default)]
pub(super) struct ProfileQuery;

#[Object]
impl ProfileQuery {
    /// One profile by ID. Needs a staff sign-in. A malformed ID gives INVALID_PROFILE_ID; an
    /// unknown one gives NOT_FOUND.
    #[graphql(guard = "Require::Staff")]
    async fn profile(&self, ctx: &Context<'_>, id: ID) -> Result<Profile> {
        let (svc, principal, _) = parts(ctx)?;
        let id = crate::graphql::ids::profile_id(&id)?;
        Ok(Profile(svc_profiles::get(svc, principal, id).await?))
    }

    /// Lists profiles, or quick-searches them when `search` is given: any part (3+
    /// characters) of a first, last, full or organisation name, an email or a username, or an
    /// exact profile ID. Case- and width-insensitive. Results are ranked: exact ID, then exact
    /// value, then prefix, then substring. Needs a staff sign-in.
    #[graphql(guard = "Require::Staff")]
    async fn profiles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Search text (at most 100 characters).")] search: Option<String>,
        #[graphql(desc = "Narrows the results.")] filter: Option<ProfileFilter>,
        #[graphql(default = 20, desc = "Page size, 0 to 100; 20 when left out.")] first: Option<
            i32,
        >,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<ProfileConnection> {
        let (svc, principal, _) = parts(ctx)?;
        let first = svc_profiles::check_page_size(first)?;
        let after = cursor::parse_after::<crate::domain::SearchCursor>(after.as_deref())?;
        let query =
            svc_profiles::parse_query(search.as_deref(), filter.unwrap_or_default().into())?;
        let page = svc_profiles::page(svc, principal, &query, after, first).await?;
        let nodes: Vec<_> = page.items.iter().map(|(_, p)| p.clone()).collect();
        super::loaders(ctx)?
            .prime(ctx, &["edges", "node"], &nodes)
            .await?;
        Ok(ProfileConnection {
            page,
            query,
            has_previous_page: after.is_some(),
        })
    }
}

#[derive(Default)]
pub(super) struct ProfileMutation;

#[Object]
impl ProfileMutation {
    /// Creates a profile. Needs the MANAGE_PROFILES right.
    #[graphql(guard = "Require::Right(Right::ManageProfiles)")]
    async fn create_profile(
        &self,
        ctx: &Context<'_>,
        input: CreateProfileInput,
    ) -> Result<CreateProfilePayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let profile = svc_profiles::create(svc, principal, meta, input.try_into()?).await?;
        Ok(CreateProfilePayload {
            profile: Profile(profile),
        })
    }

    /// Changes a profile. Needs the MANAGE_PROFILES right.
    #[graphql(guard = "Require::Right(Right::ManageProfiles)")]
    async fn update_profile(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateProfileInput,
    ) -> Result<UpdateProfilePayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let id = crate::graphql::ids::profile_id(&id)?;
        let profile = svc_profiles::update(svc, principal, meta, id, input.try_into()?).await?;
        Ok(UpdateProfilePayload {
            profile: Profile(profile),
        })
    }
}
