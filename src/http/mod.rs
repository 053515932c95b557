//! The axum router: `POST /graphql`, `GET /graphql` (queries and GraphiQL), `GET /graphql/ws`
//! (subscriptions), `/healthz`, `POST /webhooks/ses` (the mail provider's reports), the built-in
//! `/portal` pages and GraphiQL's files.

mod assets;
mod client_ip;
mod graphiql;
mod graphql;
mod oidc;
mod portal;
mod refusals;
mod staff;
mod webhooks;
mod websocket;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::graphql::AppSchema;
use crate::services::Services;

/// What every handler shares. axum clones the state for every request, so it is one `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The contents of [`AppState`].
pub struct Shared {
    pub schema: AppSchema,
    pub services: Services,
    pub config: Arc<Config>,
}

impl AppState {
    pub fn new(schema: AppSchema, services: Services, config: Arc<Config>) -> Self {
        Self(Arc::new(Shared {
            schema,
            services,
            config,
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub fn router(state: AppState) -> Router {
    let limit = state.config.body_limit_bytes;
    let mut router = Router::new()
        .route(
            "/graphql",
            get(graphql::get_graphql).post(graphql::post_graphql),
        )
        .route("/graphql/ws", get(websocket::graphql_ws))
        .route("/healthz", get(healthz))
        .route("/webhooks/ses", axum::routing::post(webhooks::ses))
        .merge(portal::routes())
        .merge(oidc::routes())
        .merge(staff::routes());
    if state.config.graphiql {
        router = router.merge(graphiql::routes());
    }
    if let Some(cors) = cors(&state.config) {
        router = router.layer(cors);
    }
    router
        .layer(DefaultBodyLimit::max(limit))
        .layer(RequestBodyLimitLayer::new(limit))
        // Outside the limits, so their 413 gets the shape every other error has.
        .layer(axum::middleware::from_fn(refusals::shape))
        // Spans carry method and path only: the URI's query string may hold a GET query.
        // They are at DEBUG: formatting a span for every request costs more than the rest of
        // a small query, and errors carry their own correlation id. Turn them on with
        // MEMBERKEY_LOG=info,memberkey::http=debug.
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            tracing::debug_span!("http", method = %req.method(), path = %crate::logsafe::Field(req.uri().path()))
        }))
        .with_state(state)
}

/// Lets the configured browser origins (the association's own SPA) call the API. Bearer
/// tokens, not cookies, carry sign-ins, so no credentials mode is needed.
fn cors(config: &Config) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::{HeaderValue, Method, header};
    let origins: Vec<HeaderValue> = config
        .cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    (!origins.is_empty()).then(|| {
        tower_http::cors::CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
            .max_age(std::time::Duration::from_secs(600))
    })
}

/// The facts about a request that use cases record, read the same way for HTTP and WebSocket.
fn request_meta(
    state: &AppState,
    peer: std::net::SocketAddr,
    headers: &axum::http::HeaderMap,
) -> crate::services::RequestMeta {
    crate::services::RequestMeta {
        client_ip: Some(
            client_ip::client_ip(peer, headers, &state.config.trusted_proxies).to_string(),
        ),
        user_agent: headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(256).collect()),
    }
}

async fn healthz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match state.services.db.ping().await {
        Ok(()) => (axum::http::StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::error!(cause = %e, "health check: database unreachable");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "database unavailable",
            )
                .into_response()
        }
    }
}
