//! A staff user of the association's back office.

use chrono::{DateTime, Utc};

use super::{Right, StaffUserId};

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
