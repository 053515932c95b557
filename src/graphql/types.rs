//! Output types and enums, written by hand so that only chosen fields are public.

use async_graphql::{ComplexObject, Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::Require;
use super::cursor;
use crate::domain::SearchCursor;
use crate::domain::{self, Right as DomainRight};
use crate::services::{self, profiles::ProfilePage, profiles::ProfileQuery};

/// Whether a profile is an organisation or a person.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::ProfileKind")]
pub enum ProfileKind {
    /// A company or other organisation. People can be related to it.
    Organization,
    /// A person, on their own or related to an organisation.
    Individual,
}

/// How a member came to be opted out of news.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::OptOutVia")]
pub enum OptOutVia {
    /// Their mail program's one-click unsubscribe (RFC 8058).
    OneClick,
    /// The button on the unsubscribe page a mail's link leads to.
    UnsubscribePage,
    /// They reported a message as spam.
    Complaint,
    /// Staff, at their request.
    Staff,
}

/// Where a profile stands in the membership cycle.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::MemberStatus")]
pub enum MemberStatus {
    /// A current member.
    Active,
    /// Someone the association hopes to sign up.
    Prospect,
    /// A former member whose membership ran out.
    Lapsed,
    /// Not a member, for example a contact of a member organisation.
    NonMember,
}

/// A staff right. Each one unlocks a group of fields and mutations.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::Right")]
pub enum Right {
    /// Create and edit profiles.
    ManageProfiles,
    /// Set and remove members' portal usernames and passwords, and see credential metadata.
    ManagePortalCredentials,
    /// Send password-reset emails and issue one-time credential links.
    SendPasswordResets,
    /// Compose and send mass communications.
    SendMassCommunications,
    /// See a staff-assigned password while it is still in force. Member-chosen passwords are never shown.
    ViewPortalPasswords,
    /// Create staff users, change their rights and deactivate them.
    ManageStaff,
    /// Read the audit log.
    ViewAuditLog,
    /// View the portal as a member (startPortalImpersonation): a read-only session of at most 15 minutes, audited and shown to the member.
    ImpersonateMembers,
    /// Export a person's data at their request (exportProfileData), audited on the profile.
    ManagePersonalData,
    /// Register the association's sites that sign members in through memberkey (OpenID Connect clients), change them and give them new secrets.
    ManageConnectedSites,
}

/// Who set the password that is currently in force.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::PasswordSetBy")]
pub enum PasswordSetBy {
    /// A staff user typed it in.
    Staff,
    /// The member chose it.
    Member,
    /// It came from an earlier system.
    Imported,
}

/// A member profile: an organisation or a person.
pub(super) struct Profile(pub domain::Profile);

/// A member profile: an organisation or a person. Any signed-in staff user may read profiles.
#[Object]
impl Profile {
    /// The profile's ID, a positive whole number such as `"42"`.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Whether this is an organisation or a person.
    async fn kind(&self) -> ProfileKind {
        self.0.kind.into()
    }
    /// The name to show: the organisation name, else "First Last", else the email.
    async fn display_name(&self) -> String {
        self.0.display_name()
    }
    /// A person's first name.
    async fn first_name(&self) -> Option<&str> {
        self.0.first_name.as_deref()
    }
    /// A person's last name.
    async fn last_name(&self) -> Option<&str> {
        self.0.last_name.as_deref()
    }
    /// The organisation's name.
    async fn organization_name(&self) -> Option<&str> {
        self.0.organization_name.as_deref()
    }
    /// The email address, if any. A password-reset email needs one.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// Where the profile stands in the membership cycle.
    async fn member_status(&self) -> MemberStatus {
        self.0.member_status.into()
    }
    /// True when the member left news: NEWS communications skip them (OPTED_OUT); SERVICE
    /// communications, resets and Forgot Login still come. Staff clear it with
    /// `updateProfile(input: { emailOptOut: false })` at the member's request (audited).
    async fn email_opt_out(&self) -> bool {
        self.0.email_opt_out
    }
    /// When the member opted out, for an opt-out made since memberkey records it. Staff only.
    #[graphql(guard = "Require::Staff")]
    async fn email_opt_out_at(&self) -> Option<DateTime<Utc>> {
        self.0.email_opt_out_at
    }
    /// How the member opted out (one click, the unsubscribe page, a complaint, staff), for an
    /// opt-out made since memberkey records it. Staff only.
    #[graphql(guard = "Require::Staff")]
    async fn email_opt_out_via(&self) -> Option<OptOutVia> {
        self.0.email_opt_out_via.map(Into::into)
    }
    /// The profile's ID in the system it was imported from (`memberkey profiles import`), if
    /// any. Staff only.
    #[graphql(guard = "Require::Staff")]
    async fn external_id(&self) -> Option<&str> {
        self.0.external_id.as_deref()
    }
    /// When the profile was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the profile was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The organisation this person is related to, if any. Staff only.
    #[graphql(guard = "Require::Staff")]
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Profile>> {
        let Some(parent) = self.0.parent_id else {
            return Ok(None);
        };
        Ok(super::loaders(ctx)?
            .profile
            .load_one(parent)
            .await?
            .flatten()
            .map(Profile))
    }
    /// The people related to this organisation, a page at a time in ID order. Staff only.
    #[graphql(guard = "Require::Staff")]
    async fn related_profiles(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "Page size, 0 to 100; 20 when left out.")] first: Option<
            i32,
        >,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<RelatedProfileConnection> {
        let first = services::profiles::check_page_size(first)?;
        let after = cursor::parse_after::<SearchCursor>(after.as_deref())?;
        let all = super::loaders(ctx)?
            .related
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        let total = all.len();
        let (items, has_next_page) =
            services::profiles::page_after(all, after.map(|c| c.id), first);
        Ok(RelatedProfileConnection {
            items,
            has_next_page,
            has_previous_page: after.is_some(),
            total,
        })
    }
    /// The profile's Members Only portal credential, or null when it has none. Staff only.
    #[graphql(guard = "Require::Staff")]
    async fn portal_credential(&self, ctx: &Context<'_>) -> Result<Option<PortalCredential>> {
        Ok(super::loaders(ctx)?
            .credential
            .load_one(self.0.id)
            .await?
            .flatten()
            .map(PortalCredential::read))
    }
}

