//! The suppression list and the provider reports that fill it. A permanent bounce or a
//! complaint puts the address on the list; mass mail skips it, and account mail to an address
//! that bounced is refused with a clear error instead of being sent into the void.

use chrono::{DateTime, Utc};

use super::ProviderReport;

/// Why an address is on the suppression list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuppressionReason {
    /// A message to it bounced for good: the mailbox does not exist or refuses mail.
    Bounce,
    /// Its owner reported a message as spam.
    Complaint,
}

db_enum!(SuppressionReason {
    Bounce => "BOUNCE",
    Complaint => "COMPLAINT",
});

/// An address on the suppression list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// The address as the provider reported it.
    pub address: String,
    /// Why it is suppressed.
    pub reason: SuppressionReason,
    /// The provider's diagnostic (a bounce's SMTP reply, a complaint's feedback type).
    pub detail: Option<String>,
    /// The provider's notification ID, for tracing it to the event.
    pub event_id: Option<String>,
    /// The queued message the report was about, when it was one of ours.
    pub outbound_email_id: Option<i64>,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

/// One report from the provider about a message it accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderFeedback {
    /// What happened to it.
    pub report: ProviderReport,
    /// The provider's ID of the message, as `send` returned it.
    pub provider_message_id: String,
    /// The queue row, from the tag memberkey puts on every message.
    pub outbound_id: Option<crate::domain::OutboundId>,
    /// The recipients the report is about.
    pub recipients: Vec<String>,
    /// The diagnostic: a bounce's SMTP status and reply, a complaint's feedback type.
    pub detail: Option<String>,
    /// The notification's own ID.
    pub event_id: String,
}

impl ProviderFeedback {
    /// Whether the report puts its recipients on the suppression list, and why.
    pub fn suppresses(&self) -> Option<SuppressionReason> {
        match self.report {
            ProviderReport::Delivered => None,
            ProviderReport::Bounced => Some(SuppressionReason::Bounce),
            ProviderReport::Complained => Some(SuppressionReason::Complaint),
        }
    }
}
