//! Amazon SNS HTTP(S) notifications, the way SES reports bounces, complaints and deliveries:
//! the message format, its signature (versions 1, SHA1, and 2, SHA256), and the signing
//! certificates, fetched only from SNS's own `https://sns.<region>.amazonaws.com/` host and
//! cached. A message is trusted only once its signature checks against such a certificate.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use aws_lc_rs::signature::{self, UnparsedPublicKey};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The kinds of message SNS posts to an HTTP(S) subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum SnsType {
    /// A subscription waits to be confirmed by fetching its `SubscribeURL`.
    SubscriptionConfirmation,
    /// A message published to the topic.
    Notification,
    /// The subscription was removed.
    UnsubscribeConfirmation,
}

/// One SNS message as posted, with the fields its signature covers.
#[derive(Debug, Clone, Deserialize)]
pub struct SnsMessage {
    #[serde(rename = "Type")]
    pub kind: SnsType,
    #[serde(rename = "MessageId")]
    pub message_id: String,
    #[serde(rename = "TopicArn")]
    pub topic_arn: String,
    #[serde(rename = "Subject")]
    pub subject: Option<String>,
    #[serde(rename = "Message")]
    pub message: String,
    #[serde(rename = "Timestamp")]
    pub timestamp: String,
    #[serde(rename = "Token")]
    pub token: Option<String>,
    #[serde(rename = "SubscribeURL")]
    pub subscribe_url: Option<String>,
    #[serde(rename = "SignatureVersion")]
    pub signature_version: Option<String>,
    #[serde(rename = "Signature")]
    pub signature: Option<String>,
    #[serde(rename = "SigningCertURL")]
    pub signing_cert_url: Option<String>,
}

impl SnsMessage {
    /// Reads a posted body. SNS sends JSON as `text/plain`, so the media type is not checked.
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(body).map_err(|e| format!("not an SNS message: {e}"))
    }

    /// The text the signature is over: the covered fields, each as its name and value on
    /// lines of their own, in the order SNS documents for the message's type.
    pub fn string_to_sign(&self) -> String {
        let mut out = String::new();
        let mut field = |name: &str, value: &str| {
            out.push_str(name);
            out.push('\n');
            out.push_str(value);
            out.push('\n');
        };
        field("Message", &self.message);
        field("MessageId", &self.message_id);
        match self.kind {
            SnsType::Notification => {
                if let Some(subject) = &self.subject {
                    field("Subject", subject);
                }
            }
            SnsType::SubscriptionConfirmation | SnsType::UnsubscribeConfirmation => {
                field("SubscribeURL", self.subscribe_url.as_deref().unwrap_or(""));
            }
        }
        field("Timestamp", &self.timestamp);
        if self.kind != SnsType::Notification {
            field("Token", self.token.as_deref().unwrap_or(""));
        }
        field("TopicArn", &self.topic_arn);
        field(
            "Type",
            match self.kind {
                SnsType::SubscriptionConfirmation => "SubscriptionConfirmation",
                SnsType::Notification => "Notification",
                SnsType::UnsubscribeConfirmation => "UnsubscribeConfirmation",
            },
        );
        out
    }
}

/// Why a message is not trusted. Each is answered with 403 and counted in the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Untrusted {
    #[error("the message is not signed")]
    Unsigned,
    #[error("signature version {0:?} is not 1 or 2")]
    UnknownVersion(String),
    #[error("the signing certificate {0:?} is not on an SNS host")]
    CertificateHost(String),
    #[error("the signing certificate could not be used: {0}")]
    Certificate(String),
    #[error("the signature does not match")]
    BadSignature,
    #[error("the topic {0:?} is not one of MEMBERKEY_SES_SNS_TOPICS")]
    UnknownTopic(String),
    #[error("the message's Timestamp {0:?} is more than an hour old, in the future, or unreadable")]
    Stale(String),
}

/// How old a message may be: SNS retries a delivery for well under an hour, so anything
/// older is a replay.
pub const MAX_MESSAGE_AGE: chrono::Duration = chrono::Duration::hours(1);
/// Clock skew allowed for a Timestamp in the future.
const MAX_CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(5);

/// Refuses a message whose `Timestamp` is not within the last hour at `now`.
fn check_timestamp(msg: &SnsMessage, now: DateTime<Utc>) -> Result<(), Untrusted> {
    let at = DateTime::parse_from_rfc3339(msg.timestamp.trim())
        .map_err(|_| Untrusted::Stale(msg.timestamp.clone()))?
        .with_timezone(&Utc);
    if at > now + MAX_CLOCK_SKEW || now - at > MAX_MESSAGE_AGE {
        return Err(Untrusted::Stale(msg.timestamp.clone()));
    }
    Ok(())
}

