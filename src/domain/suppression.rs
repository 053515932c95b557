//! The suppression list and the provider reports that fill it. A permanent bounce or a
//! complaint puts the address on the list; mass mail skips it, and account mail to an address
//! that bounced is refused with a clear error instead of being sent into the void.

use chrono::{DateTime, Utc};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{ProviderReport, search_key};

/// A keyed hash (HMAC-SHA256) for what must still be recognised after the value itself is
/// erased: an erased member's suppressed address. Without the key, which is derived from the
/// sealing key and never stored in the database, a guessed address cannot be checked
/// against a copy of the database.
#[derive(Clone)]
pub struct Pseudonyms(aws_lc_rs::hmac::Key);

impl std::fmt::Debug for Pseudonyms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonyms(<key redacted>)")
    }
}

impl Pseudonyms {
    /// The pseudonym key derived from a root key (the sealing key).
    pub fn derive(root: &[u8; 32]) -> Self {
        use aws_lc_rs::hmac;
        let derived = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, root),
            b"memberkey pseudonyms v1",
        );
        Self(hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()))
    }

    /// The pseudonym of `value`: `erased:` and the base64url tag.
    pub fn of(&self, value: &str) -> String {
        let tag = aws_lc_rs::hmac::sign(&self.0, value.as_bytes());
        format!("erased:{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// A profile's unsubscribe token: its ID and a 128-bit tag over it, so the link names one
    /// member and cannot be made for another. It carries no credential: it can only opt its
    /// member out of news.
    pub fn unsubscribe_token(&self, profile: super::ProfileId) -> String {
        format!("{}-{}", profile.get(), self.unsubscribe_tag(profile))
    }

    /// The member an unsubscribe token names; `None` for a guessed or altered one.
    pub fn unsubscribe_profile(&self, token: &str) -> Option<super::ProfileId> {
        use subtle::ConstantTimeEq;
        let (id, tag) = token.split_once('-')?;
        let id: i64 = id.parse().ok().filter(|n| *n > 0)?;
        let profile = super::ProfileId::from_db(id);
        let expected = self.unsubscribe_tag(profile);
        bool::from(expected.as_bytes().ct_eq(tag.as_bytes())).then_some(profile)
    }

    fn unsubscribe_tag(&self, profile: super::ProfileId) -> String {
        let tag = aws_lc_rs::hmac::sign(
            &self.0,
            format!("unsubscribe\0{}", profile.get()).as_bytes(),
        );
        URL_SAFE_NO_PAD.encode(&tag.as_ref()[..16])
    }
}

/// The two keys the suppression list may hold an address under: its search key, and its
/// pseudonym once the person it belonged to was erased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressKeys {
    /// The address's search key (`search_key`).
    pub plain: String,
    /// The pseudonym of the search key.
    pub erased: String,
}

impl AddressKeys {
    /// Both keys of `address`, in any spelling.
    pub fn new(address: &str, pseudonyms: &Pseudonyms) -> Self {
        let plain = search_key(address);
        let erased = pseudonyms.of(&plain);
        Self { plain, erased }
    }
}

/// What an erased suppression shows instead of its address.
pub const ERASED_ADDRESS: &str = "(erased address)";

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_keyed_stable_and_fold_the_spelling() {
        let a = Pseudonyms::derive(&[7; 32]);
        let b = Pseudonyms::derive(&[8; 32]);
        let keys = AddressKeys::new("Maria@Harbour.example", &a);
        assert_eq!(keys, AddressKeys::new("maria@harbour.example", &a));
        assert_eq!(keys.plain, "maria@harbour.example");
        assert_ne!(
            keys.erased,
            AddressKeys::new("mario@harbour.example", &a).erased
        );
        assert_ne!(
            keys.erased,
            AddressKeys::new("maria@harbour.example", &b).erased
        );
        assert!(keys.erased.starts_with("erased:") && !keys.erased.contains("maria"));
    }

    #[test]
    fn unsubscribe_tokens_name_one_member_and_resist_tampering() {
        use crate::domain::ProfileId;
        let a = Pseudonyms::derive(&[7; 32]);
        let b = Pseudonyms::derive(&[8; 32]);
        let token = a.unsubscribe_token(ProfileId::from_db(42));
        assert!(token.starts_with("42-"));
        assert_eq!(a.unsubscribe_profile(&token), Some(ProfileId::from_db(42)));
        // Another member's ID with this tag, another key, a cut or altered tag: nothing.
        let other = token.replacen("42-", "43-", 1);
        assert_eq!(a.unsubscribe_profile(&other), None);
        assert_eq!(b.unsubscribe_profile(&token), None);
        assert_eq!(a.unsubscribe_profile(&token[..token.len() - 1]), None);
        assert_eq!(a.unsubscribe_profile("42"), None);
        assert_eq!(a.unsubscribe_profile("-1-abc"), None);
    }
}
