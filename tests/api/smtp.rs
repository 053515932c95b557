//! The SMTP transport against a real SMTP server (aiosmtpd, started per test by
//! `tests/smtp/server.py`) that requires STARTTLS and AUTH: a reset goes out signed in and
//! encrypted; a 4xx answer is retried, a 5xx answer for a recipient fails that delivery with
//! the server's words, a refused sign-in or relay pauses delivery; `memberkey check`
//! connects, signs in and sends nothing.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

use memberkey::config::{Config, MailTransportKind, SmtpSettings};
use memberkey::domain::SystemClock;

use crate::helpers::{Backend, Mail, TestApp, eventually, per_backend, person, spawn_full};

const USER: &str = "memberkey";
const PASSWORD: &str = "relay secret 42";
const RESET: &str = "mutation($p: ID!) { sendPasswordResetEmail(profileId: $p) { sentTo } }";

/// The test SMTP server, stopped when dropped (its stdin closes).
pub struct SmtpServer {
    pub port: u16,
    pub ca_pem: Vec<u8>,
    pub dir: tempfile::TempDir,
    _child: tokio::process::Child,
}

impl SmtpServer {
    /// Starts the server, or returns `None` (with a note) when the test script did not
    /// install it.
    pub async fn start() -> Option<SmtpServer> {
        let python = crate::helpers::component("MEMBERKEY_TEST_SMTP_PYTHON", "SMTP server")?;
        let dir = tempfile::tempdir().expect("temp dir");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp/server.py");
        let mut child = tokio::process::Command::new(python)
            .arg(script)
            .arg(dir.path().join("mail"))
            .args([USER, PASSWORD])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start the SMTP server");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(StdDuration::from_secs(60), lines.next_line())
            .await
            .expect("the SMTP server did not start within 60 s")
            .expect("SMTP server output")
            .expect("the SMTP server exited before it was ready");
        let mut parts = ready.split_whitespace();
        assert_eq!(parts.next(), Some("READY"), "{ready}");
        let port = parts.next().unwrap().parse().unwrap();
        let ca_pem = std::fs::read(parts.next().unwrap()).expect("the test CA");
        Some(SmtpServer {
            port,
            ca_pem,
            dir,
            _child: child,
        })
    }

    /// Settings for this server: STARTTLS on the submission port, signed in as `user`.
    pub fn settings(&self, password: &str) -> SmtpSettings {
        SmtpSettings {
            url: url::Url::parse(&format!(
                "smtp://{USER}@127.0.0.1:{}?tls=required",
                self.port
            ))
            .unwrap(),
            password: Some(password.into()),
            ca_pem: Some(self.ca_pem.clone()),
            timeout: StdDuration::from_secs(10),
            dkim: None,
        }
    }

    /// The messages the server took, as raw RFC 5322 text.
    pub fn received(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.dir.path().join("mail")) else {
            return Vec::new();
        };
        let mut names: Vec<_> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }
}

async fn app_on(backend: Backend, server: &SmtpServer, password: &str) -> TestApp {
    signing_app(backend, server.settings(password)).await
}

async fn signing_app(backend: Backend, settings: SmtpSettings) -> TestApp {
    spawn_full(
        backend,
        move |c: &mut Config| {
            c.mail.transport = MailTransportKind::Smtp;
            c.mail.smtp = Some(settings);
            c.mail.from = "Harbour Chamber <no-reply@chamber.example>".into();
            c.mail.senders = vec![crate::senders::events()];
        },
        Arc::new(SystemClock),
        Mail::Configured,
    )
    .await
}

/// The delivery row of the newest message to `address`: (status, error, provider id).
async fn row(app: &TestApp, address: &str) -> (String, Option<String>, Option<String>) {
    let sql = format!(
        "SELECT status, last_error, provider_message_id FROM outbound_emails \
         WHERE to_address = '{address}' ORDER BY id DESC LIMIT 1"
    );
    (
        app.sql_value(&sql, "status").await,
        app.sql_value(&sql, "last_error").await,
        app.sql_value(&sql, "provider_message_id").await,
    )
}

async fn a_reset_to(app: &TestApp, admin: &str, first: &str, address: &str) {
    let id = app
        .create_profile(admin, person(first, "Berg", Some(address)))
        .await;
    let resp = app.gql(Some(admin), RESET, json!({ "p": id })).await;
    assert!(resp["errors"].is_null(), "{resp}");
}