/// Whether a URL is on an SNS host: `https://sns.<region>.amazonaws.com/…` (or `.com.cn`),
/// with no port or user name, or on one of the origins a test allowed.
fn on_sns_host(url: &str, extra_origins: &[String]) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    if extra_origins
        .iter()
        .any(|o| parsed.origin().ascii_serialization() == o.trim_end_matches('/'))
    {
        return true;
    }
    if parsed.scheme() != "https"
        || parsed.port().is_some()
        || !parsed.username().is_empty()
        || parsed.password().is_some()
    {
        return false;
    }
    let Some(host) = parsed.host_str() else {
        return false;
    };
    let region = host
        .strip_prefix("sns.")
        .and_then(|h| {
            h.strip_suffix(".amazonaws.com")
                .or_else(|| h.strip_suffix(".amazonaws.com.cn"))
        })
        .unwrap_or("");
    !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A signing certificate's public key, and until when the certificate is valid.
#[derive(Clone)]
struct SigningKey {
    /// The DER `RSAPublicKey` from the certificate.
    public_key: Vec<u8>,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
}

/// Certificates kept at most: SNS signs with one per region at a time.
const CACHED_CERTIFICATES: usize = 32;
/// A certificate URL that could not be fetched or read is not tried again for this long, so
/// forged messages naming it cost one fetch, not one each.
const FAILED_FETCH_TTL: Duration = Duration::from_secs(600);
/// Failed URLs remembered at most.
const CACHED_FAILURES: usize = 256;
/// A signing certificate is a few kilobytes; anything much larger is not one.
const MAX_CERTIFICATE_BYTES: usize = 64 * 1024;

/// Checks SNS messages, with a cache of the signing certificates it has fetched.
pub struct SnsVerifier {
    http: reqwest::Client,
    keys: Mutex<HashMap<String, SigningKey>>,
    /// Certificate URLs that failed, with when and why.
    failures: Mutex<HashMap<String, (std::time::Instant, String)>>,
    /// Origins trusted besides SNS's hosts; only tests set them.
    extra_origins: Vec<String>,
}

