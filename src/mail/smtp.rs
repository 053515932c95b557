//! The SMTP transport: lettre's async client with a pool of connections, for any SMTP
//! server (Microsoft 365, Google Workspace, the host's, a provider's relay). TLS is rustls on
//! aws-lc-rs with the system's roots, plus a private CA when one is configured. Every message
//! may be DKIM-signed (RSA-SHA256, relaxed/relaxed).

use base64::Engine;
use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use lettre::message::header::HeaderName;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::{Error as SmtpError, PoolConfig};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{Envelope, MailTransport, OutgoingEmail, SendError};
use crate::config::{DkimSettings, SmtpSettings};

pub struct SmtpTransport {
    client: AsyncSmtpTransport<Tokio1Executor>,
    envelope: Envelope,
    dkim: Option<DkimConfig>,
}

impl SmtpTransport {
    /// A pooled client for the server, holding up to `connections` connections (the worker's
    /// concurrency). Connects lazily: nothing is dialled until the first message.
    pub fn new(
        settings: &SmtpSettings,
        envelope: Envelope,
        connections: u32,
    ) -> Result<Self, String> {
        Ok(Self {
            client: client(settings, connections)?,
            envelope,
            dkim: settings.dkim.as_ref().map(dkim_config).transpose()?,
        })
    }

    /// Connects, says EHLO, starts TLS and signs in, then says NOOP and sends nothing: what
    /// `memberkey check` runs.
    pub async fn check(&self) -> Result<(), SendError> {
        match self.client.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(SendError::Transient(
                "the server did not answer NOOP".into(),
            )),
            Err(e) => Err(classify(&e)),
        }
    }
}

/// Builds lettre's client from the settings. Errors never repeat the URL (it may hold the
/// password).
fn client(
    settings: &SmtpSettings,
    connections: u32,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let server = settings.describe();
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(settings.url.as_str())
        .map_err(|e| format!("SMTP server {server}: {e}"))?;
    let host = settings.url.host_str().unwrap_or_default().to_owned();
    if let Some(pem) = &settings.ca_pem {
        let ca = Certificate::from_pem(pem)
            .map_err(|e| format!("MEMBERKEY_SMTP_CA_FILE is not a PEM certificate: {e}"))?;
        let params = TlsParameters::builder(host)
            .add_root_certificate(ca)
            .build_rustls()
            .map_err(|e| format!("TLS for {server}: {e}"))?;
        let tls = settings
            .url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        builder = builder.tls(match (settings.url.scheme(), tls.as_deref()) {
            ("smtps", _) => Tls::Wrapper(params),
            (_, Some("required")) => Tls::Required(params),
            (_, Some("opportunistic")) => Tls::Opportunistic(params),
            _ => Tls::None,
        });
    }
    if let Some(password) = &settings.password {
        let user = percent_decode(settings.url.username());
        builder = builder.credentials(Credentials::new(user, password.expose().to_owned()));
    }
    Ok(builder
        .timeout(Some(settings.timeout))
        .pool_config(PoolConfig::new().max_size(connections.max(1)))
        .build())
}

/// The headers signed: those a reader sees and trusts. Not Content-Type: lettre writes a
/// multipart's Content-Type with the body, after signing, so it cannot be covered.
const SIGNED_HEADERS: [&str; 7] = [
    "From",
    "Reply-To",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
];

fn dkim_config(settings: &DkimSettings) -> Result<DkimConfig, String> {
    let key = DkimSigningKey::new(settings.key_pem.expose(), DkimSigningAlgorithm::Rsa)
        .map_err(|e| {
            format!("MEMBERKEY_DKIM_KEY_FILE is not an RSA private key in PKCS#1 PEM (BEGIN RSA PRIVATE KEY): {e}")
        })?;
    Ok(DkimConfig::new(
        settings.selector.clone(),
        settings.domain.clone(),
        key,
        SIGNED_HEADERS
            .iter()
            .map(|h| HeaderName::new_from_ascii_str(h))
            .collect(),
        // Relaxed survives the header folding and whitespace changes relays make.
        DkimCanonicalization {
            header: DkimCanonicalizationType::Relaxed,
            body: DkimCanonicalizationType::Relaxed,
        },
    ))
}

/// The DNS TXT record that lets receivers check the signatures: its name and its value
/// (the public key as SubjectPublicKeyInfo), for `memberkey check` to print.
pub fn dkim_record(settings: &DkimSettings) -> Result<(String, String), String> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::EncodePublicKey;
    let key = rsa::RsaPrivateKey::from_pkcs1_pem(settings.key_pem.expose()).map_err(|e| {
        format!("MEMBERKEY_DKIM_KEY_FILE is not an RSA private key in PKCS#1 PEM: {e}")
    })?;
    let public = key
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| format!("the DKIM public key: {e}"))?;
    Ok((
        format!("{}._domainkey.{}", settings.selector, settings.domain),
        format!(
            "v=DKIM1; k=rsa; p={}",
            base64::engine::general_purpose::STANDARD.encode(public.as_bytes())
        ),
    ))
}

fn percent_decode(raw: &str) -> String {
    url::form_urlencoded::parse(format!("u={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[async_trait::async_trait]
impl MailTransport for SmtpTransport {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, SendError> {
        let mut message = self.envelope.message(email)?;
        if let Some(dkim) = &self.dkim {
            message.sign(dkim);
        }
        match self.client.send(message).await {
            // The server's acceptance ("2.0.0 Ok: queued as 4Xyz"), to trace it in its logs.
            Ok(response) => {
                let said: Vec<&str> = response.message().collect();
                let mut id = said.join(" ");
                id.truncate(200);
                Ok(id)
            }
            Err(e) => Err(classify(&e)),
        }
    }
}

/// Reply codes that refuse the sign-in itself: every message would be refused alike.
const SIGN_IN_REFUSED: [u16; 4] = [530, 534, 535, 538];

/// Sorts an SMTP failure into what the queue does next. A 4xx answer is retried with
/// backoff; a 5xx answer about the recipient fails that delivery with the server's words;
/// a refused sign-in, a refused relay or sender, or a TLS failure stops every message alike,
/// so delivery pauses until staff fix the settings. A timeout or a broken answer may come
/// after the server took the message: retried, and marked a possible duplicate.
fn classify(e: &SmtpError) -> SendError {
    let text = one_line(&e.to_string());
    if let Some(code) = e.status() {
        let n: u16 = code.to_string().parse().unwrap_or(0);
        let lower = text.to_ascii_lowercase();
        if e.is_transient() {
            return if lower.contains("rate") || lower.contains("too many") {
                SendError::Throttled(text)
            } else {
                SendError::Transient(text)
            };
        }
        if SIGN_IN_REFUSED.contains(&n)
            || lower.contains("relay")
            || lower.contains("sender address rejected")
            || lower.contains("not owned by")
            || lower.contains("authentication required")
        {
            return SendError::AccountRefused(text);
        }
        return SendError::Permanent(text);
    }
    if e.is_tls() {
        return SendError::AccountRefused(format!("TLS with the SMTP server failed: {text}"));
    }
    if e.is_timeout() || e.is_response() {
        return SendError::Uncertain(text);
    }
    // No connection, or closed before the message was handed over: safe to retry.
    SendError::Transient(text)
}

fn one_line(raw: &str) -> String {
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}
