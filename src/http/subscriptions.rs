//! GraphQL subscriptions over WebSocket (`graphql-transport-ws`, and the older
//! `graphql-ws`) at `/graphql/ws`. The client signs in with its bearer token in the
//! connection's init payload: `{"Authorization": "Bearer <token>"}`.

use std::net::SocketAddr;

use async_graphql::Data;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::AppState;
use crate::services::{self, RequestMeta};

fn token_in(payload: &serde_json::Value) -> Option<String> {
    let raw = ["Authorization", "authorization", "token"]
        .iter()
        .find_map(|k| payload.get(*k).and_then(|v| v.as_str()))?;
    let token = match raw.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => t,
        _ => raw,
    };
    Some(token.trim().to_owned())
}

pub async fn graphql_ws(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let meta = RequestMeta {
        client_ip: Some(
            super::client_ip::client_ip(peer, &headers, &state.config.trusted_proxies).to_string(),
        ),
    };
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            let services = state.services.clone();
            GraphQLWebSocket::new(socket, state.schema.clone(), protocol)
                .on_connection_init(move |payload| async move {
                    let token = token_in(&payload);
                    let principal = services::auth::resolve(&services, token.as_deref())
                        .await
                        .map_err(async_graphql::Error::from)?;
                    let mut data = Data::default();
                    data.insert(principal);
                    data.insert(meta);
                    Ok(data)
                })
                .serve()
        })
}
