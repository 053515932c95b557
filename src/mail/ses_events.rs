//! SES's reports about messages it accepted, as they arrive inside SNS notifications: from a
//! configuration set's event destination (`eventType`) or an identity's notifications
//! (`notificationType`). Only what memberkey acts on is read.

use std::collections::HashMap;

use serde::Deserialize;

use crate::domain::{ProviderFeedback, ProviderReport};

/// The tag every message carries with its queue row's ID (see `ses.rs`).
pub const OUTBOUND_ID_TAG: &str = "memberkey_outbound_id";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event {
    event_type: Option<String>,
    notification_type: Option<String>,
    mail: Mail,
    bounce: Option<Bounce>,
    complaint: Option<Complaint>,
    delivery: Option<Delivery>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Mail {
    message_id: String,
    #[serde(default)]
    tags: HashMap<String, Vec<String>>,
    #[serde(default)]
    destination: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bounce {
    bounce_type: String,
    bounce_sub_type: Option<String>,
    #[serde(default)]
    bounced_recipients: Vec<BouncedRecipient>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BouncedRecipient {
    email_address: String,
    status: Option<String>,
    diagnostic_code: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Complaint {
    #[serde(default)]
    complained_recipients: Vec<Recipient>,
    complaint_feedback_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Recipient {
    email_address: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Delivery {
    #[serde(default)]
    recipients: Vec<String>,
    smtp_response: Option<String>,
}

/// What an event says, when it is one memberkey acts on: `None` for sends, opens, clicks,
/// transient bounces and the like. `event_id` is the SNS notification's ID.
pub fn parse(message: &str, event_id: &str) -> Result<Option<ProviderFeedback>, String> {
    let event: Event =
        serde_json::from_str(message).map_err(|e| format!("not an SES event: {e}"))?;
    let kind = event
        .event_type
        .as_deref()
        .or(event.notification_type.as_deref())
        .unwrap_or("");
    let outbound_id = event
        .mail
        .tags
        .get(OUTBOUND_ID_TAG)
        .and_then(|v| v.first())
        .and_then(|v| crate::domain::OutboundId::parse(v).ok());
    let (report, recipients, detail) = match kind {
        "Delivery" => {
            let d = event.delivery;
            let recipients = d
                .as_ref()
                .map(|d| d.recipients.clone())
                .filter(|r| !r.is_empty())
                .unwrap_or(event.mail.destination);
            (
                ProviderReport::Delivered,
                recipients,
                d.and_then(|d| d.smtp_response),
            )
        }
        "Bounce" => {
            let Some(b) = event.bounce else {
                return Err("a Bounce event without its bounce".into());
            };
            // Transient bounces (a full mailbox, greylisting) are retried by SES itself and
            // say nothing lasting about the address.
            if b.bounce_type != "Permanent" {
                return Ok(None);
            }
            let detail = b
                .bounced_recipients
                .iter()
                .find_map(|r| r.diagnostic_code.clone().or(r.status.clone()))
                .unwrap_or_else(|| {
                    format!(
                        "Permanent bounce ({})",
                        b.bounce_sub_type.as_deref().unwrap_or("General")
                    )
                });
            let recipients = b
                .bounced_recipients
                .into_iter()
                .map(|r| r.email_address)
                .collect();
            (ProviderReport::Bounced, recipients, Some(detail))
        }
        "Complaint" => {
            let Some(c) = event.complaint else {
                return Err("a Complaint event without its complaint".into());
            };
            let detail = format!(
                "Marked as spam by the recipient ({})",
                c.complaint_feedback_type.as_deref().unwrap_or("abuse")
            );
            let recipients = c
                .complained_recipients
                .into_iter()
                .map(|r| r.email_address)
                .collect();
            (ProviderReport::Complained, recipients, Some(detail))
        }
        _ => return Ok(None),
    };
    Ok(Some(ProviderFeedback {
        report,
        provider_message_id: event.mail.message_id,
        outbound_id,
        recipients,
        detail,
        event_id: event_id.to_owned(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_permanent_bounce_and_ignores_a_transient_one() {
        let bounce = |kind: &str| {
            serde_json::json!({
                "eventType": "Bounce",
                "mail": { "messageId": "m-1", "tags": { OUTBOUND_ID_TAG: ["42"] }, "destination": ["a@example.org"] },
                "bounce": { "bounceType": kind, "bounceSubType": "General",
                    "bouncedRecipients": [{ "emailAddress": "a@example.org", "status": "5.1.1",
                        "diagnosticCode": "smtp; 550 5.1.1 user unknown" }] }
            })
            .to_string()
        };
        let f = parse(&bounce("Permanent"), "n-1").unwrap().unwrap();
        assert_eq!(f.report, ProviderReport::Bounced);
        assert_eq!(f.outbound_id, Some(crate::domain::OutboundId::from_db(42)));
        assert_eq!(f.provider_message_id, "m-1");
        assert_eq!(f.recipients, ["a@example.org"]);
        assert_eq!(f.detail.as_deref(), Some("smtp; 550 5.1.1 user unknown"));
        assert_eq!(parse(&bounce("Transient"), "n-2").unwrap(), None);
    }

    #[test]
    fn reads_identity_notifications_too() {
        let msg = serde_json::json!({
            "notificationType": "Complaint",
            "mail": { "messageId": "m-2", "destination": ["b@example.org"] },
            "complaint": { "complainedRecipients": [{ "emailAddress": "b@example.org" }],
                "complaintFeedbackType": "abuse" }
        })
        .to_string();
        let f = parse(&msg, "n-3").unwrap().unwrap();
        assert_eq!(f.report, ProviderReport::Complained);
        assert_eq!(f.outbound_id, None);
        assert!(
            parse(r#"{"eventType":"Open","mail":{"messageId":"x"}}"#, "n")
                .unwrap()
                .is_none()
        );
        assert!(parse("[]", "n").is_err());
    }
}
