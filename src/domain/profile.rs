//! A member profile and the filters that select profiles.

use chrono::{DateTime, Utc};

use super::{FollowUp, MemberStatus, ProfileId, ProfileKind};

/// A member profile as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The profile's ID.
    pub id: ProfileId,
    /// Whether it is an organisation or a person.
    pub kind: ProfileKind,
    /// A person's first name.
    pub first_name: Option<String>,
    /// A person's last name.
    pub last_name: Option<String>,
    /// The organisation's name.
    pub organization_name: Option<String>,
    /// The email address, if any; set-password and mass mail need one.
    pub email: Option<String>,
    /// Where the profile stands in the membership cycle.
    pub member_status: MemberStatus,
    /// The organisation this person is related to, if any.
    pub parent_id: Option<ProfileId>,
    /// Whether the member asked not to receive news (NEWS mass communications).
    pub email_opt_out: bool,
    /// When the opt-out was made, for one made since this was recorded.
    pub email_opt_out_at: Option<DateTime<Utc>>,
    /// How the opt-out was made, for one made since this was recorded.
    pub email_opt_out_via: Option<OptOutVia>,
    /// The profile's ID in the system it was imported from, if any.
    pub external_id: Option<String>,
    /// When the profile was created.
    pub created_at: DateTime<Utc>,
    /// When the profile was last changed.
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

/// How a member came to be opted out of news.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

db_enum!(OptOutVia {
    OneClick => "ONE_CLICK",
    UnsubscribePage => "UNSUBSCRIBE_PAGE",
    Complaint => "COMPLAINT",
    Staff => "STAFF",
});

/// Filters for the profile list and quick search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileFilter {
    /// Only organisations or only people.
    pub kind: Option<ProfileKind>,
    /// Only profiles with this membership status.
    pub member_status: Option<MemberStatus>,
    /// Only profiles with (`true`) or without (`false`) an email address.
    pub has_email: Option<bool>,
    /// Only profiles with (`true`) or without (`false`) a portal username or password.
    pub has_credentials: Option<bool>,
    /// Only profiles with (`true`) or without (`false`) a portal password.
    pub has_password: Option<bool>,
    /// Only profiles that have (`true`) or have never (`false`) signed in to the portal.
    pub signed_in: Option<bool>,
    /// Only profiles that signed in at or after this moment.
    pub signed_in_since: Option<DateTime<Utc>>,
    /// Only profiles with one of these membership statuses (empty: any).
    pub member_statuses: Vec<MemberStatus>,
    /// Only the recipients of an earlier communication, as they stand now.
    pub follow_up: Option<(FollowUp, DateTime<Utc>)>,
}