async fn delivers(backend: Backend) {
    let Some(server) = SmtpServer::start().await else {
        return;
    };
    let app = app_on(backend, &server, PASSWORD).await;
    let admin = app.admin().await;
    a_reset_to(&app, &admin, "Lea", "lea@example.org").await;
    let got = eventually(StdDuration::from_secs(30), || async {
        server.received().into_iter().next()
    })
    .await
    .expect("the SMTP server received the reset");
    assert!(got.contains("To: lea@example.org"), "{got}");
    assert!(
        got.contains("From: \"Harbour Chamber\" <no-reply@chamber.example>"),
        "{got}"
    );
    let flat = got.replace("=\r\n", "").replace("=3D", "=");
    assert!(flat.contains("/set-password#token="), "{got}");
    let app_ref = &app;
    let (status, _, provider) = eventually(StdDuration::from_secs(30), || async move {
        let r = row(app_ref, "lea@example.org").await;
        (r.0 == "SENT").then_some(r)
    })
    .await
    .expect("the delivery is recorded as sent");
    assert_eq!(status, "SENT");
    assert!(
        provider.unwrap().contains("queued as T"),
        "the server's id is kept"
    );

    // A temporary refusal is retried; a permanent one fails that delivery with the words.
    a_reset_to(&app, &admin, "Tom", "tempfail@example.org").await;
    a_reset_to(&app, &admin, "Bo", "bounce@example.org").await;
    let (status, error, _) = eventually(StdDuration::from_secs(30), || async move {
        let r = row(app_ref, "bounce@example.org").await;
        (r.0 == "FAILED").then_some(r)
    })
    .await
    .expect("the bounce fails its delivery");
    assert_eq!(status, "FAILED");
    assert!(error.unwrap().contains("no such user"));
    let (status, error, _) = eventually(StdDuration::from_secs(30), || async move {
        let r = row(app_ref, "tempfail@example.org").await;
        r.1.is_some().then_some(r)
    })
    .await
    .expect("the temporary refusal is recorded");
    assert_eq!(status, "QUEUED", "a 4xx answer is tried again later");
    assert!(error.unwrap().contains("451"));
    let attempts: i32 = app
        .sql_value(
            "SELECT attempts FROM outbound_emails WHERE to_address = 'tempfail@example.org'",
            "attempts",
        )
        .await;
    assert!(attempts >= 1);

    // A relay refusal stops every message alike: delivery pauses with the server's words.
    a_reset_to(&app, &admin, "Ray", "relay@example.org").await;
    let state = "{ deliveryState { paused reason } }";
    let paused = eventually(StdDuration::from_secs(30), || {
        let admin = admin.clone();
        async move {
            let s = app_ref.gql(Some(&admin), state, json!({})).await;
            (s["data"]["deliveryState"]["paused"] == true).then_some(s)
        }
    })
    .await
    .expect("delivery pauses");
    let reason = paused["data"]["deliveryState"]["reason"].as_str().unwrap();
    assert!(reason.contains("Relay access denied"), "{reason}");
    assert_eq!(server.received().len(), 1, "nothing else was taken");
}
per_backend!(
    mail_goes_out_over_smtp_with_starttls_and_sign_in,
    super::delivers
);

async fn wrong_password(backend: Backend) {
    let Some(server) = SmtpServer::start().await else {
        return;
    };
    let app = app_on(backend, &server, "not the password").await;
    let admin = app.admin().await;
    a_reset_to(&app, &admin, "Lea", "lea@example.org").await;
    let app_ref = &app;
    let paused = eventually(StdDuration::from_secs(30), || {
        let admin = admin.clone();
        async move {
            let s = app_ref
                .gql(
                    Some(&admin),
                    "{ deliveryState { paused reason } }",
                    json!({}),
                )
                .await;
            (s["data"]["deliveryState"]["paused"] == true).then_some(s)
        }
    })
    .await
    .expect("a refused sign-in pauses delivery");
    let reason = paused["data"]["deliveryState"]["reason"].as_str().unwrap();
    assert!(reason.contains("535"), "{reason}");
    assert!(!reason.contains("not the password"), "{reason}");
    // Handed back to the queue (the worker lets go of it just after pausing).
    let waits = eventually(StdDuration::from_secs(30), || async {
        (row(app_ref, "lea@example.org").await.0 == "QUEUED").then_some(())
    })
    .await;
    assert!(waits.is_some(), "the message waits, unharmed");
    assert!(server.received().is_empty());
}
per_backend!(
    a_refused_smtp_sign_in_pauses_delivery,
    super::wrong_password
);

/// `memberkey check` signs in and sends nothing; a wrong password or a server that does not
/// answer fails it, without the password in the output.
#[tokio::test]
async fn check_signs_in_to_the_smtp_server_and_sends_nothing() {
    let Some(server) = SmtpServer::start().await else {
        return;
    };
    let mut config = Config::default();
    config.mail.transport = MailTransportKind::Smtp;
    config.mail.smtp = Some(server.settings(PASSWORD));
    let ok = memberkey::check::smtp(&config).await;
    assert!(ok.ok, "{ok}");
    assert!(ok.detail.contains("STARTTLS required"), "{ok}");
    assert!(server.received().is_empty());

    config.mail.smtp = Some(server.settings("not the password"));
    let refused = memberkey::check::smtp(&config).await;
    assert!(!refused.ok, "{refused}");
    assert!(refused.detail.contains("535"), "{refused}");
    assert!(!refused.detail.contains("not the password"), "{refused}");

    // Without the private CA the server's certificate is not trusted.
    let mut untrusted = server.settings(PASSWORD);
    untrusted.ca_pem = None;
    config.mail.smtp = Some(untrusted);
    let refused = memberkey::check::smtp(&config).await;
    assert!(!refused.ok, "{refused}");
    assert!(
        refused.detail.to_ascii_lowercase().contains("certificate"),
        "{refused}"
    );
}

