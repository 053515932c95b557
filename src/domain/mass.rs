use chrono::{DateTime, Utc};

use super::{
    DeliveryStatus, MassCommunicationId, MemberStatus, OutboundId, ProfileId, ProfileKind,
    SkipReason,
};

/// A merge field staff can put into a mass communication, as `{{token}}`. Every use of a
/// field matches on this enum without a catch-all, so a new field cannot be added without
/// deciding what it prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeField {
    /// "First Name": the person's first name; empty for organisations.
    FirstName,
    /// "Last Name": the person's last name; empty for organisations.
    LastName,
    /// "Full Name": the person's first and last name, or the organisation's name.
    FullName,
    /// "Organisation Name": the organisation's name; for a person, their organisation's.
    OrganizationName,
    /// "Email": the recipient's email address.
    Email,
    /// "Username": the portal username; the email address when there is none.
    Username,
    /// "Profile ID": the recipient's profile ID.
    ProfileId,
    /// "Portal Login Credentials Link": the login and the recipient's own set-password link.
    CredentialsLink,
    /// "Portal Link Expiry": when the recipient's set-password link stops working.
    LinkExpires,
    /// "Unsubscribe Link": the recipient's own link to stop receiving news.
    UnsubscribeLink,
}

impl MergeField {
    /// Every merge field, in the order an editor's dropdown shows them.
    pub const ALL: [MergeField; 10] = [
        MergeField::FirstName,
        MergeField::LastName,
        MergeField::FullName,
        MergeField::OrganizationName,
        MergeField::Email,
        MergeField::Username,
        MergeField::ProfileId,
        MergeField::CredentialsLink,
        MergeField::LinkExpires,
        MergeField::UnsubscribeLink,
    ];

    /// The name between the braces.
    pub fn token(self) -> &'static str {
        match self {
            MergeField::FirstName => "first_name",
            MergeField::LastName => "last_name",
            MergeField::FullName => "full_name",
            MergeField::OrganizationName => "organization_name",
            MergeField::Email => "email",
            MergeField::Username => "username",
            MergeField::ProfileId => "profile_id",
            MergeField::CredentialsLink => super::CREDENTIALS_FIELD,
            MergeField::LinkExpires => "portal_link_expires",
            MergeField::UnsubscribeLink => "unsubscribe_link",
        }
    }

    /// The name staff see in the editor.
    pub fn label(self) -> &'static str {
        match self {
            MergeField::FirstName => "First Name",
            MergeField::LastName => "Last Name",
            MergeField::FullName => "Full Name",
            MergeField::OrganizationName => "Organisation Name",
            MergeField::Email => "Email",
            MergeField::Username => "Username",
            MergeField::ProfileId => "Profile ID",
            MergeField::CredentialsLink => "Portal Login Credentials Link",
            MergeField::LinkExpires => "Portal Link Expiry",
            MergeField::UnsubscribeLink => "Unsubscribe Link",
        }
    }

    /// What it expands to.
    pub fn description(self) -> &'static str {
        match self {
            MergeField::FirstName => "The person's first name; empty for organisations.",
            MergeField::LastName => "The person's last name; empty for organisations.",
            MergeField::FullName => "The person's first and last name, or the organisation's name.",
            MergeField::OrganizationName => {
                "The organisation's name; for a person, their organisation's."
            }
            MergeField::Email => "The recipient's email address.",
            MergeField::Username => "The portal username; the email address when there is none.",
            MergeField::ProfileId => "The recipient's profile ID.",
            MergeField::CredentialsLink => {
                "\"Username: …\" (the email when there is no username), the recipient's own one-time link to set or reset the portal password, and when that link stops working. [[PORTALLOGINLINK]] works too."
            }
            MergeField::LinkExpires => {
                "When the recipient's set-password link stops working, e.g. \"6 December 2026, 18:00 CET\", in the association's time zone. Only together with the Portal Login Credentials Link."
            }
            MergeField::UnsubscribeLink => {
                "The recipient's own link to stop receiving news from the association. Required in NEWS communications, not allowed in SERVICE ones."
            }
        }
    }

    /// The merge field with this token, if any.
    pub fn from_token(token: &str) -> Option<MergeField> {
        MergeField::ALL.into_iter().find(|f| f.token() == token)
    }
}

/// The token of every merge field, e.g. `first_name`.
pub fn special_field_tokens() -> [&'static str; MergeField::ALL.len()] {
    MergeField::ALL.map(MergeField::token)
}

/// Who a mass communication goes to: chosen profiles, or everyone a filter matches at the
/// moment it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipients {
    /// These profiles, chosen one by one.
    ProfileIds(Vec<ProfileId>),
    /// Every profile the filter matches at the moment of sending.
    Filter(RecipientFilter),
}

