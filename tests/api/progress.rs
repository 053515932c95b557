//! Live progress over graphql-transport-ws.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use memberkey::domain::SystemClock;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

use crate::helpers::{Backend, Mail, TestApp, per_backend, person, spawn_full};
use crate::mass::{SEND, create_ok};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp, token: Option<&str>) -> Socket {
    let url = app.url("/graphql/ws").replace("http://", "ws://");
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    let payload = match token {
        Some(t) => json!({ "Authorization": format!("Bearer {t}") }),
        None => json!({}),
    };
    ws.send(Message::text(
        json!({ "type": "connection_init", "payload": payload }).to_string(),
    ))
    .await
    .unwrap();
    let ack = next_json(&mut ws).await;
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    ws
}

async fn next_json(ws: &mut Socket) -> Value {
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(30), ws.next())
            .await
            .expect("a message within 30 s")
            .expect("the socket is open")
            .unwrap();
        if let Message::Text(t) = msg {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

async fn subscribe(ws: &mut Socket, id: &str) {
    let query = "subscription($id: ID!) { massCommunicationProgress(id: $id) { status counts { total pending sent skipped } } }";
    ws.send(Message::text(
        json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": { "id": id } } }).to_string(),
    ))
    .await
    .unwrap();
}

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
    let mut anon = connect(&app, None).await;
    subscribe(&mut anon, &id).await;
    let refused = next_json(&mut anon).await;
    assert_eq!(refused["type"], "next", "{refused}");
    assert!(refused["payload"]["data"].is_null(), "{refused}");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{refused}"
    );

    let mut ws = connect(&app, Some(&token)).await;
    app.gql(Some(&token), SEND, json!({ "id": id })).await;
    subscribe(&mut ws, &id).await;
    let mut reports = Vec::new();
    loop {
        let msg = next_json(&mut ws).await;
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