/// Runs dkimpy on a received message against the record `memberkey check` prints.
fn dkim_verifies(python: &str, message: &str, name: &str, value: &str) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("message.eml");
    std::fs::write(&path, message).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp/verify_dkim.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(&path)
        .args([name, value])
        .output()
        .expect("run the DKIM verifier");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("PASS") || said.contains("FAIL"),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        println!("dkimpy: {}", String::from_utf8_lossy(&out.stderr));
    }
    out.status.success()
}

/// Mail sent over SMTP is DKIM-signed; an independent verifier (dkimpy) accepts the signature
/// with the DNS record `memberkey check` prints, and refuses it once the body is changed.
#[tokio::test]
async fn smtp_mail_is_dkim_signed_and_verifies_independently() {
    let Some(server) = SmtpServer::start().await else {
        return;
    };
    let python = std::env::var("MEMBERKEY_TEST_SMTP_PYTHON").unwrap();
    use rsa::pkcs1::EncodeRsaPrivateKey;
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let pem = key.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF).unwrap();
    let dkim = memberkey::config::DkimSettings {
        selector: "mk2026".into(),
        domain: "chamber.example".into(),
        key_pem: pem.as_str().into(),
    };
    let record = memberkey::check::dkim_line(&dkim);
    assert!(record.ok, "{record}");
    assert!(
        record
            .detail
            .contains("mk2026._domainkey.chamber.example TXT \"v=DKIM1; k=rsa; p="),
        "{record}"
    );
    let (name, value) = memberkey::mail::smtp::dkim_record(&dkim).unwrap();
    let mut settings = server.settings(PASSWORD);
    settings.dkim = Some(dkim);
    let app = signing_app(Backend::Sqlite, settings).await;
    let admin = app.admin().await;
    a_reset_to(&app, &admin, "Lea", "lea@example.org").await;
    let got = eventually(StdDuration::from_secs(30), || async {
        server.received().into_iter().next()
    })
    .await
    .expect("the SMTP server received the reset");
    assert!(got.contains("DKIM-Signature: "), "{got}");
    assert!(got.contains("d=chamber.example"), "{got}");
    assert!(
        dkim_verifies(&python, &got, &name, &value),
        "the signature verifies"
    );
    // The verifier is not a rubber stamp: a changed body, or another key, fails.
    let altered = got.replacen("Lea Berg", "Lea Borg", 1);
    assert_ne!(altered, got);
    assert!(!dkim_verifies(&python, &altered, &name, &value));
    let other = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let (_, other_value) = memberkey::mail::smtp::dkim_record(&memberkey::config::DkimSettings {
        selector: "mk2026".into(),
        domain: "chamber.example".into(),
        key_pem: other
            .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
            .unwrap()
            .as_str()
            .into(),
    })
    .unwrap();
    assert!(!dkim_verifies(&python, &got, &name, &other_value));
}

/// A NEWS communication through SMTP: each message carries the RFC 8058 headers with the
/// member's own page, and one POST there (as a mail provider sends it) opts the member out.
async fn news_over_smtp(backend: Backend) {
    let Some(server) = SmtpServer::start().await else {
        return;
    };
    let app = app_on(backend, &server, PASSWORD).await;
    let admin = app.admin().await;
    let mut ids = Vec::new();
    for (first, email) in [("Lea", "lea@example.org"), ("Ole", "ole@example.org")] {
        ids.push(
            app.create_profile(&admin, person(first, "Berg", Some(email)))
                .await,
        );
    }
    let mass = crate::mass::create_ok(
        &app,
        &admin,
        json!({ "subject": "Summer fair", "html": "<p>Dear {{first_name}}</p><p>{{unsubscribe_link}}</p>", "purpose": "NEWS", "sender": "events@chamber.example", "recipients": { "profileIds": ids } }),
    )
    .await;
    let resp = app
        .gql(Some(&admin), crate::mass::SEND, json!({ "id": mass }))
        .await;
    assert!(resp["errors"].is_null(), "{resp}");
    crate::mass::wait_done(&app, &admin, &mass).await;
    let got = eventually(StdDuration::from_secs(30), || async {
        let all = server.received();
        (all.len() == 2).then_some(all)
    })
    .await
    .expect("both messages arrive");
    let lea = got
        .iter()
        .find(|m| m.contains("To: lea@example.org"))
        .unwrap();
    // The sender chosen for it: its name on the association's own From address, and its
    // reply address, which is also where unsubscribe requests by mail go.
    assert!(
        lea.contains("From: \"Harbour Chamber Events\" <no-reply@chamber.example>\r\n"),
        "{lea}"
    );
    assert!(
        lea.contains("Reply-To: events@chamber.example\r\n"),
        "{lea}"
    );
    let header = crate::unsubscribe::one_click_from_raw(&app, &admin, lea, &ids[0]).await;
    assert!(
        header.contains(">, <mailto:events@chamber.example?subject=unsubscribe%20"),
        "{header}"
    );
}
per_backend!(
    news_goes_out_over_smtp_with_one_click_unsubscribe_headers,
    super::news_over_smtp
);
