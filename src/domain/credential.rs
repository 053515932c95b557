//! What is on record about a profile's portal credentials (never the hash).

use chrono::{DateTime, Utc};

use super::ProfileId;

/// Who set the password currently in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordSetBy {
    /// A staff user typed it in.
    Staff,
    /// The member chose it.
    Member,
    /// It came from an earlier system with its hash.
    Imported,
}

db_enum!(PasswordSetBy { Staff => "STAFF", Member => "MEMBER", Imported => "IMPORTED" });

/// A profile's portal credential metadata. The hash never leaves the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialInfo {
    /// The profile the credentials belong to.
    pub profile_id: ProfileId,
    /// The portal username; `None` when the member signs in with their email address.
    pub username: Option<String>,
    /// Whether a password hash is stored.
    pub password_is_set: bool,
    /// Who set the password in force, if one is set.
    pub password_set_by: Option<PasswordSetBy>,
    /// When the password last changed.
    pub password_changed_at: Option<DateTime<Utc>>,
    /// Whether the member must choose a new password at their next sign-in.
    pub must_change_password: bool,
    /// When the member last signed in.
    pub last_login_at: Option<DateTime<Utc>>,
    /// Failed sign-ins since the last success, unlock or new password.
    pub failed_login_count: i32,
    /// Until when sign-in is locked after too many failures, if a lock was set.
    pub locked_until: Option<DateTime<Utc>>,
    /// When staff switched the credential off; while set, its holder cannot sign in.
    pub disabled_at: Option<DateTime<Utc>>,
}