/// A profile's Members Only portal credential. Its hash is never part of this type.
pub(super) struct PortalCredential {
    pub info: domain::CredentialInfo,
    /// False in mutation results: a response that saves a password never shows it.
    pub revealable: bool,
}

impl PortalCredential {
    pub(super) fn read(info: domain::CredentialInfo) -> Self {
        Self {
            info,
            revealable: true,
        }
    }

    pub(super) fn saved(info: domain::CredentialInfo) -> Self {
        Self {
            info,
            revealable: false,
        }
    }
}

/// A profile's Members Only portal credential. Its fields need the MANAGE_PORTAL_CREDENTIALS right.
#[Object]
impl PortalCredential {
    /// The staff-assigned password while it is still in force; null once the member chose
    /// their own, for imported passwords, and in the result of the mutation that set it. A
    /// member-chosen password is never shown to anyone. Each reveal is audited. Needs the
    /// VIEW_PORTAL_PASSWORDS right.
    #[graphql(guard = "Require::Right(DomainRight::ViewPortalPasswords)")]
    async fn password(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        if !self.revealable {
            return Ok(None);
        }
        let (svc, principal, meta) = super::parts(ctx)?;
        Ok(services::credentials::reveal(svc, principal, meta, self.info.profile_id).await?)
    }
    /// The portal username, or null when the member signs in with their email address.
    #[graphql(guard = "Require::Right(DomainRight::ManagePortalCredentials)")]
    async fn username(&self) -> Option<&str> {
        self.info.username.as_deref()
    }
    /// True when a password is set.
    #[graphql(guard = "Require::Right(DomainRight::ManagePortalCredentials)")]
    async fn password_is_set(&self) -> bool {
        self.info.password_is_set
    }
    /// Who set the current password.
    #[graphql(guard = "Require::Right(DomainRight::ManagePortalCredentials)")]
    async fn password_set_by(&self) -> Option<PasswordSetBy> {
        self.info.password_set_by.map(Into::into)
    }
    /// When the password last changed.
    #[graphql(guard = "Require::Right(DomainRight::ManagePortalCredentials)")]
    async fn password_changed_at(&self) -> Option<DateTime<Utc>> {
        self.info.password_changed_at
    }
    /// True when the member must choose a new password at next sign-in.
    #[graphql(guard = "Require::Right(DomainRight::ManagePortalCredentials)")]
    async fn must_change_password(&self) -> bool {
        self.info.must_change_password
    }
    /// When the member last signed in.
    #[graphql(guard = "Require::Right(DomainRight::ManagePortalCredentials)")]
    async fn last_login_at(&self) -> Option<DateTime<Utc>> {
        self.info.last_login_at
    }
    /// Failed sign-ins since the last success.
    #[graphql(guard = "Require::Right(DomainRight::ManagePortalCredentials)")]
    async fn failed_login_count(&self) -> i32 {
        self.info.failed_login_count
    }
    /// Until when sign-in is locked after too many failures.
    #[graphql(guard = "Require::Right(DomainRight::ManagePortalCredentials)")]
    async fn locked_until(&self) -> Option<DateTime<Utc>> {
        self.info.locked_until
    }
    /// False while staff have switched the credential off (`setPortalCredentialsEnabled`):
    /// the member cannot sign in until it is switched on again.
    #[graphql(guard = "Require::Right(DomainRight::ManagePortalCredentials)")]
    async fn enabled(&self) -> bool {
        self.info.disabled_at.is_none()
    }
    /// When staff switched the credential off; null while it is on.
    #[graphql(guard = "Require::Right(DomainRight::ManagePortalCredentials)")]
    async fn disabled_at(&self) -> Option<DateTime<Utc>> {
        self.info.disabled_at
    }
}