/// Which profiles a filtered mass communication goes to; a field left empty does not narrow it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecipientFilter {
    /// Only organisations or only people.
    pub kind: Option<ProfileKind>,
    /// Only profiles with this membership status.
    pub member_status: Option<MemberStatus>,
    /// Only the profiles the quick search finds for this term.
    pub search: Option<String>,
    /// Also the people related to each organisation the filter matches.
    pub include_related_profiles: bool,
    /// Only profiles with (`true`) or without (`false`) a portal username or password.
    pub has_credentials: Option<bool>,
    /// Only profiles with (`true`) or without (`false`) a portal password.
    pub has_password: Option<bool>,
    /// Only profiles that have (`true`) or have never (`false`) signed in.
    pub signed_in: Option<bool>,
    /// Only profiles that signed in at or after this moment.
    pub signed_in_since: Option<DateTime<Utc>>,
    /// Only profiles with one of these membership statuses (empty: any).
    pub member_statuses: Vec<MemberStatus>,
    /// Only the recipients of an earlier communication: the reminder.
    pub from_communication: Option<FollowUp>,
}

impl RecipientFilter {
    /// The conditions on each profile, as the profile list applies them, with the follow-up
    /// judged as of `now`. The search term and related profiles are applied around it.
    pub fn profile_filter(&self, now: DateTime<Utc>) -> crate::domain::ProfileFilter {
        crate::domain::ProfileFilter {
            kind: self.kind,
            member_status: self.member_status,
            has_email: None,
            has_credentials: self.has_credentials,
            has_password: self.has_password,
            signed_in: self.signed_in,
            signed_in_since: self.signed_in_since,
            member_statuses: self.member_statuses.clone(),
            follow_up: self.from_communication.clone().map(|u| (u, now)),
        }
    }
}

/// "Everyone from communication 12 whose link is still unused or expired": who a reminder
/// goes to, judged when it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    /// The earlier communication.
    pub communication: MassCommunicationId,
    /// Only recipients whose link is in one of these states (empty: any).
    pub link_states: Vec<LinkState>,
    /// Only recipients whose delivery has one of these statuses (empty: any).
    pub delivery_statuses: Vec<DeliveryStatus>,
}

/// What a mass communication is for, which decides who may leave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MassPurpose {
    /// Credentials and service notices: every member gets it, opted out of news or not. It
    /// may carry the credentials link and has no unsubscribe link.
    Service,
    /// News and everything else: it must carry the unsubscribe link, its mail has the
    /// one-click unsubscribe headers (RFC 8058), and members who opted out are skipped. It
    /// may not carry the credentials link.
    News,
}

db_enum!(MassPurpose {
    Service => "SERVICE",
    News => "NEWS",
});

/// A sender staff may choose for a mass communication, from the list the settings allow
/// (`MEMBERKEY_MAIL_SENDERS`): the name shown on From and where replies go. The From address
/// itself stays `MEMBERKEY_MAIL_FROM`'s, the identity the provider verified and DKIM signs
/// for, so choosing a sender can never make mail fail authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailSender {
    /// The display name on From, e.g. "Harbour Chamber Events".
    pub name: String,
    /// Where replies go; also what identifies this sender among the allowed ones.
    pub reply_to: super::EmailAddress,
}

/// Where a mass communication stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MassStatus {
    /// Being written; only drafts can be changed or sent.
    Draft,
    /// Sent by staff; its deliveries wait for the worker.
    Queued,
    /// Some deliveries are out, others wait.
    Sending,
    /// Every delivery ended and at least one went out (or none was due).
    Sent,
    /// Staff cancelled it.
    Cancelled,
    /// Every delivery that was due failed.
    Failed,
    /// Too many of its deliveries failed, so it stopped by itself; the rest wait until staff
    /// resume or cancel it.
    Paused,
}

db_enum!(MassStatus {
    Draft => "DRAFT",
    Queued => "QUEUED",
    Sending => "SENDING",
    Sent => "SENT",
    Cancelled => "CANCELLED",
    Failed => "FAILED",
    Paused => "PAUSED",
});

/// A move from one status to another, and the statuses it may start from. The store applies
/// it atomically, so two clicks can never both send a communication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MassTransition {
    /// Changing the content keeps a draft a draft; refused once it was sent.
    Edit,
    /// Staff send a draft.
    Send,
    /// Staff stop it; unsent deliveries are cancelled.
    Cancel,
    /// Failed deliveries are queued again.
    RetryFailed,
    /// Too many deliveries failed: the worker stops it (see `MassPauseRule`).
    Pause,
    /// Staff resume a paused communication.
    Resume,
    /// The delivery worker records that every delivery ended.
    Finish {
        /// Every due delivery failed, so it ends `Failed` instead of `Sent`.
        failed: bool,
    },
}

