//! A staff user of the association's back office.

use chrono::{DateTime, Utc};

use super::{Right, StaffUserId};

/// A staff user with their current rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffUser {
    /// The staff user's ID.
    pub id: StaffUserId,
    /// The sign-in name, as the user chose it.
    pub username: String,
    /// Where their set-password link goes; `None` until an administrator records one.
    pub email: Option<String>,
    /// False once the user was deactivated; a deactivated user cannot sign in.
    pub active: bool,
    /// The rights the user holds.
    pub rights: Vec<Right>,
    /// Whether sign-in asks for a code from an authenticator app (or a recovery code).
    pub second_factor: bool,
    /// When the user was created.
    pub created_at: DateTime<Utc>,
}

/// A staff session that still works, as its owner sees it in their list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSessionInfo {
    /// The session's ID.
    pub id: i64,
    /// When it was signed in.
    pub created_at: DateTime<Utc>,
    /// When it was last used (to the minute).
    pub last_seen_at: DateTime<Utc>,
    /// The client's IP address at sign-in.
    pub client_ip: Option<String>,
    /// The client's User-Agent at sign-in.
    pub user_agent: Option<String>,
}

impl StaffUser {
    /// Whether the user holds `right`.
    pub fn has(&self, right: Right) -> bool {
        self.rights.contains(&right)
    }
}
