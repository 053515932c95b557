//! Provider feedback (issue 13 part 1): SES reports bounces, complaints and deliveries through
//! SNS to `POST /webhooks/ses`. Notifications are signed here with a throwaway RSA key whose
//! certificate a local server serves (the test-only `sns_test_origins` setting trusts it);
//! every check of a real SNS message is made on them: topic, signature versions 1 and 2,
//! forgeries, the subscription confirmation, each event and the suppression list.

use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::{Query, State};
use base64::Engine;
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::{Value, json};

use crate::delivery_pause::people;
use crate::helpers::{Backend, TestApp, code, per_backend, spawn_app_with};
use crate::mass::{SEND, create_ok};
use crate::resets::send_reset;
use crate::ws::WsClient;

const TOPIC: &str = "arn:aws:sns:eu-west-1:123456789012:ses-events";

/// The throwaway signing key and its self-signed certificate, made once per test binary.
struct Signer1 {
    key: RsaPrivateKey,
    pem: String,
}

fn signer() -> &'static Signer1 {
    static SIGNER: OnceLock<Signer1> = OnceLock::new();
    SIGNER.get_or_init(|| {
        use std::str::FromStr;
        use x509_cert::builder::{Builder, CertificateBuilder, Profile};
        use x509_cert::der::EncodePem;
        let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        let spki =
            x509_cert::spki::SubjectPublicKeyInfoOwned::from_key(key.to_public_key()).unwrap();
        let cert_signer = SigningKey::<rsa::sha2::Sha256>::new(key.clone());
        let cert = CertificateBuilder::new(
            Profile::Root,
            x509_cert::serial_number::SerialNumber::from(7u32),
            x509_cert::time::Validity::from_now(std::time::Duration::from_secs(86_400)).unwrap(),
            x509_cert::name::Name::from_str("CN=sns.amazonaws.com").unwrap(),
            spki,
            &cert_signer,
        )
        .unwrap()
        .build::<rsa::pkcs1v15::Signature>()
        .unwrap();
        let pem = cert.to_pem(x509_cert::der::pem::LineEnding::LF).unwrap();
        Signer1 { key, pem }
    })
}

/// The local stand-in for SNS: serves the certificate and records subscription confirmations.
struct FakeSns {
    origin: String,
    confirmed: Arc<Mutex<Vec<String>>>,
    /// How often `/missing.pem` (a certificate that is not there) was asked for.
    missing_fetches: Arc<std::sync::atomic::AtomicUsize>,
}