/// A staff user of the association.
pub(super) struct StaffUser(pub domain::StaffUser);

/// A staff user of the association.
#[Object]
impl StaffUser {
    /// The staff user's ID.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The sign-in name.
    async fn username(&self) -> &str {
        &self.0.username
    }
    /// Where this user's set-password link goes; null until one is recorded
    /// (`setStaffUserEmail`).
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// False once the user was deactivated; a deactivated user cannot sign in.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// The rights this user holds.
    async fn rights(&self) -> Vec<Right> {
        self.0.rights.iter().copied().map(Into::into).collect()
    }
    /// Whether signing in also asks for a code from an authenticator app (or a recovery
    /// code).
    async fn second_factor_enabled(&self) -> bool {
        self.0.second_factor
    }
    /// When the user was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Paging facts for a connection (Relay cursor connections).
#[derive(SimpleObject)]
pub(super) struct PageInfo {
    /// True when more results follow `endCursor`.
    pub has_next_page: bool,
    /// True when this page started after a cursor.
    pub has_previous_page: bool,
    /// The cursor of the first edge.
    pub start_cursor: Option<String>,
    /// The cursor of the last edge; pass it as `after` for the next page.
    pub end_cursor: Option<String>,
}

/// One profile in a connection.
#[derive(SimpleObject)]
#[graphql(complex)]
pub(super) struct ProfileEdge {
    /// Where this edge sits; pass it as `after` to continue behind it.
    pub cursor: String,
    #[graphql(skip)]
    pub profile: domain::Profile,
}

#[ComplexObject]
impl ProfileEdge {
    /// The profile.
    async fn node(&self) -> Profile {
        Profile(self.profile.clone())
    }
}

/// A page of profiles, best matches first when searching.
pub(super) struct ProfileConnection {
    pub page: ProfilePage,
    pub query: ProfileQuery,
    pub has_previous_page: bool,
}

/// A page of profiles, best matches first when searching.
#[Object]
impl ProfileConnection {
    /// The profiles on this page with their cursors.
    async fn edges(&self) -> Vec<ProfileEdge> {
        self.page
            .items
            .iter()
            .map(|(cursor, profile)| ProfileEdge {
                cursor: cursor::encode(cursor),
                profile: profile.clone(),
            })
            .collect()
    }
    /// Paging facts.
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_next_page: self.page.has_next_page,
            has_previous_page: self.has_previous_page,
            start_cursor: self.page.items.first().map(|(c, _)| cursor::encode(c)),
            end_cursor: self.page.items.last().map(|(c, _)| cursor::encode(c)),
        }
    }
    /// How many profiles match in all. Counted only when asked for.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        let (svc, principal, _) = super::parts(ctx)?;
        Ok(services::profiles::total_count(svc, principal, &self.query).await?)
    }
}

/// A page of the people related to an organisation, in ID order.
pub(super) struct RelatedProfileConnection {
    items: Vec<domain::Profile>,
    has_next_page: bool,
    has_previous_page: bool,
    total: usize,
}

/// A page of the people related to an organisation, in ID order.
#[Object]
impl RelatedProfileConnection {
    /// The people on this page with their cursors.
    async fn edges(&self) -> Vec<ProfileEdge> {
        self.items
            .iter()
            .map(|p| ProfileEdge {
                cursor: related_cursor(p),
                profile: p.clone(),
            })
            .collect()
    }
    /// Paging facts.
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_next_page: self.has_next_page,
            has_previous_page: self.has_previous_page,
            start_cursor: self.items.first().map(related_cursor),
            end_cursor: self.items.last().map(related_cursor),
        }
    }
    /// How many people are related to the organisation in all.
    async fn total_count(&self) -> u64 {
        self.total as u64
    }
}

fn related_cursor(p: &domain::Profile) -> String {
    cursor::encode(&SearchCursor {
        tier: 0,
        id: p.id.get(),
    })
}
