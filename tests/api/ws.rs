//! A graphql-transport-ws client for the tests, speaking to `/graphql/ws` as graphql-ws (the
//! npm client GraphiQL and SPAs use) does.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

use crate::helpers::TestApp;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct WsClient {
    ws: Socket,
    next_id: u64,
}

/// What the server did with the socket instead of answering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub code: u16,
    pub reason: String,
}

impl WsClient {
    /// Opens the socket without sending `connection_init`.
    pub async fn open(app: &TestApp) -> Self {
        let url = app.url("/graphql/ws").replace("http://", "ws://");
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("connect");
        Self { ws, next_id: 0 }
    }

    /// Opens the socket and signs in with `token` (if any); the server must acknowledge.
    pub async fn connect(app: &TestApp, token: Option<&str>) -> Self {
        let mut client = Self::open(app).await;
        client.init(token).await;
        let ack = client.next().await.expect("an acknowledgement");
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        client
    }

    pub async fn init(&mut self, token: Option<&str>) {
        let payload = match token {
            Some(t) => json!({ "Authorization": format!("Bearer {t}") }),
            None => json!({}),
        };
        self.send_raw(json!({ "type": "connection_init", "payload": payload }).to_string())
            .await;
    }

    pub async fn send_raw(&mut self, text: String) {
        self.ws.send(Message::text(text)).await.unwrap();
    }

    /// Starts an operation and returns its id.
    pub async fn subscribe(&mut self, query: &str, variables: Value) -> String {
        self.start(json!({ "query": query, "variables": variables }))
            .await
    }

    /// Starts an operation from a whole request payload and returns its id.
    pub async fn start(&mut self, payload: Value) -> String {
        self.next_id += 1;
        let id = self.next_id.to_string();
        self.send_raw(json!({ "id": id, "type": "subscribe", "payload": payload }).to_string())
            .await;
        id
    }

    /// The next JSON message, or how the socket closed.
    pub async fn next(&mut self) -> Result<Value, Closed> {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(30), self.ws.next())
                .await
                .expect("a message within 30 s");
            match msg {
                Some(Ok(Message::Text(t))) => return Ok(serde_json::from_str(&t).unwrap()),
                Some(Ok(Message::Close(frame))) => {
                    return Err(frame.map_or(
                        Closed {
                            code: 1005,
                            reason: String::new(),
                        },
                        |f| Closed {
                            code: u16::from(f.code),
                            reason: f.reason.to_string(),
                        },
                    ));
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => {
                    return Err(Closed {
                        code: u16::from(CloseCode::Abnormal),
                        reason: e.to_string(),
                    });
                }
                None => {
                    return Err(Closed {
                        code: u16::from(CloseCode::Abnormal),
                        reason: "the stream ended".into(),
                    });
                }
            }
        }
    }

    /// Runs a query or mutation and returns its result payload (`data`/`errors`), or how the
    /// socket closed instead.
    pub async fn run(&mut self, query: &str, variables: Value) -> Result<Value, Closed> {
        self.run_payload(json!({ "query": query, "variables": variables }))
            .await
    }

    /// Like [`WsClient::run`], from a whole request payload (with `operationName`, say).
    pub async fn run_payload(&mut self, payload: Value) -> Result<Value, Closed> {
        let id = self.start(payload).await;
        let mut payload = None;
        loop {
            let msg = self.next().await?;
            assert_eq!(msg["id"], id, "{msg}");
            match msg["type"].as_str() {
                Some("next") => payload = Some(msg["payload"].clone()),
                Some("complete") => return Ok(payload.expect("a result before complete")),
                Some("error") => return Ok(json!({ "errors": msg["payload"] })),
                other => panic!("unexpected {other:?}: {msg}"),
            }
        }
    }
}
