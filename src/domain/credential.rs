//! What is on record about a profile's portal credentials (never the hash).

use chrono::{DateTime, Utc};

use super::ProfileId;

/// Who set the password currently in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordSetBy {
    Staff,
    Member,
    Imported,
}

db_enum!(PasswordSetBy { Staff => "STAFF", Member => "MEMBER", Imported => "IMPORTED" });

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