impl SnsVerifier {
    /// A verifier trusting SNS's hosts, and `extra_origins` (for tests, which serve their own
    /// certificate locally; empty in service).
    pub fn new(extra_origins: Vec<String>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            // A certificate URL that redirects could lead anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            http,
            keys: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
            extra_origins,
        }
    }

    /// Checks the message's signature against its signing certificate at `now`.
    pub async fn verify(&self, msg: &SnsMessage, now: DateTime<Utc>) -> Result<(), Untrusted> {
        let (Some(version), Some(signature), Some(cert_url)) = (
            msg.signature_version.as_deref(),
            msg.signature.as_deref(),
            msg.signing_cert_url.as_deref(),
        ) else {
            return Err(Untrusted::Unsigned);
        };
        let algorithm: &'static dyn signature::VerificationAlgorithm = match version {
            "1" => &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            "2" => &signature::RSA_PKCS1_2048_8192_SHA256,
            other => return Err(Untrusted::UnknownVersion(other.to_owned())),
        };
        check_timestamp(msg, now)?;
        if !on_sns_host(cert_url, &self.extra_origins) {
            return Err(Untrusted::CertificateHost(cert_url.to_owned()));
        }
        let signature = base64::engine::general_purpose::STANDARD
            .decode(signature.trim())
            .map_err(|_| Untrusted::BadSignature)?;
        let key = self.signing_key(cert_url).await?;
        if now < key.not_before || now > key.not_after {
            return Err(Untrusted::Certificate(format!(
                "it is valid from {} to {} only",
                key.not_before, key.not_after
            )));
        }
        UnparsedPublicKey::new(algorithm, &key.public_key)
            .verify(msg.string_to_sign().as_bytes(), &signature)
            .map_err(|_| Untrusted::BadSignature)
    }

    /// The key of the certificate at `url`, from the cache or fetched once. A failure is
    /// remembered too, for [`FAILED_FETCH_TTL`].
    async fn signing_key(&self, url: &str) -> Result<SigningKey, Untrusted> {
        if let Some(key) = lock(&self.keys).get(url) {
            return Ok(key.clone());
        }
        if let Some((at, why)) = lock(&self.failures).get(url)
            && at.elapsed() < FAILED_FETCH_TTL
        {
            return Err(Untrusted::Certificate(format!(
                "{why} (not tried again yet)"
            )));
        }
        let fetched = match self.fetch(url, MAX_CERTIFICATE_BYTES).await {
            Ok(pem) => parse_certificate(&pem),
            Err(e) => Err(e),
        };
        let key = match fetched {
            Ok(key) => key,
            Err(why) => {
                let mut failures = lock(&self.failures);
                if failures.len() >= CACHED_FAILURES {
                    failures.clear();
                }
                failures.insert(url.to_owned(), (std::time::Instant::now(), why.clone()));
                return Err(Untrusted::Certificate(why));
            }
        };
        let mut keys = lock(&self.keys);
        if keys.len() >= CACHED_CERTIFICATES {
            keys.clear();
        }
        keys.insert(url.to_owned(), key.clone());
        Ok(key)
    }

    /// Confirms a subscription by fetching its `SubscribeURL`, which must be on an SNS host.
    pub async fn confirm_subscription(&self, msg: &SnsMessage) -> Result<(), String> {
        let url = msg
            .subscribe_url
            .as_deref()
            .ok_or("the confirmation has no SubscribeURL")?;
        if !on_sns_host(url, &self.extra_origins) {
            return Err(format!("the SubscribeURL {url:?} is not on an SNS host"));
        }
        self.fetch(url, MAX_CERTIFICATE_BYTES).await.map(|_| ())
    }

    async fn fetch(&self, url: &str, max: usize) -> Result<Vec<u8>, String> {
        let mut resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("{url} answered {}", resp.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| format!("{url}: {e}"))? {
            if body.len() + chunk.len() > max {
                return Err(format!("{url} sent more than {max} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Reads a PEM certificate: its RSA public key and validity.
fn parse_certificate(pem: &[u8]) -> Result<SigningKey, String> {
    use x509_cert::der::DecodePem;
    let cert =
        x509_cert::Certificate::from_pem(pem).map_err(|e| format!("not a certificate: {e}"))?;
    let tbs = &cert.tbs_certificate;
    let spki = &tbs.subject_public_key_info;
    // rsaEncryption: SNS signs with RSA keys only.
    if spki.algorithm.oid.to_string() != "1.2.840.113549.1.1.1" {
        return Err("the certificate's key is not an RSA key".into());
    }
    let public_key = spki
        .subject_public_key
        .as_bytes()
        .ok_or("the certificate's key is malformed")?
        .to_vec();
    let time = |t: x509_cert::time::Time| DateTime::<Utc>::from(t.to_system_time());
    Ok(SigningKey {
        public_key,
        not_before: time(tbs.validity.not_before),
        not_after: time(tbs.validity.not_after),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sns_hosts_may_serve_certificates() {
        let none: Vec<String> = Vec::new();
        for ok in [
            "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
            "https://sns.eu-central-1.amazonaws.com/x.pem",
            "https://sns.cn-north-1.amazonaws.com.cn/x.pem",
        ] {
            assert!(on_sns_host(ok, &none), "{ok}");
        }
        for bad in [
            "http://sns.us-east-1.amazonaws.com/x.pem",
            "https://sns.us-east-1.amazonaws.com:8443/x.pem",
            "https://sns.us-east-1.amazonaws.com.evil.example/x.pem",
            "https://evil.example/sns.us-east-1.amazonaws.com/x.pem",
            "https://user@sns.us-east-1.amazonaws.com/x.pem",
            "https://sns..amazonaws.com/x.pem",
            "https://sns.us_east.amazonaws.com/x.pem",
            "https://s3.amazonaws.com/x.pem",
            "not a url",
        ] {
            assert!(!on_sns_host(bad, &none), "{bad}");
        }
        let test = vec!["http://127.0.0.1:4567".to_owned()];
        assert!(on_sns_host("http://127.0.0.1:4567/cert.pem", &test));
        assert!(!on_sns_host("http://127.0.0.1:4568/cert.pem", &test));
    }

    #[test]
    fn the_signed_text_follows_the_documented_order() {
        let msg = SnsMessage {
            kind: SnsType::Notification,
            message_id: "m".into(),
            topic_arn: "arn".into(),
            subject: None,
            message: "hello".into(),
            timestamp: "t".into(),
            token: None,
            subscribe_url: None,
            signature_version: None,
            signature: None,
            signing_cert_url: None,
        };
        assert_eq!(
            msg.string_to_sign(),
            "Message\nhello\nMessageId\nm\nTimestamp\nt\nTopicArn\narn\nType\nNotification\n"
        );
        let confirm = SnsMessage {
            kind: SnsType::SubscriptionConfirmation,
            token: Some("tok".into()),
            subscribe_url: Some("https://sns/x".into()),
            ..msg
        };
        assert_eq!(
            confirm.string_to_sign(),
            "Message\nhello\nMessageId\nm\nSubscribeURL\nhttps://sns/x\nTimestamp\nt\nToken\ntok\nTopicArn\narn\nType\nSubscriptionConfirmation\n"
        );
    }
}