async fn fake_sns() -> FakeSns {
    let confirmed = Arc::new(Mutex::new(Vec::new()));
    let missing_fetches = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = missing_fetches.clone();
    let router = axum::Router::new()
        .route(
            "/cert.pem",
            axum::routing::get(|| async { signer().pem.clone() }),
        )
        .route(
            "/missing.pem",
            axum::routing::get(move || {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                async { (axum::http::StatusCode::NOT_FOUND, "no such certificate") }
            }),
        )
        .route(
            "/confirm",
            axum::routing::get(
                |State(c): State<Arc<Mutex<Vec<String>>>>,
                 Query(q): Query<std::collections::HashMap<String, String>>| async move {
                    c.lock()
                        .unwrap()
                        .push(q.get("Token").cloned().unwrap_or_default());
                    "<ConfirmSubscriptionResponse/>"
                },
            ),
        )
        .with_state(confirmed.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    FakeSns {
        origin,
        confirmed,
        missing_fetches,
    }
}

/// An SNS message sent now, signed with `version` over the fields SNS documents for its type.
fn signed(sns: &FakeSns, mut msg: Value, version: &str) -> Value {
    msg["Timestamp"] =
        json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    signed_at(sns, msg, version)
}

/// As [`signed`], keeping the message's own `Timestamp`.
fn signed_at(sns: &FakeSns, mut msg: Value, version: &str) -> Value {
    msg["TopicArn"] = json!(msg["TopicArn"].as_str().unwrap_or(TOPIC));
    msg["MessageId"] = json!(uuid::Uuid::new_v4().to_string());
    msg["SignatureVersion"] = json!(version);
    msg["SigningCertURL"] = json!(format!("{}/cert.pem", sns.origin));
    let fields: &[&str] = if msg["Type"] == "Notification" {
        &[
            "Message",
            "MessageId",
            "Subject",
            "Timestamp",
            "TopicArn",
            "Type",
        ]
    } else {
        &[
            "Message",
            "MessageId",
            "SubscribeURL",
            "Timestamp",
            "Token",
            "TopicArn",
            "Type",
        ]
    };
    let mut text = String::new();
    for f in fields {
        if let Some(v) = msg[*f].as_str() {
            text.push_str(&format!("{f}\n{v}\n"));
        }
    }
    let key = signer().key.clone();
    let signature = match version {
        "1" => SigningKey::<sha1::Sha1>::new(key)
            .sign(text.as_bytes())
            .to_vec(),
        _ => SigningKey::<rsa::sha2::Sha256>::new(key)
            .sign(text.as_bytes())
            .to_vec(),
    };
    msg["Signature"] = json!(base64::engine::general_purpose::STANDARD.encode(signature));
    msg
}

/// An SES event wrapped in a signed SNS notification.
fn notification(sns: &FakeSns, event: Value, version: &str) -> Value {
    signed(
        sns,
        json!({ "Type": "Notification", "Message": event.to_string() }),
        version,
    )
}

async fn post(app: &TestApp, body: &Value) -> u16 {
    app.client
        .post(app.url("/webhooks/ses"))
        // As SNS posts it: JSON in a text/plain body.
        .header("content-type", "text/plain; charset=UTF-8")
        .header(
            "x-amz-sns-message-type",
            body["Type"].as_str().unwrap_or(""),
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn start(backend: Backend) -> (TestApp, FakeSns) {
    let sns = fake_sns().await;
    let origin = sns.origin.clone();
    let app = spawn_app_with(backend, move |c| {
        c.mail.sns_topics = vec![TOPIC.to_owned()];
        c.mail.sns_test_origins = vec![origin];
    })
    .await;
    (app, sns)
}

async fn subscriptions_are_confirmed_only_for_our_topics(backend: Backend) {
    let (app, sns) = start(backend).await;
    let confirm = |topic: &str, token: &str| {
        signed(
            &sns,
            json!({
                "Type": "SubscriptionConfirmation",
                "TopicArn": topic,
                "Token": token,
                "Message": "You have chosen to subscribe to the topic.",
                "SubscribeURL": format!("{}/confirm?Action=ConfirmSubscription&Token={token}", sns.origin),
            }),
            "2",
        )
    };
    assert_eq!(post(&app, &confirm(TOPIC, "tok-1")).await, 200);
    assert_eq!(*sns.confirmed.lock().unwrap(), ["tok-1"]);
    // Another account's topic, however well signed, is neither confirmed nor read.
    let other = "arn:aws:sns:eu-west-1:999999999999:someone-else";
    assert_eq!(post(&app, &confirm(other, "tok-2")).await, 403);
    assert_eq!(sns.confirmed.lock().unwrap().len(), 1);
    // A SubscribeURL off SNS's hosts is never fetched, even in a signed message.
    let mut elsewhere = confirm(TOPIC, "tok-3");
    elsewhere["SubscribeURL"] = json!("http://169.254.169.254/latest/meta-data/");
    let resigned = signed(&sns, elsewhere, "2");
    assert_ne!(post(&app, &resigned).await, 200);
    assert_eq!(sns.confirmed.lock().unwrap().len(), 1);
}

per_backend!(
    subscriptions_are_confirmed_only_for_our_topics,
    super::subscriptions_are_confirmed_only_for_our_topics
);

/// A mass communication sent to `n` people; returns their profile IDs, and each delivery's
/// provider message ID and outbound row ID, in profile order.
async fn sent_to(
    app: &TestApp,
    admin: &str,
    n: usize,
) -> (String, Vec<String>, Vec<(String, i64)>) {
    let ids = people(app, admin, n).await;
    let mass = create_ok(
        app,
        admin,
        json!({ "subject": "News", "html": "<p>Hello {{first_name}}</p>", "recipients": { "profileIds": ids } }),
    )
    .await;
    let resp = app.gql(Some(admin), SEND, json!({ "id": mass })).await;
    assert!(resp["errors"].is_null(), "{resp}");
    app.app.drain_mail().await.unwrap();
    let mut rows = Vec::new();
    for id in &ids {
        let row: (String, i64) = (
            app.sql_value(
                &format!("SELECT provider_message_id FROM outbound_emails WHERE profile_id = {id} AND mass_communication_id = {mass}"),
                "provider_message_id",
            )
            .await,
            app.sql_value(
                &format!("SELECT id FROM outbound_emails WHERE profile_id = {id} AND mass_communication_id = {mass}"),
                "id",
            )
            .await,
        );
        rows.push(row);
    }
    (mass, ids, rows)
}

fn event(kind: &str, message_id: &str, outbound_id: i64, address: &str) -> Value {
    let mail = json!({
        "messageId": message_id,
        "destination": [address],
        "tags": { "memberkey_outbound_id": [outbound_id.to_string()], "ses:configuration-set": ["memberkey"] },
    });
    match kind {
        "Delivery" => json!({ "eventType": "Delivery", "mail": mail,
            "delivery": { "recipients": [address], "smtpResponse": "250 2.0.0 OK" } }),
        "Bounce" => json!({ "eventType": "Bounce", "mail": mail,
            "bounce": { "bounceType": "Permanent", "bounceSubType": "General", "feedbackId": "fb-1",
                "bouncedRecipients": [{ "emailAddress": address, "status": "5.1.1", "action": "failed",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown" }] } }),
        "TransientBounce" => json!({ "eventType": "Bounce", "mail": mail,
            "bounce": { "bounceType": "Transient", "bounceSubType": "MailboxFull",
                "bouncedRecipients": [{ "emailAddress": address }] } }),
        "Complaint" => json!({ "eventType": "Complaint", "mail": mail,
            "complaint": { "complainedRecipients": [{ "emailAddress": address }],
                "complaintFeedbackType": "abuse", "feedbackId": "fb-2" } }),
        _ => unreachable!(),
    }
}

const VIEW: &str = "query($id: ID!) { massCommunication(id: $id) { counts { total sent delivered bounced complained skipped } deliveries(first: 50) { edges { node { email status skipReason error } } } } }";

async fn view(app: &TestApp, admin: &str, mass: &str) -> Value {
    let resp = app.gql(Some(admin), VIEW, json!({ "id": mass })).await;
    assert!(resp["errors"].is_null(), "{resp}");
    resp["data"]["massCommunication"].clone()
}

fn status_of<'a>(view: &'a Value, email: &str) -> &'a Value {
    &view["deliveries"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["email"] == email)
        .unwrap()["node"]
}

async fn forged_and_unsigned_messages_are_refused(backend: Backend) {
    let (app, sns) = start(backend).await;
    let admin = app.admin().await;
    let (mass, _, rows) = sent_to(&app, &admin, 1).await;
    let (mid, oid) = rows[0].clone();
    let genuine = notification(&sns, event("Bounce", &mid, oid, "ann0@example.org"), "1");

    // The message changed after signing: a forged bounce.
    let mut forged = genuine.clone();
    forged["Message"] = json!(
        forged["Message"]
            .as_str()
            .unwrap()
            .replace("5.1.1 user unknown", "forged")
    );
    assert_eq!(post(&app, &forged).await, 403);
    // No signature at all.
    let mut unsigned = genuine.clone();
    unsigned.as_object_mut().unwrap().remove("Signature");
    assert_eq!(post(&app, &unsigned).await, 403);
    // Signed as version 1 but claimed as version 2 (and an unknown version).
    let mut wrong_version = genuine.clone();
    wrong_version["SignatureVersion"] = json!("2");
    assert_eq!(post(&app, &wrong_version).await, 403);
    wrong_version["SignatureVersion"] = json!("3");
    assert_eq!(post(&app, &wrong_version).await, 403);
    // A certificate from anywhere but SNS (here: the same key, another origin).
    let mut elsewhere = genuine.clone();
    elsewhere["SigningCertURL"] = json!("https://attacker.example/cert.pem");
    assert_eq!(post(&app, &elsewhere).await, 403);
    // Not JSON at all.
    let resp = app
        .client
        .post(app.url("/webhooks/ses"))
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    // None of them changed anything.
    let v = view(&app, &admin, &mass).await;
    assert_eq!(status_of(&v, "ann0@example.org")["status"], "SENT", "{v}");
    let suppressed: i64 = app
        .sql_value("SELECT COUNT(*) AS n FROM email_suppressions", "n")
        .await;
    assert_eq!(suppressed, 0);

    // The genuine one, signed with SHA1 (version 1), is accepted.
    assert_eq!(post(&app, &genuine).await, 200);
    let v = view(&app, &admin, &mass).await;
    assert_eq!(
        status_of(&v, "ann0@example.org")["status"],
        "BOUNCED",
        "{v}"
    );
}

per_backend!(
    forged_and_unsigned_messages_are_refused,
    super::forged_and_unsigned_messages_are_refused
);

/// Posts a body to the webhook; its status and JSON answer (null when not JSON).
async fn post_for_answer(app: &TestApp, body: &Value) -> (u16, Value) {
    let resp = app
        .client
        .post(app.url("/webhooks/ses"))
        .header("content-type", "text/plain; charset=UTF-8")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn forgeries_and_replays_cost_little(backend: Backend) {
    let (app, sns) = start(backend).await;
    let admin = app.admin().await;
    let (_, _, rows) = sent_to(&app, &admin, 1).await;
    let (mid, oid) = rows[0].clone();
    let bounce = event("Bounce", &mid, oid, "ann0@example.org");

    // An old genuine message (two hours ago) is refused by its Timestamp, with a code.
    let mut old = json!({ "Type": "Notification", "Message": bounce.to_string() });
    old["Timestamp"] = json!(
        (chrono::Utc::now() - chrono::Duration::hours(2))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    );
    let old = signed_at(&sns, old, "2");
    let (status, answer) = post_for_answer(&app, &old).await;
    assert_eq!(status, 403);
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{answer}"
    );

    // Forgeries naming a certificate that cannot be fetched: fetched once, not once each.
    for _ in 0..5 {
        let mut forged = notification(&sns, bounce.clone(), "2");
        forged["SigningCertURL"] = json!(format!("{}/missing.pem", sns.origin));
        assert_eq!(post(&app, &forged).await, 403);
    }
    assert_eq!(
        sns.missing_fetches
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );

    // A genuine report applied once; the same message again (a replay) changes nothing.
    let genuine = notification(&sns, bounce.clone(), "2");
    assert_eq!(post(&app, &genuine).await, 200);
    let (status, _) = post_for_answer(&app, &genuine).await;
    assert_eq!(status, 200, "SNS must not retry a replay");
    let suppressed: i64 = app
        .sql_value("SELECT COUNT(*) AS n FROM email_suppressions", "n")
        .await;
    assert_eq!(suppressed, 1);
    let seen: i64 = app
        .sql_value("SELECT COUNT(*) AS n FROM sns_messages", "n")
        .await;
    assert_eq!(seen, 1);

    // A client that keeps sending untrusted messages is refused unchecked after 20.
    for _ in 0..14 {
        let mut forged = notification(&sns, bounce.clone(), "2");
        forged["Message"] = json!("changed after signing");
        assert_eq!(post(&app, &forged).await, 403);
    }
    let (status, answer) = post_for_answer(&app, &genuine).await;
    assert_eq!(status, 429, "{answer}");
    assert_eq!(answer["errors"][0]["extensions"]["code"], "RATE_LIMITED");
}

per_backend!(
    forged_stale_and_replayed_reports_cost_little_and_change_nothing,
    super::forgeries_and_replays_cost_little
);

async fn reports_move_deliveries_and_fill_the_suppression_list(backend: Backend) {
    let (app, sns) = start(backend).await;
    let admin = app.admin().await;
    let (mass, ids, rows) = sent_to(&app, &admin, 4).await;
    let addr = |i: usize| format!("ann{i}@example.org");

    // Signature version 2 (SHA256) for these.
    for (i, kind) in ["Delivery", "Bounce", "Complaint", "TransientBounce"]
        .iter()
        .enumerate()
    {
        let body = notification(&sns, event(kind, &rows[i].0, rows[i].1, &addr(i)), "2");
        assert_eq!(post(&app, &body).await, 200, "{kind}");
    }
    // SNS delivers at least once: the same bounce again changes nothing.
    let again = notification(&sns, event("Bounce", &rows[1].0, rows[1].1, &addr(1)), "2");
    assert_eq!(post(&app, &again).await, 200);
    // A late "delivered" never hides the bounce or the complaint.
    let late = notification(
        &sns,
        event("Delivery", &rows[2].0, rows[2].1, &addr(2)),
        "2",
    );
    assert_eq!(post(&app, &late).await, 200);
    // A tag that names another row than the message ID does moves no row; the complaint is
    // still SES's word about the address, so the address is suppressed.
    let mismatch = notification(
        &sns,
        event("Complaint", &rows[3].0, rows[0].1, &addr(3)),
        "2",
    );
    assert_eq!(post(&app, &mismatch).await, 200);

    let v = view(&app, &admin, &mass).await;
    assert_eq!(status_of(&v, &addr(0))["status"], "DELIVERED", "{v}");
    assert_eq!(status_of(&v, &addr(1))["status"], "BOUNCED", "{v}");
    assert_eq!(
        status_of(&v, &addr(1))["error"],
        "smtp; 550 5.1.1 user unknown",
        "{v}"
    );
    assert_eq!(status_of(&v, &addr(2))["status"], "COMPLAINED", "{v}");
    assert_eq!(status_of(&v, &addr(3))["status"], "SENT", "{v}");
    let c = &v["counts"];
    assert_eq!(
        (
            c["sent"].as_i64(),
            c["delivered"].as_i64(),
            c["bounced"].as_i64(),
            c["complained"].as_i64()
        ),
        (Some(4), Some(1), Some(1), Some(1)),
        "{v}"
    );

    // The suppression list holds the bounce and the complaint, for MANAGE_PROFILES only.
    let list =
        "{ emailSuppressions { edges { node { address reason detail eventId createdAt } } } }";
    let resp = app.gql(Some(&admin), list, json!({})).await;
    let edges = resp["data"]["emailSuppressions"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    let reasons: Vec<(String, String)> = edges
        .iter()
        .map(|e| {
            (
                e["node"]["address"].as_str().unwrap().to_owned(),
                e["node"]["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            (addr(3), "COMPLAINT".to_owned()),
            (addr(2), "COMPLAINT".to_owned()),
            (addr(1), "BOUNCE".to_owned())
        ],
        "{resp}"
    );
    let clerk = app
        .staff_with("clerk", &[memberkey::domain::Right::SendPasswordResets])
        .await;
    assert_eq!(
        code(&app.gql(Some(&clerk), list, json!({})).await),
        "FORBIDDEN"
    );

    // The complaint opted the profile out of mass mail, audited.
    let opted: bool = app
        .sql_value(
            &format!("SELECT email_opt_out FROM profiles WHERE id = {}", ids[2]),
            "email_opt_out",
        )
        .await;
    assert!(opted);
    let audited: i64 = app
        .sql_value(
            "SELECT COUNT(*) AS n FROM audit_events WHERE action IN ('EMAIL_SUPPRESSED', 'MASS_MAIL_OPTED_OUT')",
            "n",
        )
        .await;
    assert_eq!(audited, 5);

    // Account mail to the bounced address is refused with a clear error; the complainer still
    // gets the reset they need.
    let refused = send_reset(&app, &admin, &ids[1]).await;
    assert_eq!(code(&refused), "ADDRESS_SUPPRESSED", "{refused}");
    assert_eq!(refused["errors"][0]["extensions"]["address"], addr(1));
    let ok = send_reset(&app, &admin, &ids[2]).await;
    assert!(ok["errors"].is_null(), "{ok}");

    // A later mass send skips the suppressed address (and the opted-out profile).
    let (later, _, _) = {
        let mass = create_ok(
            &app,
            &admin,
            json!({ "subject": "More news", "html": "<p>Hi</p><p>{{unsubscribe_link}}</p>", "purpose": "NEWS", "recipients": { "profileIds": ids } }),
        )
        .await;
        let resp = app.gql(Some(&admin), SEND, json!({ "id": mass })).await;
        assert!(resp["errors"].is_null(), "{resp}");
        (mass, (), ())
    };
    app.app.drain_mail().await.unwrap();
    let v = view(&app, &admin, &later).await;
    assert_eq!(status_of(&v, &addr(1))["skipReason"], "SUPPRESSED", "{v}");
    assert_eq!(status_of(&v, &addr(2))["skipReason"], "OPTED_OUT", "{v}");
    assert_eq!(v["counts"]["sent"], 1, "{v}");

    // Cleared once the mailbox works again (audited); then the reset goes.
    let clear = "mutation($a: String!) { clearEmailSuppression(address: $a) { suppression { address reason } } }";
    // Over the WebSocket, guarded the same way; the address in any spelling.
    let mut ws = WsClient::connect(&app, Some(&clerk)).await;
    let vars = json!({ "a": "ANN1@example.org" });
    assert_eq!(
        code(&ws.run(clear, vars.clone()).await.unwrap()),
        "FORBIDDEN"
    );
    let mut ws = WsClient::connect(&app, Some(&admin)).await;
    let resp = ws.run(clear, vars).await.unwrap();
    assert_eq!(
        resp["data"]["clearEmailSuppression"]["suppression"]["reason"], "BOUNCE",
        "{resp}"
    );
    assert_eq!(
        code(&app.gql(Some(&admin), clear, json!({ "a": addr(1) })).await),
        "NOT_FOUND"
    );
    let ok = send_reset(&app, &admin, &ids[1]).await;
    assert!(ok["errors"].is_null(), "{ok}");
    let cleared: i64 = app
        .sql_value(
            "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'EMAIL_SUPPRESSION_CLEARED'",
            "n",
        )
        .await;
    assert_eq!(cleared, 1);
}

per_backend!(
    reports_move_deliveries_and_fill_the_suppression_list,
    super::reports_move_deliveries_and_fill_the_suppression_list
);

async fn a_reset_queued_before_the_bounce_is_skipped_not_sent(backend: Backend) {
    let (app, sns) = start(backend).await;
    let admin = app.admin().await;
    let (_, ids, rows) = sent_to(&app, &admin, 1).await;
    // Mail is held: the reset waits in the queue while the bounce arrives.
    app.sql_exec("INSERT INTO delivery_pause (id, paused_since, reason) VALUES (1, CURRENT_TIMESTAMP, 'held by the test')").await;
    let queued = send_reset(&app, &admin, &ids[0]).await;
    assert!(queued["errors"].is_null(), "{queued}");
    let body = notification(
        &sns,
        event("Bounce", &rows[0].0, rows[0].1, "ann0@example.org"),
        "2",
    );
    assert_eq!(post(&app, &body).await, 200);
    app.sql_exec("DELETE FROM delivery_pause").await;
    let before = app.mail.sent().len();
    app.app.drain_mail().await.unwrap();
    assert_eq!(app.mail.sent().len(), before, "nothing more was sent");
    let reason: String = app
        .sql_value(
            "SELECT skip_reason FROM outbound_emails WHERE kind = 'SET_PASSWORD_LINKS'",
            "skip_reason",
        )
        .await;
    assert_eq!(reason, "SUPPRESSED");
}

per_backend!(
    a_reset_queued_before_the_bounce_is_skipped_not_sent,
    super::a_reset_queued_before_the_bounce_is_skipped_not_sent
);

/// LIKE's wildcards in the `contains` filter are taken literally: `ann_` does not match
/// `annx`, and `%` matches only a percent sign.
async fn contains_is_literal(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let admin = app.admin().await;
    for address in ["ann_1@example.org", "annx1@example.org", "bo%b@example.org"] {
        app.sql_exec(&format!(
            "INSERT INTO email_suppressions (address_key, address, reason, created_at) \
             VALUES ('{address}', '{address}', 'BOUNCE', CURRENT_TIMESTAMP)"
        ))
        .await;
    }
    let list = |contains: &'static str| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let resp = app
                .gql(
                    Some(&admin),
                    "query($c: String) { emailSuppressions(contains: $c) { edges { node { address } } } }",
                    json!({ "c": contains }),
                )
                .await;
            let mut found: Vec<String> = resp["data"]["emailSuppressions"]["edges"]
                .as_array()
                .unwrap_or_else(|| panic!("{resp}"))
                .iter()
                .map(|e| e["node"]["address"].as_str().unwrap().to_owned())
                .collect();
            found.sort();
            found
        }
    };
    assert_eq!(list("ann_").await, ["ann_1@example.org"]);
    assert_eq!(list("ann").await.len(), 2);
    assert_eq!(list("%").await, ["bo%b@example.org"]);
    assert!(list("o\\b").await.is_empty());
}
per_backend!(
    the_suppression_filter_takes_wildcards_literally,
    super::contains_is_literal
);
