//! GraphQL over WebSocket (`graphql-transport-ws`, and the older `graphql-ws`) at
//! `/graphql/ws`: queries, mutations and subscriptions. The client signs in with its bearer
//! token in the connection's init payload: `{"Authorization": "Bearer <token>"}`.
//!
//! The socket holds the token, never a resolved caller. Every operation it starts goes
//! through the same request-context builder as HTTP, so the session and the staff user's
//! current rights are checked afresh, and each subscription event checks them again. When the
//! session has ended the socket closes with 4401; when a staff user lost rights it held at
//! sign-in, with 4403. Every message obeys the HTTP body limit (1009 when over it), and a
//! connection that does not initialise in time closes with 4408.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_graphql::http::{WebSocketProtocols, WsMessage};
use async_graphql::{Data, Executor, Request, Response};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use futures_util::stream::{BoxStream, StreamExt};
use futures_util::{SinkExt, future};
use tokio::sync::mpsc;

use super::AppState;
use crate::domain::{ProfileId, Right, StaffUserId};
use crate::error::AppError;
use crate::graphql::RequestContext;
use crate::services::{self, Principal, RequestMeta};

/// Close codes a client can act on.
const SESSION_ENDED: u16 = 4401;
const RIGHTS_LOST: u16 = 4403;
const INIT_TIMEOUT: u16 = 4408;
const TOO_BIG: u16 = 1009;

/// How often an idle socket checks that its session still stands.
const RECHECK_EVERY: Duration = Duration::from_secs(30);

fn token_in(payload: &serde_json::Value) -> Option<String> {
    let raw = ["Authorization", "authorization", "token"]
        .iter()
        .find_map(|k| payload.get(*k).and_then(|v| v.as_str()))?;
    let token = match raw.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => t,
        _ => raw,
    };
    Some(token.trim().to_owned()).filter(|t| !t.is_empty())
}

/// The first sub-protocol the client offers that we speak.
fn negotiate(headers: &HeaderMap) -> Option<WebSocketProtocols> {
    headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)?
        .to_str()
        .ok()?
        .split(',')
        .find_map(|p| WebSocketProtocols::from_str(p.trim()).ok())
}

