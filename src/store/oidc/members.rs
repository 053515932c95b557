//! The member behind a code, a token or a session, read in the same statement as the code
//! or token: everything a site's admission rule and claims need. Each separate read is a
//! round trip (on SQLite, to the connection's thread), and the token endpoint and userinfo
//! run on every sign-in and every page of a site.

use sea_orm::{ConnectionTrait, FromQueryResult, QueryResult};

use super::super::sql::Sql;
use crate::domain::{Profile, ProfileId};
use crate::store::StoreResult;

/// A member as a site sees them.
#[derive(Clone)]
pub struct MemberFacts {
    pub profile: Profile,
    /// `None` when the member has no credential.
    pub credential: Option<CredentialFacts>,
    /// Their subject, once they have signed in to any site.
    pub subject: Option<String>,
    /// The name of the organisation the profile belongs to, when it has a parent.
    pub parent_organization: Option<String>,
}

/// The credential facts a site's claims and admission need.
#[derive(Clone)]
pub struct CredentialFacts {
    pub username: Option<String>,
    pub disabled: bool,
    pub email_verified_key: Option<String>,
}

/// What a statement selects for [`read`], beside its own columns. `member_id` is NULL when
/// the profile is gone.
pub(super) const COLUMNS: &str = "p.*, p.id AS member_id, pc.profile_id AS credential_of, \
     pc.username, pc.disabled_at, pc.email_verified_key, s.subject, \
     parent.organization_name AS parent_organization";

/// The joins [`COLUMNS`] reads, from the profile ID `profile_id` (a qualified column; a
/// constant, since it becomes SQL text).
pub(super) fn joins(sql: &mut Sql, profile_id: &'static str) {
    sql.push(&format!(
        " LEFT JOIN profiles p ON p.id = {profile_id} \
         LEFT JOIN portal_credentials pc ON pc.profile_id = p.id \
         LEFT JOIN oidc_subjects s ON s.profile_id = p.id \
         LEFT JOIN profiles parent ON parent.id = p.parent_id"
    ));
}

/// The member in a row that selected [`COLUMNS`]; `None` when the profile is gone.
pub(super) fn read(r: &QueryResult) -> StoreResult<Option<MemberFacts>> {
    if r.try_get::<Option<i64>>("", "member_id")?.is_none() {
        return Ok(None);
    }
    let credential_of: Option<i64> = r.try_get("", "credential_of")?;
    let disabled_at: Option<chrono::DateTime<chrono::Utc>> = r.try_get("", "disabled_at")?;
    let profile = crate::entities::profile::Model::from_query_result(r, "")?;
    Ok(Some(MemberFacts {
        profile: super::super::profiles::to_record(profile)?,
        credential: match credential_of {
            None => None,
            Some(_) => Some(CredentialFacts {
                username: r.try_get("", "username")?,
                disabled: disabled_at.is_some(),
                email_verified_key: r.try_get("", "email_verified_key")?,
            }),
        },
        subject: r.try_get("", "subject")?,
        parent_organization: r.try_get("", "parent_organization")?,
    }))
}

/// The member with this profile ID, when the profile exists.
pub async fn get(
    db: &impl ConnectionTrait,
    profile: ProfileId,
) -> StoreResult<Option<MemberFacts>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(&format!("SELECT {COLUMNS} FROM profiles m"));
    joins(&mut sql, "m.id");
    sql.push(" WHERE m.id = ").param(profile.get());
    let Some(r) = db.query_one_raw(sql.build()).await? else {
        return Ok(None);
    };
    read(&r)
}
