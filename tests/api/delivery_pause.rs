//! Pause, do not fail (issue 13): when the provider refuses the account or the sender, the
//! whole queue pauses with the reason, no message is marked failed, and `resumeDelivery` sends
//! them all once the account is fixed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use memberkey::domain::{Right, SystemClock};
use memberkey::mail::memory::MemoryTransport;
use memberkey::mail::{MailTransport, OutgoingEmail, SendError};
use serde_json::{Value, json};

use crate::helpers::{Backend, Mail, TestApp, code, per_backend, person, spawn_full};
use crate::mass::{SEND, create_ok};
use crate::resets::send_reset;
use crate::ses::Moto;
use crate::ws::WsClient;

const STATE: &str = "{ deliveryState { paused reason since } }";
const RESUME: &str = "mutation { resumeDelivery { deliveryState { paused reason since } } }";

/// Refuses every message with `refusal` until `fixed` is set, then delivers into `inner`.
pub struct Refusing {
    pub fixed: AtomicBool,
    pub inner: MemoryTransport,
    refusal: fn() -> SendError,
}

impl Refusing {
    pub fn new(refusal: fn() -> SendError) -> Arc<Self> {
        Arc::new(Self {
            fixed: AtomicBool::new(false),
            inner: MemoryTransport::new(),
            refusal,
        })
    }
}

#[async_trait::async_trait]
impl MailTransport for Refusing {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, SendError> {
        if self.fixed.load(Ordering::SeqCst) {
            self.inner.send(email).await
        } else {
            Err((self.refusal)())
        }
    }
}

async fn statuses(app: &TestApp) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for status in ["QUEUED", "SENDING", "SENT", "FAILED"] {
        let n: i64 = app
            .sql_value(
                &format!("SELECT COUNT(*) AS n FROM outbound_emails WHERE status = '{status}'"),
                "n",
            )
            .await;
        out.push((status.to_owned(), n));
    }
    out
}

/// `n` people with addresses `ann{i}@example.org`, created through the API.
pub async fn people(app: &TestApp, admin: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(
            app.create_profile(
                admin,
                person(
                    "Ann",
                    &format!("Berg{i}"),
                    Some(&format!("ann{i}@example.org")),
                ),
            )
            .await,
        );
    }
    ids
}

async fn state(app: &TestApp, token: &str) -> Value {
    let resp = app.gql(Some(token), STATE, json!({})).await;
    assert!(resp["errors"].is_null(), "{resp}");
    resp["data"]["deliveryState"].clone()
}

