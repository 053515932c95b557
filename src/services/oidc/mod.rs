//! memberkey as the association's OpenID Connect provider: the sites it runs sign members in
//! with their portal login, as far as their membership allows.
//!
//! - [`sites`]: the connected sites (clients), as staff register them;
//! - [`keys`]: the RS256 keys that sign ID tokens;
//! - [`authorize`]: the authorization endpoint's decisions (which site, which address, which
//!   member, whether their membership includes the site), ending in a single-use code;
//! - [`tokens`]: the token, userinfo and revocation endpoints;
//! - [`spend`]: the codes exchanges spend, written in group commits;
//! - [`access`]: the access tokens userinfo presents, read in groups.
//!
//! Access tokens are opaque and kept as digests, not JWTs: every request that presents one
//! is checked against the database, so a password change, a credential switched off, a
//! status that may no longer sign in or "Sign out everywhere" ends a site's access at once,
//! not when a self-contained token expires. The ID token is a signed JWT, as the standard
//! requires.

pub mod access;
pub mod authorize;
pub mod keys;
pub mod logout;
pub mod sites;
pub mod spend;
pub mod tokens;

use chrono::Duration;

use super::Services;
use crate::domain::{ConnectedSite, MemberStatus, Profile, ProfileId};
use crate::error::{AppError, AppResult};
use crate::store;
use crate::store::oidc::members::{CredentialFacts, MemberFacts};

/// An authorization code lives this long.
pub const CODE_TTL: Duration = Duration::seconds(60);
/// An access token lives this long.
pub const ACCESS_TTL: Duration = Duration::minutes(10);
/// A refresh token lives this long unless used (it is replaced at each use) or revoked.
pub const REFRESH_TTL: Duration = Duration::days(30);

/// A refusal in the protocol's own words (RFC 6749 §4.1.2.1 and §5.2, OpenID Connect Core
/// §3.1.2.6): what a site's library reads and acts on.
#[derive(Debug)]
pub enum OidcError {
    /// `error` and `error_description` for the site.
    Refused {
        error: &'static str,
        description: String,
    },
    /// A failure on this side; the site gets `server_error` and the log the cause.
    Internal(AppError),
}

impl OidcError {
    pub fn refused(error: &'static str, description: impl Into<String>) -> Self {
        OidcError::Refused {
            error,
            description: description.into(),
        }
    }
}

impl From<AppError> for OidcError {
    fn from(e: AppError) -> Self {
        OidcError::Internal(e)
    }
}

impl From<store::StoreError> for OidcError {
    fn from(e: store::StoreError) -> Self {
        OidcError::Internal(e.into())
    }
}

/// The issuer: the public address, exactly as the discovery document names it.
pub fn issuer(svc: &Services) -> &str {
    &svc.config.public_url
}

/// A member a site may serve: the profile and the credential facts its claims need.
pub struct Admitted {
    pub profile: Profile,
    pub credential: CredentialFacts,
    /// Their subject, once they have signed in to any site.
    pub subject: Option<String>,
    /// The parent organisation's name, when the profile has a parent.
    pub parent_organization: Option<String>,
}

/// Why a member may not use a site now, in the words of the audit trail; `Ok` with their
/// profile and credential when they may.
pub async fn admitted(
    svc: &Services,
    site: &ConnectedSite,
    profile_id: ProfileId,
) -> AppResult<Result<Admitted, &'static str>> {
    let member = store::oidc::members::get(&svc.db, profile_id).await?;
    Ok(admit(svc, site.allowed_member_statuses.as_deref(), member))
}

/// [`admitted`] on a member read with their code or token (`None`: the profile is gone).
pub fn admit(
    svc: &Services,
    allowed: Option<&[MemberStatus]>,
    member: Option<MemberFacts>,
) -> Result<Admitted, &'static str> {
    let Some(member) = member else {
        return Err("PROFILE_GONE");
    };
    may_use(
        svc,
        allowed,
        member.profile.member_status,
        member.credential.as_ref().map(|c| c.disabled),
    )?;
    let Some(credential) = member.credential else {
        return Err("NO_CREDENTIAL");
    };
    Ok(Admitted {
        profile: member.profile,
        credential,
        subject: member.subject,
        parent_organization: member.parent_organization,
    })
}

/// The rule of [`admitted`] on facts already read: a credential that is switched on
/// (`disabled` is `None` without one), a status that may sign in, and one the site admits.
pub fn may_use(
    svc: &Services,
    allowed: Option<&[MemberStatus]>,
    status: MemberStatus,
    disabled: Option<bool>,
) -> Result<(), &'static str> {
    match disabled {
        None => return Err("NO_CREDENTIAL"),
        Some(true) => return Err("CREDENTIAL_DISABLED"),
        Some(false) => {}
    }
    if !svc.config.may_sign_in(status) || !ConnectedSite::admits_in(allowed, status) {
        return Err("MEMBERSHIP_STATUS");
    }
    Ok(())
}
