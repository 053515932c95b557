//! Records the store hands back: typed, and free of ORM types.

use chrono::{DateTime, Utc};

use super::{MemberStatus, ProfileId, ProfileKind, Right, StaffUserId};

/// A member profile as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub id: ProfileId,
    pub kind: ProfileKind,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub organization_name: Option<String>,
    pub email: Option<String>,
    pub member_status: MemberStatus,
    pub parent_id: Option<ProfileId>,
    pub email_opt_out: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Profile {
    /// How staff screens name a profile: the organisation name, else "First Last", else the
    /// email, else the ID.
    pub fn display_name(&self) -> String {
        let person = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        match self.kind {
            ProfileKind::Organization => self.organization_name.clone().filter(|s| !s.is_empty()),
            ProfileKind::Individual => None,
        }
        .or_else(|| (!person.is_empty()).then_some(person))
        .or_else(|| self.organization_name.clone())
        .or_else(|| self.email.clone())
        .unwrap_or_else(|| format!("Profile {}", self.id))
    }
}

/// Who set the password currently in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordSetBy {
    Staff,
    Member,
    Imported,
}

impl PasswordSetBy {
    pub fn as_db(self) -> &'static str {
        match self {
            PasswordSetBy::Staff => "STAFF",
            PasswordSetBy::Member => "MEMBER",
            PasswordSetBy::Imported => "IMPORTED",
        }
    }

    pub fn from_db(raw: &str) -> Option<Self> {
        match raw {
            "STAFF" => Some(PasswordSetBy::Staff),
            "MEMBER" => Some(PasswordSetBy::Member),
            "IMPORTED" => Some(PasswordSetBy::Imported),
            _ => None,
        }
    }
}

/// A profile's portal credential metadata. The hash never leaves the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialInfo {
    pub profile_id: ProfileId,
    pub username: Option<String>,
    pub password_is_set: bool,
    pub password_set_by: Option<PasswordSetBy>,
    pub password_changed_at: Option<DateTime<Utc>>,
    pub must_change_password: bool,
    pub last_login_at: Option<DateTime<Utc>>,
    pub failed_login_count: i32,
    pub locked_until: Option<DateTime<Utc>>,
}

/// A staff user with their current rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffUser {
    pub id: StaffUserId,
    pub username: String,
    pub active: bool,
    pub rights: Vec<Right>,
    pub created_at: DateTime<Utc>,
}

impl StaffUser {
    pub fn has(&self, right: Right) -> bool {
        self.rights.contains(&right)
    }
}

/// Filters for the profile list and quick search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileFilter {
    pub kind: Option<ProfileKind>,
    pub member_status: Option<MemberStatus>,
    pub has_email: Option<bool>,
    pub has_credentials: Option<bool>,
}

/// One audit event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub action: String,
    pub actor_kind: String,
    pub actor_staff_id: Option<i64>,
    pub profile_id: Option<i64>,
    pub client_ip: Option<String>,
    pub detail: Option<String>,
}