async fn a_refused_account_pauses_the_queue(backend: Backend) {
    // As SES refuses a suspended account.
    let transport = Refusing::new(|| {
        SendError::AccountRefused(
            "AccountSuspendedException: Your account has been suspended".into(),
        )
    });
    let app = spawn_full(
        backend,
        |_| {},
        Arc::new(SystemClock),
        Mail::Custom(transport.clone()),
    )
    .await;
    let admin = app.admin().await;
    assert_eq!(state(&app, &admin).await["paused"], false);
    let ids = people(&app, &admin, 5).await;
    let mass = create_ok(
        &app,
        &admin,
        json!({ "subject": "News", "html": "<p>Hello {{first_name}}</p>", "recipients": { "profileIds": ids } }),
    )
    .await;
    app.gql(Some(&admin), SEND, json!({ "id": mass })).await;
    send_reset(&app, &admin, &ids[0]).await;
    app.app.drain_mail().await.unwrap();

    // Nothing failed: every message waits, and the state says why.
    assert_eq!(
        statuses(&app).await,
        [
            ("QUEUED".into(), 6),
            ("SENDING".into(), 0),
            ("SENT".into(), 0),
            ("FAILED".into(), 0)
        ]
    );
    let paused = state(&app, &admin).await;
    assert_eq!(paused["paused"], true, "{paused}");
    assert!(
        paused["reason"]
            .as_str()
            .unwrap()
            .contains("AccountSuspendedException"),
        "{paused}"
    );
    assert!(paused["since"].is_string(), "{paused}");
    let view = app
        .gql(
            Some(&admin),
            "query($id: ID!) { massCommunication(id: $id) { status counts { failed pending } } }",
            json!({ "id": mass }),
        )
        .await;
    assert_eq!(
        view["data"]["massCommunication"]["counts"],
        json!({ "failed": 0, "pending": 5 }),
        "{view}"
    );
    assert_ne!(
        view["data"]["massCommunication"]["status"], "FAILED",
        "{view}"
    );
    // While paused, the worker hands the provider nothing more: one refusal per round at most.
    app.app.drain_mail().await.unwrap();
    assert_eq!(statuses(&app).await[0], ("QUEUED".into(), 6));

    // The state and the resume need SEND_MASS_COMMUNICATIONS, over HTTP and the socket alike.
    let clerk = app.staff_with("clerk", &[Right::ManageProfiles]).await;
    for query in [STATE, RESUME] {
        let resp = app.gql(Some(&clerk), query, json!({})).await;
        assert_eq!(code(&resp), "FORBIDDEN", "{query}: {resp}");
        let mut ws = WsClient::connect(&app, Some(&clerk)).await;
        assert_eq!(
            code(&ws.run(query, json!({})).await.unwrap()),
            "FORBIDDEN",
            "{query}"
        );
    }
    let mut ws = WsClient::connect(&app, Some(&admin)).await;
    let over_socket = ws.run(STATE, json!({})).await.unwrap();
    assert_eq!(over_socket["data"]["deliveryState"], paused);

    // Fixed and resumed: everything goes out, once.
    transport.fixed.store(true, Ordering::SeqCst);
    let resumed = app.gql(Some(&admin), RESUME, json!({})).await;
    assert_eq!(
        resumed["data"]["resumeDelivery"]["deliveryState"],
        json!({ "paused": false, "reason": null, "since": null }),
        "{resumed}"
    );
    let sent = transport
        .inner
        .wait_for(6, std::time::Duration::from_secs(20))
        .await;
    assert_eq!(sent.len(), 6);
    app.app.drain_mail().await.unwrap();
    assert_eq!(statuses(&app).await[2], ("SENT".into(), 6));
    let audit = app
        .gql(
            Some(&admin),
            "{ auditEvents(first: 50) { edges { node { action actorKind } } } }",
            json!({}),
        )
        .await
        .to_string();
    assert_eq!(
        audit.matches("DELIVERY_PAUSED").count(),
        1,
        "paused once: {audit}"
    );
    assert_eq!(audit.matches("DELIVERY_RESUMED").count(), 1, "{audit}");
}
per_backend!(
    a_refused_account_pauses_delivery_and_fails_nothing,
    super::a_refused_account_pauses_the_queue
);

/// Against the SES emulator: a sender that is not verified is refused for every message,
/// which pauses delivery; once it is registered, resuming sends the message.
async fn an_unverified_sender_pauses_delivery(backend: Backend) {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let transport = Arc::new(moto.unregistered_transport().await);
    let app = spawn_full(
        backend,
        |_| {},
        Arc::new(SystemClock),
        Mail::Custom(transport),
    )
    .await;
    let admin = app.admin().await;
    let ids = people(&app, &admin, 2).await;
    send_reset(&app, &admin, &ids[0]).await;
    send_reset(&app, &admin, &ids[1]).await;
    app.app.drain_mail().await.unwrap();
    let paused = state(&app, &admin).await;
    assert_eq!(paused["paused"], true, "{paused}");
    assert!(
        paused["reason"].as_str().unwrap()
            == "MessageRejected: Did not have authority to send from email no-reply@chamber.example",
        "{paused}"
    );
    assert_eq!(statuses(&app).await[3], ("FAILED".into(), 0));
    assert!(moto.sent().await.is_empty());

    moto.register_sender().await;
    app.gql(Some(&admin), RESUME, json!({})).await;
    assert_eq!(moto.wait_for(2).await.len(), 2);
    app.app.drain_mail().await.unwrap();
    assert_eq!(statuses(&app).await[2], ("SENT".into(), 2));
}
per_backend!(
    an_unverified_sender_pauses_delivery_on_the_ses_emulator,
    super::an_unverified_sender_pauses_delivery
);
