//! Outgoing mail: the `MailTransport` trait and its providers, the RFC 5322 message builder
//! they share, and the fixed system templates.

pub mod html_text;
pub mod links;
pub mod mass;
pub mod memory;
pub mod outbox;
pub mod ses;
pub mod ses_events;
pub mod smtp;
pub mod sns;
pub mod templates;

use std::str::FromStr;

use lettre::message::{Mailbox, Message, MultiPart};

/// One rendered message for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    /// Identifies the queue row, for reconciling a provider's events with our rows.
    pub outbound_id: crate::domain::OutboundId,
    /// The recipient's unsubscribe page, for NEWS: the message then carries the one-click
    /// unsubscribe headers (RFC 8058) pointing there.
    pub unsubscribe: Option<String>,
    /// The sender staff chose for a mass communication; `None` is the default sender.
    pub sender: Option<crate::domain::MailSender>,
}

/// Why a provider did not take a message. The queue retries throttled and transient
/// failures and records permanent ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("throttled by the provider: {0}")]
    Throttled(String),
    #[error("transient failure: {0}")]
    Transient(String),
    /// The request went out but no answer came back (a timeout, a broken response): the
    /// provider may have accepted the message. It is retried and marked a possible duplicate.
    #[error("no answer, the provider may have accepted it: {0}")]
    Uncertain(String),
    #[error("permanent failure: {0}")]
    Permanent(String),
    /// The provider refuses the account or the sender itself (suspended, sending paused, the
    /// sender not verified): no message can go out until that is fixed, so the queue pauses
    /// instead of failing the messages one by one.
    #[error("the provider refuses this account or sender: {0}")]
    AccountRefused(String),
}

/// A mail provider. `send` returns the provider's message ID.
#[async_trait::async_trait]
pub trait MailTransport: Send + Sync {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, SendError>;
}

/// Sender details every message carries; fixed by configuration, never by a request.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
}

impl Envelope {
    pub fn new(from: &str, reply_to: Option<&str>) -> Result<Self, String> {
        let from = Mailbox::from_str(from).map_err(|e| format!("sender {from:?}: {e}"))?;
        let reply_to = reply_to
            .map(|r| Mailbox::from_str(r).map_err(|e| format!("reply-to {r:?}: {e}")))
            .transpose()?;
        Ok(Self { from, reply_to })
    }

    /// Builds the RFC 5322 message: one recipient, multipart/alternative text and HTML.
    /// lettre encodes the subject, so no CR or LF in it can start a new header.
    pub fn message(&self, email: &OutgoingEmail) -> Result<Message, SendError> {
        let to = Mailbox::from_str(&email.to)
            .map_err(|e| SendError::Permanent(format!("recipient address: {e}")))?;
        let domain = self.from.email.domain().to_owned();
        // A chosen sender changes the name on From and the Reply-To, never the From address:
        // that stays the identity the provider verified and DKIM signs for.
        let (from, reply_to) = match &email.sender {
            Some(s) => {
                let reply_to = lettre::Address::from_str(s.reply_to.as_str())
                    .map_err(|e| SendError::Permanent(format!("sender's reply address: {e}")))?;
                (
                    Mailbox::new(Some(s.name.clone()), self.from.email.clone()),
                    Some(Mailbox::new(None, reply_to)),
                )
            }
            None => (self.from.clone(), self.reply_to.clone()),
        };
        // Unsubscribe requests by mail go where people read replies, not to a no-reply box.
        let unsubscribe_to = reply_to
            .as_ref()
            .map_or_else(|| from.email.to_string(), |r| r.email.to_string());
        let mut builder = Message::builder()
            .from(from)
            .to(to)
            .subject(one_line(&email.subject))
            .message_id(Some(format!(
                "<{}.{}@{domain}>",
                email.outbound_id,
                uuid::Uuid::new_v4().simple()
            )));
        if let Some(r) = reply_to {
            builder = builder.reply_to(r);
        }
        if let Some(url) = &email.unsubscribe {
            // RFC 2369 and RFC 8058: the page (one POST unsubscribes) and a mail to the
            // sender, which staff act on by hand.
            let token = url.rsplit('/').next().unwrap_or_default();
            builder = builder
                .header(ListUnsubscribe(format!(
                    "<{url}>, <mailto:{unsubscribe_to}?subject=unsubscribe%20{token}>"
                )))
                .header(ListUnsubscribePost);
        }
        builder
            .multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                email.html.clone(),
            ))
            .map_err(|e| SendError::Permanent(format!("message could not be built: {e}")))
    }
}

/// `List-Unsubscribe` (RFC 2369): where a mail program sends the member who unsubscribes.
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058): one POST to the https
/// address unsubscribes, with no page in between.
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl lettre::message::header::Header for ListUnsubscribe {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

impl lettre::message::header::Header for ListUnsubscribePost {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".into())
    }
}

/// Folds every kind of line break and control character into a space, for headers.
pub fn one_line(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_cannot_be_injected_through_the_subject() {
        let env = Envelope::new("Chamber <no-reply@chamber.example>", None).unwrap();
        let email = OutgoingEmail {
            to: "m@example.org".into(),
            subject: "Hello\r\nBcc: attacker@evil.example\u{2028}x".into(),
            html: "<p>hi</p>".into(),
            text: "hi".into(),
            outbound_id: crate::domain::OutboundId::from_db(1),
            unsubscribe: None,
            sender: None,
        };
        let raw = String::from_utf8(env.message(&email).unwrap().formatted()).unwrap();
        assert!(!raw.contains("\nBcc:"), "{raw}");
        assert_eq!(
            raw.matches("\nTo: ").count() + raw.starts_with("To: ") as usize,
            1
        );
    }

    #[test]
    fn a_chosen_sender_changes_the_name_and_reply_to_but_never_the_address() {
        let env = Envelope::new(
            "Chamber <no-reply@chamber.example>",
            Some("office@chamber.example"),
        )
        .unwrap();
        let email = OutgoingEmail {
            to: "m@example.org".into(),
            subject: "Summer fair".into(),
            html: "<p>hi</p>".into(),
            text: "hi".into(),
            outbound_id: crate::domain::OutboundId::from_db(1),
            unsubscribe: Some("https://members.example.org/portal/unsubscribe/t0k".into()),
            sender: Some(crate::domain::MailSender {
                name: "Chamber Events".into(),
                reply_to: crate::domain::EmailAddress::parse("events@chamber.example").unwrap(),
            }),
        };
        let raw = String::from_utf8(env.message(&email).unwrap().formatted()).unwrap();
        assert!(
            raw.contains("From: \"Chamber Events\" <no-reply@chamber.example>\r\n"),
            "{raw}"
        );
        assert!(
            raw.contains("Reply-To: events@chamber.example\r\n"),
            "{raw}"
        );
        assert!(!raw.contains("office@"), "{raw}");
        assert!(
            raw.contains("<mailto:events@chamber.example?subject=unsubscribe%20t0k>"),
            "{raw}"
        );
    }
}
