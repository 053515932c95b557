//! A communication whose deliveries keep failing pauses itself (issue 13): more than the
//! configured share of its first outcomes failed, or too many failed in a row. It is then
//! `PAUSED` with the reason, its other messages wait, and staff resume or cancel it.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use memberkey::domain::{MassPauseRule, Right, SystemClock};
use memberkey::mail::SendError;
use serde_json::{Value, json};

use crate::delivery_pause::{Refusing, people};
use crate::helpers::{Backend, Mail, TestApp, code, per_backend, spawn_full};
use crate::mass::{SEND, create_ok};
use crate::ws::WsClient;

const VIEW: &str = "query($id: ID!) { massCommunication(id: $id) { status pauseReason counts { total pending sent failed cancelled } } }";
const RESUME: &str = "mutation($id: ID!) { resumeMassCommunication(id: $id) { massCommunication { status pauseReason } } }";
pub const CANCEL: &str =
    "mutation($id: ID!) { cancelMassCommunication(id: $id) { massCommunication { status } } }";

async fn start(backend: Backend, rule: MassPauseRule) -> (TestApp, Arc<Refusing>) {
    // Every message refused for good (a bad list, a template the provider rejects).
    let transport =
        Refusing::new(|| SendError::Permanent("MessageRejected: mailbox unavailable".into()));
    let app = spawn_full(
        backend,
        move |c| {
            c.mail.mass_pause = rule;
            // Two in flight: a send holds its slot until its outcome is stored, so at most two
            // more are tried after the outcome that pauses it.
            c.mail.send_concurrency = 2;
        },
        Arc::new(SystemClock),
        Mail::Custom(transport.clone()),
    )
    .await;
    (app, transport)
}

async fn send_to(app: &TestApp, admin: &str, n: usize) -> String {
    let ids = people(app, admin, n).await;
    let mass = create_ok(
        app,
        admin,
        json!({ "subject": "News", "html": "<p>Hello {{first_name}}</p>", "recipients": { "profileIds": ids } }),
    )
    .await;
    let resp = app.gql(Some(admin), SEND, json!({ "id": mass })).await;
    assert!(resp["errors"].is_null(), "{resp}");
    mass
}

async fn view(app: &TestApp, token: &str, id: &str) -> Value {
    let resp = app.gql(Some(token), VIEW, json!({ "id": id })).await;
    assert!(resp["errors"].is_null(), "{resp}");
    resp["data"]["massCommunication"].clone()
}

async fn too_many_failures_pause_it(backend: Backend) {
    let rule = MassPauseRule {
        rate: Some(0.2),
        window: 10,
        in_a_row: None,
    };
    let (app, transport) = start(backend, rule).await;
    let admin = app.admin().await;
    let mass = send_to(&app, &admin, 30).await;
    app.app.drain_mail().await.unwrap();

    // More than 2 of the first 10 failed: it stopped itself, long before all 30 failed.
    let v = view(&app, &admin, &mass).await;
    assert_eq!(v["status"], "PAUSED", "{v}");
    assert!(
        v["pauseReason"]
            .as_str()
            .unwrap()
            .contains("of its first 10 deliveries failed"),
        "{v}"
    );
    let failed = v["counts"]["failed"].as_i64().unwrap();
    assert!((3..=5).contains(&failed), "{v}");
    assert_eq!(v["counts"]["pending"].as_i64().unwrap(), 30 - failed, "{v}");
    // Paused, nothing more is tried.
    app.app.drain_mail().await.unwrap();
    assert_eq!(view(&app, &admin, &mass).await["counts"]["failed"], failed);

    // Only SEND_MASS_COMMUNICATIONS may resume, over HTTP and the socket alike.
    let clerk = app.staff_with("clerk", &[Right::ManageProfiles]).await;
    let vars = json!({ "id": mass });
    assert_eq!(
        code(&app.gql(Some(&clerk), RESUME, vars.clone()).await),
        "FORBIDDEN"
    );
    let mut ws = WsClient::connect(&app, Some(&clerk)).await;
    assert_eq!(
        code(&ws.run(RESUME, vars.clone()).await.unwrap()),
        "FORBIDDEN"
    );

    // Fixed and resumed over the socket: the rest go out, and it ends SENT.
    transport.fixed.store(true, Ordering::SeqCst);
    let mut ws = WsClient::connect(&app, Some(&admin)).await;
    let resumed = ws.run(RESUME, vars.clone()).await.unwrap();
    assert_eq!(
        resumed["data"]["resumeMassCommunication"]["massCommunication"]["pauseReason"],
        Value::Null,
        "{resumed}"
    );
    transport
        .inner
        .wait_for(30 - failed as usize, std::time::Duration::from_secs(120))
        .await;
    app.app.drain_mail().await.unwrap();
    let v = view(&app, &admin, &mass).await;
    assert_eq!(v["counts"]["sent"].as_i64().unwrap(), 30 - failed, "{v}");
    assert_eq!(v["status"], "SENT", "{v}");
    // A communication that is not paused cannot be resumed.
    assert_eq!(code(&app.gql(Some(&admin), RESUME, vars).await), "CONFLICT");
    let audit = app
        .gql(
            Some(&admin),
            "{ auditEvents(first: 50) { edges { node { action } } } }",
            json!({}),
        )
        .await
        .to_string();
    assert_eq!(
        audit.matches("MASS_COMMUNICATION_PAUSED").count(),
        1,
        "{audit}"
    );
    assert_eq!(
        audit.matches("MASS_COMMUNICATION_RESUMED").count(),
        1,
        "{audit}"
    );
}
per_backend!(
    a_communication_whose_deliveries_fail_pauses_itself_and_resumes,
    super::too_many_failures_pause_it
);

async fn failures_in_a_row_pause_it(backend: Backend) {
    let rule = MassPauseRule {
        rate: None,
        window: 100,
        in_a_row: Some(4),
    };
    let (app, _transport) = start(backend, rule).await;
    let admin = app.admin().await;
    let mass = send_to(&app, &admin, 20).await;
    app.app.drain_mail().await.unwrap();
    let v = view(&app, &admin, &mass).await;
    assert_eq!(v["status"], "PAUSED", "{v}");
    assert!(
        v["pauseReason"]
            .as_str()
            .unwrap()
            .contains("in a row failed"),
        "{v}"
    );
    assert!(v["counts"]["failed"].as_i64().unwrap() < 20, "{v}");

    // A paused communication can be cancelled: what waited is cancelled.
    let resp = app.gql(Some(&admin), CANCEL, json!({ "id": mass })).await;
    assert_eq!(
        resp["data"]["cancelMassCommunication"]["massCommunication"]["status"], "CANCELLED",
        "{resp}"
    );
    let v = view(&app, &admin, &mass).await;
    assert_eq!(
        v["counts"]["cancelled"].as_i64().unwrap() + v["counts"]["failed"].as_i64().unwrap(),
        20,
        "{v}"
    );
}
per_backend!(
    failures_in_a_row_pause_a_communication_which_can_then_be_cancelled,
    super::failures_in_a_row_pause_it
);