pub(super) async fn graphql_ws(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> HttpResponse {
    let Some(protocol) = negotiate(&headers) else {
        return (
            StatusCode::BAD_REQUEST,
            "offer the graphql-transport-ws (or graphql-ws) sub-protocol",
        )
            .into_response();
    };
    let meta = super::request_meta(&state, peer, &headers);
    let limit = state.config.body_limit_bytes;
    upgrade
        .protocols([protocol.sec_websocket_protocol()])
        // The transport refuses far larger messages outright; between the two the client gets
        // a close frame that says why.
        .max_message_size(limit.saturating_mul(16))
        .max_frame_size(limit.saturating_mul(16))
        .on_upgrade(move |socket| serve(socket, state, protocol, meta))
}

/// Who the connection signed in as, to tell an ended session or lost rights apart.
#[derive(Debug, Clone)]
enum Baseline {
    Anonymous,
    Staff { id: StaffUserId, rights: Vec<Right> },
    Member { profile: ProfileId },
}

impl Baseline {
    fn of(principal: &Principal) -> Self {
        match principal {
            Principal::Anonymous => Baseline::Anonymous,
            Principal::Staff(s) => Baseline::Staff {
                id: s.user.id,
                rights: s.user.rights.clone(),
            },
            Principal::Member(m) => Baseline::Member {
                profile: m.profile_id,
            },
        }
    }

    /// Why the socket must close, if it must.
    fn verdict(&self, now: &Principal) -> Option<(u16, &'static str)> {
        match (self, now) {
            (Baseline::Anonymous, _) => None,
            (Baseline::Staff { id, rights }, Principal::Staff(s)) if s.user.id == *id => {
                (!rights.iter().all(|r| s.user.has(*r))).then_some((
                    RIGHTS_LOST,
                    "Your rights have changed. Reconnect to continue with your current rights.",
                ))
            }
            (Baseline::Member { profile }, Principal::Member(m)) if m.profile_id == *profile => {
                None
            }
            _ => Some((
                SESSION_ENDED,
                "Your session has ended. Sign in again, then reconnect.",
            )),
        }
    }
}

struct Session {
    token: Option<String>,
    baseline: Baseline,
}

/// One socket's state, shared by the executor and the serving loop.
struct Connection {
    state: AppState,
    meta: RequestMeta,
    session: OnceLock<Session>,
    close: mpsc::UnboundedSender<(u16, String)>,
}

impl Connection {
    fn close(&self, code: u16, reason: &str) {
        let _ = self.close.send((code, reason.to_owned()));
    }

    /// The context for one operation, built exactly as for an HTTP request (which marks the
    /// session as used), or the error it answers with when the session has ended, in which
    /// case the socket is closing.
    async fn context(&self) -> Result<RequestContext, AppError> {
        let session = self.session()?;
        let ctx = RequestContext::build(
            &self.state.services,
            session.token.as_deref(),
            self.meta.clone(),
        )
        .await?;
        self.judge(session, &ctx.principal)?;
        Ok(ctx)
    }

    /// Checks that the session still stands, without counting as activity (subscription
    /// events and the idle socket's periodic look).
    async fn recheck(&self) -> Result<(), AppError> {
        let session = self.session()?;
        let principal =
            services::auth::recheck(&self.state.services, session.token.as_deref()).await?;
        self.judge(session, &principal)
    }

    fn session(&self) -> Result<&Session, AppError> {
        self.session
            .get()
            .ok_or_else(|| AppError::internal("operation before connection_init"))
    }

    /// Closes the socket (and refuses the operation) when the caller is no longer who
    /// signed the socket in, or lost rights.
    fn judge(&self, session: &Session, now: &Principal) -> Result<(), AppError> {
        match session.baseline.verdict(now) {
            None => Ok(()),
            Some((code, reason)) => {
                self.close(code, reason);
                Err(match code {
                    RIGHTS_LOST => AppError::Forbidden { right: None },
                    _ => AppError::Unauthenticated,
                })
            }
        }
    }
}

fn error_response(err: AppError) -> Response {
    Response::from_errors(vec![err.into()])
}

/// Runs each operation of the socket with a freshly built context.
#[derive(Clone)]
struct SocketExecutor(Arc<Connection>);

impl Executor for SocketExecutor {
    async fn execute(&self, request: Request) -> Response {
        match self.0.context().await {
            Ok(ctx) => self.0.state.schema.execute(ctx.attach(request)).await,
            Err(e) => error_response(e),
        }
    }

    fn execute_stream(
        &self,
        request: Request,
        _session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let conn = self.0.clone();
        let start = async move {
            let ctx = match conn.context().await {
                Ok(ctx) => ctx,
                Err(e) => {
                    return futures_util::stream::once(future::ready(error_response(e))).boxed();
                }
            };
            let events = conn.state.schema.execute_stream(ctx.attach(request));
            // Each event after the first checks the session again before it is sent.
            let mut first = true;
            events
                .then(move |event| {
                    let conn = conn.clone();
                    let check = !std::mem::replace(&mut first, false);
                    async move {
                        if check && conn.recheck().await.is_err() {
                            None
                        } else {
                            Some(event)
                        }
                    }
                })
                .take_while(|e| future::ready(e.is_some()))
                .filter_map(future::ready)
                .boxed()
        };
        futures_util::stream::once(start).flatten().boxed()
    }
}

async fn serve(
    socket: WebSocket,
    state: AppState,
    protocol: WebSocketProtocols,
    meta: RequestMeta,
) {
    let (close_tx, mut close_rx) = mpsc::unbounded_channel();
    let limit = state.config.body_limit_bytes;
    let init_timeout = state.config.ws_init_timeout;
    let conn = Arc::new(Connection {
        state,
        meta,
        session: OnceLock::new(),
        close: close_tx,
    });
    let (mut sink, source) = socket.split();

    let oversized = conn.clone();
    let input = source
        .take_while(|m| future::ready(m.is_ok()))
        .filter_map(|m| {
            future::ready(match m {
                Ok(Message::Text(t)) => Some(axum::body::Bytes::from(t)),
                Ok(Message::Binary(b)) => Some(b),
                _ => None,
            })
        })
        .take_while(move |bytes| {
            let fits = bytes.len() <= limit;
            if !fits {
                oversized.close(TOO_BIG, &format!("A message may be at most {limit} bytes."));
            }
            future::ready(fits)
        });

    let init_conn = conn.clone();
    let messages =
        async_graphql::http::WebSocket::new(SocketExecutor(conn.clone()), input, protocol)
            .on_connection_init(move |payload| async move {
                let token = token_in(&payload);
                let principal =
                    services::auth::resolve(&init_conn.state.services, token.as_deref())
                        .await
                        .map_err(async_graphql::Error::from)?;
                if token.is_some() && matches!(principal, Principal::Anonymous) {
                    init_conn.close(
                        SESSION_ENDED,
                        "The token is not valid or the session has ended. Sign in again.",
                    );
                }
                let _ = init_conn.session.set(Session {
                    token,
                    baseline: Baseline::of(&principal),
                });
                Ok(Data::default())
            });
    futures_util::pin_mut!(messages);

    let init_deadline = tokio::time::sleep(init_timeout);
    tokio::pin!(init_deadline);
    let mut recheck = tokio::time::interval(RECHECK_EVERY);
    recheck.reset();

    let closing: Option<(u16, String)> = loop {
        tokio::select! {
            biased;
            Some(close) = close_rx.recv() => break Some(close),
            () = &mut init_deadline, if conn.session.get().is_none() => {
                break Some((INIT_TIMEOUT, "Connection initialisation timeout".into()));
            }
            message = messages.next() => {
                // A close decided while producing this message goes first.
                if let Ok(close) = close_rx.try_recv() {
                    break Some(close);
                }
                let Some(message) = message else { break None };
                let out = match message {
                    WsMessage::Text(text) => Message::Text(text.into()),
                    WsMessage::Close(code, reason) => break Some((code, reason)),
                };
                if sink.send(out).await.is_err() {
                    break None;
                }
            }
            _ = recheck.tick(), if conn.session.get().is_some_and(|s| s.token.is_some()) => {
                // Closes the socket through the channel when the session has ended.
                let _ = conn.recheck().await;
            }
        }
    };
    if let Some((code, reason)) = closing {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = sink.send(Message::Close(Some(frame))).await;
    }
    let _ = sink.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_token_in_any_common_spelling() {
        let t = |v: serde_json::Value| token_in(&v);
        assert_eq!(
            t(serde_json::json!({ "Authorization": "Bearer abc" })).as_deref(),
            Some("abc")
        );
        assert_eq!(
            t(serde_json::json!({ "token": "abc" })).as_deref(),
            Some("abc")
        );
        assert_eq!(t(serde_json::json!({ "Authorization": "" })), None);
        assert_eq!(t(serde_json::json!({})), None);
    }
}