impl MassTransition {
    /// The statuses it may start from.
    pub fn from(self) -> &'static [MassStatus] {
        use MassStatus::*;
        match self {
            MassTransition::Edit | MassTransition::Send => &[Draft],
            MassTransition::Cancel => &[Draft, Queued, Sending, Paused],
            MassTransition::Pause => &[Queued, Sending],
            MassTransition::Resume => &[Paused],
            MassTransition::RetryFailed => &[Queued, Sending, Sent, Failed],
            MassTransition::Finish { .. } => &[Queued, Sending],
        }
    }

    /// The status it ends in.
    pub fn to(self) -> MassStatus {
        match self {
            MassTransition::Edit => MassStatus::Draft,
            MassTransition::Send | MassTransition::RetryFailed | MassTransition::Resume => {
                MassStatus::Queued
            }
            MassTransition::Pause => MassStatus::Paused,
            MassTransition::Cancel => MassStatus::Cancelled,
            MassTransition::Finish { failed: false } => MassStatus::Sent,
            MassTransition::Finish { failed: true } => MassStatus::Failed,
        }
    }
}

/// When a communication stops itself because its deliveries fail: more than `rate` of its
/// first `window` outcomes failed, or `in_a_row` failed one after another. A failure is a
/// permanent refusal of one message; throttling and retries are not failures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MassPauseRule {
    /// The share of failures (0 to 1) among the first `window` outcomes that pauses it;
    /// `None` turns the rule off.
    pub rate: Option<f64>,
    /// How many first outcomes the rate is judged on.
    pub window: u32,
    /// Failures in a row that pause it; `None` turns the rule off.
    pub in_a_row: Option<u32>,
}

impl Default for MassPauseRule {
    fn default() -> Self {
        Self {
            rate: Some(0.2),
            window: 100,
            in_a_row: Some(50),
        }
    }
}

/// What a communication's failure counters say after some outcomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FailureTally {
    /// Outcomes counted so far, up to the rule's window.
    pub outcomes_seen: u32,
    /// Failures among those.
    pub window_failures: u32,
    /// Failures since the last message that went out.
    pub failure_streak: u32,
}

impl FailureTally {
    /// Counts outcomes in the order they ended (`true` = failed), within `rule`'s window.
    pub fn count(mut self, rule: &MassPauseRule, failed: impl IntoIterator<Item = bool>) -> Self {
        for f in failed {
            if self.outcomes_seen < rule.window {
                self.outcomes_seen += 1;
                self.window_failures += u32::from(f);
            }
            self.failure_streak = if f { self.failure_streak + 1 } else { 0 };
        }
        self
    }

    /// Why the rule pauses the communication now, if it does.
    pub fn pause_reason(&self, rule: &MassPauseRule) -> Option<String> {
        if let Some(rate) = rule.rate
            && f64::from(self.window_failures) > rate * f64::from(rule.window)
        {
            return Some(format!(
                "{} of its first {} deliveries failed (the limit is {:.0}%)",
                self.window_failures,
                rule.window,
                rate * 100.0
            ));
        }
        match rule.in_a_row {
            Some(n) if self.failure_streak >= n => Some(format!(
                "{} deliveries in a row failed",
                self.failure_streak
            )),
            _ => None,
        }
    }
}

/// A mass communication as stored. `html` is already sanitised.
#[derive(Debug, Clone)]
pub struct MassCommunication {
    /// The communication's ID.
    pub id: MassCommunicationId,
    /// The subject line, with merge fields.
    pub subject: String,
    /// The sanitised HTML body, with merge fields.
    pub html: String,
    /// SERVICE or NEWS.
    pub purpose: MassPurpose,
    /// The sender chosen for it; `None` is the default sender.
    pub sender: Option<MailSender>,
    /// Who it goes to.
    pub recipients: Recipients,
    /// How long each recipient's set-password link works.
    pub link_validity: chrono::Duration,
    /// Where it stands, as last stored.
    pub status: MassStatus,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
    /// When staff sent it.
    pub queued_at: Option<DateTime<Utc>>,
    /// When it finished or was cancelled.
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it paused itself, while it is paused.
    pub pause_reason: Option<String>,
    /// When the server sends it by itself; kept once sent, as when it was due.
    pub send_at: Option<DateTime<Utc>>,
    /// Why its scheduled start did not happen, until it is scheduled again or sent.
    pub schedule_problem: Option<String>,
}

