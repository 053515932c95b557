//! Amazon SES v2. Each message is sent whole (raw RFC 5322, built like the outbox's) with
//! `SendEmail`, to exactly one recipient. The SDK makes one attempt; the queue owns retries.

use aws_sdk_sesv2::config::{Credentials, Region, retry::RetryConfig};
use aws_sdk_sesv2::error::SdkError;
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, MessageTag, RawMessage};

use super::{Envelope, MailTransport, OutgoingEmail, SendError};
use crate::config::MailSettings;

pub struct SesTransport {
    client: aws_sdk_sesv2::Client,
    envelope: Envelope,
    configuration_set: Option<String>,
}

impl SesTransport {
    /// Builds the client from the settings. Credentials come from the standard AWS chain
    /// (environment, profile, instance role) unless `credentials` is given.
    pub async fn new(
        settings: &MailSettings,
        envelope: Envelope,
        credentials: Option<Credentials>,
    ) -> Self {
        Self {
            client: client(settings, credentials).await,
            envelope,
            configuration_set: settings.ses_configuration_set.clone(),
        }
    }
}

/// The SES v2 client the settings describe: their region and endpoint, one attempt per call.
/// Credentials come from the standard AWS chain unless `credentials` is given.
pub async fn client(
    settings: &MailSettings,
    credentials: Option<Credentials>,
) -> aws_sdk_sesv2::Client {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(Region::new(settings.ses_region.clone()))
        .retry_config(RetryConfig::standard().with_max_attempts(1));
    if let Some(c) = credentials {
        loader = loader.credentials_provider(c);
    }
    let shared = loader.load().await;
    let mut config = aws_sdk_sesv2::config::Builder::from(&shared);
    if let Some(endpoint) = &settings.ses_endpoint {
        config = config.endpoint_url(endpoint);
    }
    aws_sdk_sesv2::Client::from_conf(config.build())
}

#[async_trait::async_trait]
impl MailTransport for SesTransport {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, SendError> {
        let raw = self.envelope.message(email)?.formatted();
        let content = EmailContent::builder()
            .raw(
                RawMessage::builder()
                    .data(Blob::new(raw))
                    .build()
                    .map_err(|e| SendError::Permanent(e.to_string()))?,
            )
            .build();
        let tag = MessageTag::builder()
            .name(super::ses_events::OUTBOUND_ID_TAG)
            .value(email.outbound_id.to_string())
            .build()
            .map_err(|e| SendError::Permanent(e.to_string()))?;
        let result = self
            .client
            .send_email()
            .from_email_address(self.envelope.from.email.to_string())
            .destination(Destination::builder().to_addresses(&email.to).build())
            .content(content)
            .email_tags(tag)
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await;
        match result {
            Ok(out) => Ok(out.message_id().unwrap_or_default().to_owned()),
            Err(e) => Err(classify(e)),
        }
    }
}

/// Whether a rejection is about the sender or the account rather than the message: SES
/// rejects every message of a sender that is not verified ("Email address is not verified"),
/// and in the sandbox every message to an unverified recipient; a sender without sending
/// authorisation is refused as "not authorized to send from" (the SES v2 emulator says "Did
/// not have authority to send from"). Failing each message for it would fail them all.
fn refuses_the_sender(text: &str) -> bool {
    let text = text.to_ascii_lowercase();
    [
        "not verified",
        "not authorized to send from",
        "authority to send from",
    ]
    .iter()
    .any(|phrase| text.contains(phrase))
}

/// Sorts SES failures into what the queue does next: wait and retry, or record and stop.
fn classify(err: SdkError<SendEmailError>) -> SendError {
    let mut text = aws_sdk_sesv2::error::DisplayErrorContext(&err).to_string();
    if let SdkError::ServiceError(service) = &err {
        // What SES said, in one line ("MessageRejected: Email address is not verified…"),
        // for the delivery's error and the pause reason staff read; not the whole response.
        use aws_sdk_sesv2::error::ProvideErrorMetadata;
        let e = service.err();
        if let (Some(code), Some(message)) = (e.code(), e.message()) {
            text = format!("{code}: {message}");
        }
    }
    match &err {
        SdkError::ServiceError(service) => match service.err() {
            SendEmailError::TooManyRequestsException(_)
            | SendEmailError::LimitExceededException(_) => SendError::Throttled(text),
            SendEmailError::MailFromDomainNotVerifiedException(_)
            | SendEmailError::AccountSuspendedException(_)
            | SendEmailError::SendingPausedException(_) => SendError::AccountRefused(text),
            SendEmailError::MessageRejected(_) if refuses_the_sender(&text) => {
                SendError::AccountRefused(text)
            }
            SendEmailError::MessageRejected(_)
            | SendEmailError::BadRequestException(_)
            | SendEmailError::NotFoundException(_) => SendError::Permanent(text),
            _ => {
                let status = service.raw().status().as_u16();
                if status == 429 {
                    SendError::Throttled(text)
                } else if status >= 500 {
                    SendError::Transient(text)
                } else {
                    SendError::Permanent(text)
                }
            }
        },
        // Not sent at all (no connection, bad request building): safe to retry.
        SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) => {
            SendError::Transient(text)
        }
        // Sent, but no usable answer: SES may have taken it.
        _ => SendError::Uncertain(text),
    }
}

#[cfg(test)]
mod tests {
    use super::refuses_the_sender;

    #[test]
    fn sender_refusals_are_told_from_message_refusals() {
        for text in [
            "MessageRejected: Email address is not verified. The following identities failed the check in region US-EAST-1: no-reply@chamber.example",
            "MessageRejected: User arn:aws:iam::1:user/x is not authorized to send from `chamber.example'",
            "MessageRejected: Did not have authority to send from email no-reply@chamber.example",
        ] {
            assert!(refuses_the_sender(text), "{text}");
        }
        for text in [
            "MessageRejected: Email address contains an invalid character",
            "MessageRejected: Illegal header",
        ] {
            assert!(!refuses_the_sender(text), "{text}");
        }
    }
}
