//! A member profile and the filters that select profiles.

use chrono::{DateTime, Utc};

use super::{MemberStatus, ProfileId, ProfileKind};

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

/// Filters for the profile list and quick search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileFilter {
    pub kind: Option<ProfileKind>,
    pub member_status: Option<MemberStatus>,
    pub has_email: Option<bool>,
    pub has_credentials: Option<bool>,
}
