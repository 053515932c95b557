//! Live progress over graphql-transport-ws.

use std::sync::Arc;

use memberkey::domain::SystemClock;
use serde_json::json;

use crate::helpers::{Backend, Mail, per_backend, person, spawn_full};
use crate::mass::{SEND, create_ok};
use crate::ws::WsClient;

pub const PROGRESS: &str = "subscription($id: ID!) { massCommunicationProgress(id: $id) { status counts { total pending sent skipped } } }";

async fn progress(backend: Backend) {
    let app = spawn_full(
        backend,
        |c| c.mail.max_send_rate = 2.0,
        Arc::new(SystemClock),
        Mail::Memory,
    )
    .await;
    let token = app.admin().await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(
            app.create_profile(
                &token,
                person("P", &format!("Prog{i}"), Some(&format!("p{i}@example.org"))),
            )
            .await,
        );
    }
    let id = create_ok(&app, &token, json!({ "subject": "S", "html": "<p>{{first_name}}</p>", "recipients": { "profileIds": ids } })).await;

    // Without a staff sign-in the subscription is refused with a code.
    let mut anon = WsClient::connect(&app, None).await;
    anon.subscribe(PROGRESS, json!({ "id": id })).await;
    let refused = anon.next().await.expect("an answer");
    assert_eq!(refused["type"], "next", "{refused}");
    assert!(refused["payload"]["data"].is_null(), "{refused}");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{refused}"
    );

    let mut ws = WsClient::connect(&app, Some(&token)).await;
    app.gql(Some(&token), SEND, json!({ "id": id })).await;
    ws.subscribe(PROGRESS, json!({ "id": id })).await;
    let mut reports = Vec::new();
    loop {
        let msg = ws.next().await.expect("the socket stays open");
        match msg["type"].as_str() {
            Some("next") => {
                reports.push(msg["payload"]["data"]["massCommunicationProgress"].clone())
            }
            Some("complete") => break,
            other => panic!("unexpected {other:?}: {msg}"),
        }
    }
    assert!(
        reports.len() >= 3,
        "several updates while sending at 4/s: {reports:#?}"
    );
    let last = reports.last().unwrap();
    assert_eq!(last["status"], "SENT");
    assert_eq!(
        last["counts"],
        json!({ "total": 6, "pending": 0, "sent": 6, "skipped": 0 })
    );
    let sent: Vec<i64> = reports
        .iter()
        .map(|r| r["counts"]["sent"].as_i64().unwrap())
        .collect();
    assert!(
        sent.windows(2).all(|w| w[0] <= w[1]),
        "counts only grow: {sent:?}"
    );
}
per_backend!(progress_is_pushed_while_sending, super::progress);
