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
    /// False once the user was deactivated; a deactivated user cannot sign in.
    pub active: bool,
    /// The rights the user holds.
    pub rights: Vec<Right>,
    /// Whether sign-in asks for a code from an authenticator app (or a recovery code).
    pub second_factor: bool,
    /// When the user was created.
    pub created_at: DateTime<Utc>,
}

impl StaffUser {
    /// Whether the user holds `right`.
    pub fn has(&self, right: Right) -> bool {
        self.rights.contains(&right)
    }
}
