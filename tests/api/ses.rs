//! The `ses` transport against a real SES v2 HTTP emulator (moto's server mode) on a free
//! loopback port. The test script installs moto and names its `moto_server` in
//! MEMBERKEY_TEST_MOTO_SERVER.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use memberkey::config::{MailSettings, MailTransportKind};
use memberkey::domain::SystemClock;
use memberkey::mail::{Envelope, ses::SesTransport};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::helpers::{Backend, Mail, eventually, per_backend, person, spawn_full};
use crate::resets::{NEW_PASSWORD, send_reset, set_with_token, token_of};

/// A moto server on a port of its own choosing, stopped when dropped.
pub struct Moto {
    pub url: String,
    _child: tokio::process::Child,
}

impl Moto {
    /// Starts moto, or returns `None` (with a note) when the test script did not install it.
    pub async fn start() -> Option<Moto> {
        let bin = crate::helpers::component("MEMBERKEY_TEST_MOTO_SERVER", "SES emulator")?;
        let mut child = tokio::process::Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start moto_server");
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let url = tokio::time::timeout(StdDuration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.expect("moto output") {
                if let Some(at) = line.find("http://127.0.0.1:") {
                    return line[at..].trim().to_owned();
                }
            }
            panic!("moto_server exited before it was ready");
        })
        .await
        .expect("moto_server did not start within 60 s");
        // Keep draining its log so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Some(Moto { url, _child: child })
    }

    pub fn settings(&self) -> MailSettings {
        MailSettings {
            transport: MailTransportKind::Ses,
            ses_region: "us-east-1".into(),
            ses_endpoint: Some(self.url.clone()),
            from: "Harbour Chamber <no-reply@chamber.example>".into(),
            ..Default::default()
        }
    }

    fn credentials() -> aws_sdk_sesv2::config::Credentials {
        aws_sdk_sesv2::config::Credentials::new("testing", "testing", None, None, "tests")
    }

    /// The transport memberkey uses, pointed at this emulator, with the sender registered.
    pub async fn transport(&self) -> SesTransport {
        self.register_sender().await;
        self.unregistered_transport().await
    }

    /// The transport, without registering the sender: the emulator refuses every message as
    /// "not verified", as SES does for an unverified sender.
    pub async fn unregistered_transport(&self) -> SesTransport {
        let settings = self.settings();
        let envelope = Envelope::new(&settings.from, None).unwrap();
        SesTransport::new(&settings, envelope, Some(Self::credentials())).await
    }

    /// Registers the sender identity with the emulator.
    pub async fn register_sender(&self) {
        let config = aws_sdk_sesv2::Config::builder()
            .behavior_version(aws_sdk_sesv2::config::BehaviorVersion::latest())
            .region(aws_sdk_sesv2::config::Region::new("us-east-1"))
            .endpoint_url(&self.url)
            .credentials_provider(Self::credentials())
            .build();
        aws_sdk_sesv2::Client::from_conf(config)
            .create_email_identity()
            .email_identity("no-reply@chamber.example")
            .send()
            .await
            .expect("register the sender with the emulator");
    }

    /// Every raw message the emulator accepted.
    pub async fn sent(&self) -> Vec<Value> {
        let data: Value = reqwest::get(format!("{}/moto-api/data.json", self.url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        data["ses"]["RawMessage"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub async fn wait_for(&self, n: usize) -> Vec<Value> {
        let sent = eventually(StdDuration::from_secs(20), move || async move {
            let sent = self.sent().await;
            (sent.len() >= n).then_some(sent)
        })
        .await;
        match sent {
            Some(sent) => sent,
            None => self.sent().await,
        }
    }
}

/// Undoes quoted-printable soft line breaks and `=3D`, enough to find a link in a raw message.
pub fn unfold_qp(raw: &str) -> String {
    raw.replace("=\r\n", "").replace("=3D", "=")
}

/// An app that delivers through the SES v2 emulator, its admin's token, and a member with an
/// address; `None` (with a note) when the test script did not install the emulator.
async fn app_through_ses(
    backend: Backend,
) -> Option<(Moto, crate::helpers::TestApp, String, String)> {
    let moto = Moto::start().await?;
    let transport = Arc::new(moto.transport().await);
    let app = spawn_full(
        backend,
        |_| {},
        Arc::new(SystemClock),
        Mail::Custom(transport),
    )
    .await;
    let admin = app.admin().await;
    let id = app
        .create_profile(
            &admin,
            person("Maria", "Jensen", Some("maria@harbour.example")),
        )
        .await;
    Some((moto, app, admin, id))
}

async fn reset_through_ses(backend: Backend) {
    let Some((moto, app, admin, id)) = app_through_ses(backend).await else {
        return;
    };
    send_reset(&app, &admin, &id).await;
    let sent = moto.wait_for(1).await;
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let message = &sent[0];
    let destinations: Vec<&str> = message["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert!(
        destinations.iter().all(|d| *d == "maria@harbour.example"),
        "{destinations:?}"
    );
    let raw = unfold_qp(message["raw_data"].as_str().unwrap());
    assert!(
        raw.contains("Subject: Harbour Chamber: set your portal password"),
        "{raw}"
    );
    assert!(!raw.contains("\nBcc:") && !raw.contains("\nCc:"));

    // The provider's message ID is on the row, once the worker has recorded the send (the
    // emulator holds the message a moment before the outcome is stored).
    let recorded =
        "SELECT COUNT(*) AS n FROM outbound_emails WHERE provider_message_id IS NOT NULL";
    let app_ref = &app;
    let stored = eventually(StdDuration::from_secs(20), move || async move {
        (app_ref.sql_value::<i64>(recorded, "n").await == 1).then_some(())
    })
    .await;
    assert!(stored.is_some(), "the send was recorded");
    let provider_id: String = app
        .sql_value(
            "SELECT provider_message_id FROM outbound_emails",
            "provider_message_id",
        )
        .await;
    assert_eq!(provider_id, message["id"].as_str().unwrap());

    // The link in the delivered message works.
    let at = raw
        .find("https://members.example.org/portal/set-password#token=")
        .expect("a link");
    let link: String = raw[at..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '<')
        .collect();
    let resp = set_with_token(&app, &token_of(&link), NEW_PASSWORD).await;
    assert!(
        resp["data"]["setPasswordWithToken"]["login"].is_string(),
        "{resp}"
    );
}
per_backend!(a_reset_email_goes_through_ses, super::reset_through_ses);

/// `memberkey check` asks SES itself (here the emulator) about the account and the sender:
/// an unknown sender and a registered but unverified one are both refused with the reason.
#[tokio::test]
async fn check_asks_ses_about_the_account_and_the_sender() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let run = |from: &'static str| {
        let mut cmd = crate::support::memberkey(dir.path());
        cmd.env(
            "MEMBERKEY_DATABASE_URL",
            format!("sqlite://{}/check.db?mode=rwc", dir.path().display()),
        )
        .env("MEMBERKEY_MAIL_TRANSPORT", "ses")
        .env("MEMBERKEY_SES_ENDPOINT", &moto.url)
        .env("MEMBERKEY_MAIL_FROM", from)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .arg("check");
        let mut cmd = tokio::process::Command::from(cmd);
        async move {
            let out = cmd.output().await.unwrap();
            (out.status.success(), String::from_utf8(out.stdout).unwrap())
        }
    };
    let (ok, out) = run("Chamber <nobody@unknown.example>").await;
    assert!(!ok, "{out}");
    assert!(out.contains("ses account: "), "{out}");
    assert!(
        out.contains("FAIL  ses identity: nobody@unknown.example may not send")
            && out.contains("NotFoundException"),
        "{out}"
    );
    // Registered with the emulator (which never marks identities verified).
    moto.transport().await;
    let (ok, out) = run("Harbour Chamber <no-reply@chamber.example>").await;
    assert!(!ok, "{out}");
    assert!(
        out.contains("no-reply@chamber.example is not verified for sending yet"),
        "{out}"
    );
}

/// A NEWS communication through the SES v2 emulator: the raw message SES receives carries
/// the RFC 8058 headers with the member's own page, and one POST there opts the member out.
async fn news_through_ses(backend: Backend) {
    let Some((moto, app, admin, id)) = app_through_ses(backend).await else {
        return;
    };
    let mass = crate::mass::create_ok(
        &app,
        &admin,
        json!({ "subject": "Summer fair", "html": "<p>Dear {{first_name}}</p><p>{{unsubscribe_link}}</p>", "purpose": "NEWS", "recipients": { "profileIds": [id.clone()] } }),
    )
    .await;
    let resp = app
        .gql(Some(&admin), crate::mass::SEND, json!({ "id": mass }))
        .await;
    assert!(resp["errors"].is_null(), "{resp}");
    let sent = moto.wait_for(1).await;
    let raw = sent[0]["raw_data"].as_str().unwrap();
    crate::unsubscribe::one_click_from_raw(&app, &admin, raw, &id).await;
}
per_backend!(
    news_through_ses_carries_the_one_click_unsubscribe_headers,
    super::news_through_ses
);
