//! The mail queue's contract: what a queued message is, where a row stands, and why one was
//! skipped. Requests queue an [`OutboundMessage`]; the delivery worker reads the same type
//! back. Only `store::outbound` turns it into stored text and back.

use chrono::{DateTime, Duration, Utc};

use super::{MassCommunicationId, ProfileId, StaffUserId, TokenPurpose};

/// The kind of a queued message, as stored in `outbound_emails.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboundKind {
    /// The "Forgot Login" email with set-password links.
    SetPasswordLinks,
    /// The notice that a password changed.
    PasswordChanged,
    /// One recipient's copy of a mass communication.
    Mass,
    /// A staff member's test copy of a mass communication.
    MassTest,
    /// A staff user's set-password link, sent by an administrator.
    StaffPasswordLink,
}

db_enum!(OutboundKind {
    SetPasswordLinks => "SET_PASSWORD_LINKS",
    PasswordChanged => "PASSWORD_CHANGED",
    Mass => "MASS",
    MassTest => "MASS_TEST",
    StaffPasswordLink => "STAFF_PASSWORD_LINK",
});

/// Where a queued message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Waiting for a worker.
    Queued,
    /// Held by a worker under a lease.
    Sending,
    /// Accepted by the provider.
    Sent,
    /// Refused for good.
    Failed,
    /// Never sent, with a [`SkipReason`].
    Skipped,
    /// Cancelled by staff before it was sent.
    Cancelled,
    /// Accepted, and the provider reports it reached the recipient's mail server.
    Delivered,
    /// Accepted, then bounced for good by the recipient's mail server.
    Bounced,
    /// Accepted and delivered, then reported as spam by the recipient.
    Complained,
}

db_enum!(DeliveryStatus {
    Queued => "QUEUED",
    Sending => "SENDING",
    Sent => "SENT",
    Failed => "FAILED",
    Skipped => "SKIPPED",
    Cancelled => "CANCELLED",
    Delivered => "DELIVERED",
    Bounced => "BOUNCED",
    Complained => "COMPLAINED",
});

impl DeliveryStatus {
    /// The provider took the message: `SENT`, and what its later reports turn that into.
    pub const ACCEPTED: [DeliveryStatus; 4] = [
        DeliveryStatus::Sent,
        DeliveryStatus::Delivered,
        DeliveryStatus::Bounced,
        DeliveryStatus::Complained,
    ];

    /// Statuses a row never leaves by itself: the worker is done with it.
    pub const ENDED: [DeliveryStatus; 7] = [
        DeliveryStatus::Sent,
        DeliveryStatus::Failed,
        DeliveryStatus::Skipped,
        DeliveryStatus::Cancelled,
        DeliveryStatus::Delivered,
        DeliveryStatus::Bounced,
        DeliveryStatus::Complained,
    ];

    /// Whether a worker still has to deal with a row in this status (QUEUED or SENDING): only
    /// such rows have a due time.
    pub fn is_live(self) -> bool {
        !Self::ENDED.contains(&self)
    }

    /// The statuses a provider report may move a row from. Reports arrive in any order, and
    /// each moves a row forward only: a late "delivered" never hides a bounce or complaint.
    pub fn reported_from(report: ProviderReport) -> &'static [DeliveryStatus] {
        match report {
            ProviderReport::Delivered => &[DeliveryStatus::Sent],
            ProviderReport::Bounced => &[DeliveryStatus::Sent, DeliveryStatus::Delivered],
            ProviderReport::Complained => &[
                DeliveryStatus::Sent,
                DeliveryStatus::Delivered,
                DeliveryStatus::Bounced,
            ],
        }
    }
}

/// What the provider reported about an accepted message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderReport {
    /// It reached the recipient's mail server.
    Delivered,
    /// It bounced for good (a permanent bounce; transient ones are not reported here).
    Bounced,
    /// The recipient marked it as spam.
    Complained,
}

impl ProviderReport {
    /// The status a reported row moves to.
    pub fn status(self) -> DeliveryStatus {
        match self {
            ProviderReport::Delivered => DeliveryStatus::Delivered,
            ProviderReport::Bounced => DeliveryStatus::Bounced,
            ProviderReport::Complained => DeliveryStatus::Complained,
        }
    }
}

/// Why a message was never sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// The profile has no email address.
    NoEmailAddress,
    /// Nobody uses the address any more ("Forgot Login" for a vanished account).
    NoAccount,
    /// The recipient's profile was deleted before the message was sent.
    ProfileRemoved,
    /// The profile opted out of mass mail.
    OptedOut,
    /// Another recipient of the same communication has the same address.
    DuplicateAddress,
    /// The address is on the suppression list: it bounced for good or complained.
    Suppressed,
}

db_enum!(SkipReason {
    NoEmailAddress => "NO_EMAIL_ADDRESS",
    NoAccount => "NO_ACCOUNT",
    ProfileRemoved => "PROFILE_REMOVED",
    OptedOut => "OPTED_OUT",
    DuplicateAddress => "DUPLICATE_ADDRESS",
    Suppressed => "SUPPRESSED",
});

/// Whose set-password links a "Forgot Login" email carries. The links are minted when the
/// message is sent, so a queued message holds no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetPasswordLinks {
    /// Every profile the email lists, each with its own link.
    pub profiles: Vec<ProfileId>,
    /// How long each link works from the moment it is sent.
    pub ttl: Duration,
    /// Recorded on each link.
    pub purpose: TokenPurpose,
    /// The staff user who sent it, if any.
    pub issued_by: Option<StaffUserId>,
}

/// A message in the queue, with what the worker needs to render it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboundMessage {
    /// The standard "Forgot Login" email.
    SetPasswordLinks(SetPasswordLinks),
    /// "Your password was changed."
    PasswordChanged {
        /// The login whose password changed.
        login: String,
        /// When it changed.
        changed_at: DateTime<Utc>,
    },
    /// One recipient's copy of a mass communication; the recipient is the row's profile.
    Mass {
        /// The communication's ID.
        communication: MassCommunicationId,
    },
    /// A test copy, with a sample link that grants nothing.
    MassTest {
        /// The communication's ID.
        communication: MassCommunicationId,
        /// Whose values fill the merge fields; sample values when `None`.
        sample: Option<ProfileId>,
    },
    /// A staff user's set-password link; like members' links it is minted when sent.
    StaffPasswordLink {
        /// Whose password the link sets.
        staff_user: StaffUserId,
        /// How long the link works from the moment it is sent.
        ttl: Duration,
        /// The administrator who sent it.
        issued_by: Option<StaffUserId>,
    },
}

impl OutboundMessage {
    /// The stored kind.
    pub fn kind(&self) -> OutboundKind {
        match self {
            OutboundMessage::SetPasswordLinks(_) => OutboundKind::SetPasswordLinks,
            OutboundMessage::PasswordChanged { .. } => OutboundKind::PasswordChanged,
            OutboundMessage::Mass { .. } => OutboundKind::Mass,
            OutboundMessage::MassTest { .. } => OutboundKind::MassTest,
            OutboundMessage::StaffPasswordLink { .. } => OutboundKind::StaffPasswordLink,
        }
    }
}

/// The whole queue is paused: the provider refused the account or the sender itself, so no
/// message can go out until someone fixes that and resumes delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryPause {
    /// When the first refusal paused it.
    pub since: chrono::DateTime<chrono::Utc>,
    /// The provider's refusal, as it said it.
    pub reason: String,
}