/// How a mass communication's deliveries stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryCounts {
    /// Deliveries in all, skipped ones included.
    pub total: i64,
    /// Deliveries waiting for or being handed to the provider.
    pub pending: i64,
    /// Deliveries the provider accepted, including those it later reported on.
    pub sent: i64,
    /// Accepted deliveries the provider reports delivered.
    pub delivered: i64,
    /// Accepted deliveries that bounced for good.
    pub bounced: i64,
    /// Accepted deliveries their recipients reported as spam.
    pub complained: i64,
    /// Deliveries refused for good.
    pub failed: i64,
    /// Deliveries never sent, each with a reason.
    pub skipped: i64,
    /// Deliveries cancelled before they were sent.
    pub cancelled: i64,
}

impl DeliveryCounts {
    /// The status a queued communication has reached, judged from its deliveries.
    pub fn progress(&self, stored: MassStatus) -> MassStatus {
        match stored {
            MassStatus::Queued | MassStatus::Sending => {
                if self.pending > 0 {
                    if self.sent + self.failed > 0 {
                        MassStatus::Sending
                    } else {
                        MassStatus::Queued
                    }
                } else if self.sent == 0 && self.failed > 0 {
                    MassStatus::Failed
                } else {
                    MassStatus::Sent
                }
            }
            other => other,
        }
    }
}

/// Whether a delivery's set-password link was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Not used yet, and still within its lifetime.
    Unused,
    /// The member set a password with it.
    Used,
    /// Its lifetime ran out unused.
    Expired,
    /// A later link or a new password retired it unused.
    Replaced,
}

db_enum!(LinkState {
    Unused => "UNUSED",
    Used => "USED",
    Expired => "EXPIRED",
    Replaced => "REPLACED",
});

impl LinkState {
    /// The state of a link from its token's facts. Used wins; a retired link is replaced
    /// even after its lifetime ran out, since it stopped working first.
    pub fn of(
        used_at: Option<DateTime<Utc>>,
        invalidated_at: Option<DateTime<Utc>>,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> LinkState {
        if used_at.is_some() {
            LinkState::Used
        } else if invalidated_at.is_some() {
            LinkState::Replaced
        } else if expires_at <= now {
            LinkState::Expired
        } else {
            LinkState::Unused
        }
    }
}

/// Which communications a list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MassListFilter {
    /// Only communications with this status.
    pub status: Option<MassStatus>,
    /// Matched anywhere in the subject, ignoring case.
    pub search: Option<String>,
}

/// How a communication's set-password links fared: its conversion.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkCounts {
    /// Links a member set a password with.
    pub used: i64,
    /// Links still waiting, within their lifetime.
    pub unused: i64,
    /// Links whose lifetime ran out unused.
    pub expired: i64,
    /// Links a later link or a new password retired unused.
    pub replaced: i64,
}

/// One recipient's delivery of a mass communication.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The delivery's ID (its outbound message's).
    pub id: OutboundId,
    /// The recipient's profile; `None` once that profile was removed.
    pub profile_id: Option<ProfileId>,
    /// The address it goes to, if there is one.
    pub to_address: Option<String>,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Why it was skipped, if it was.
    pub skip_reason: Option<SkipReason>,
    /// The provider's last error, for failed or retried deliveries.
    pub last_error: Option<String>,
    /// The provider's message ID once sent.
    pub provider_message_id: Option<String>,
    /// Attempts made so far.
    pub attempts: i32,
    /// Whether its worker stopped mid-send, so the member may get it twice.
    pub possible_duplicate: bool,
    /// When the provider accepted it.
    pub sent_at: Option<DateTime<Utc>>,
    /// Where the recipient's set-password link stands; `None` when the message has none.
    pub link_state: Option<LinkState>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_rule_counts_the_first_window_and_the_streak() {
        let rule = MassPauseRule {
            rate: Some(0.2),
            window: 10,
            in_a_row: Some(3),
        };
        // Two failures in the first ten: within the limit, and the streak resets.
        let t = FailureTally::default().count(&rule, [true, false, true, false]);
        assert_eq!(t.pause_reason(&rule), None);
        // A third failure among the first ten is more than 20% of ten.
        let t = t.count(&rule, [true]);
        assert!(t.pause_reason(&rule).unwrap().contains("3 of its first 10"));
        // Outside the window only the streak counts.
        let late = FailureTally::default()
            .count(&rule, [false; 10])
            .count(&rule, [true, true]);
        assert_eq!(late.window_failures, 0);
        assert_eq!(late.pause_reason(&rule), None);
        let late = late.count(&rule, [true]);
        assert_eq!(
            late.pause_reason(&rule).unwrap(),
            "3 deliveries in a row failed"
        );
        // Both rules off: nothing pauses.
        let off = MassPauseRule {
            rate: None,
            window: 10,
            in_a_row: None,
        };
        assert_eq!(late.pause_reason(&off), None);
    }
}
