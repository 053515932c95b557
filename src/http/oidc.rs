//! The OpenID Connect provider's endpoints that sites' servers (and browser apps) call
//! directly: discovery, the JWKS, token, userinfo and revocation. Each answers JSON in the
//! protocol's own error shape (`error`, `error_description`), never the GraphQL one, and
//! may be called from any origin (no cookies are involved).
//!
//! The browser's endpoints (authorization and logout) are member pages, in `portal::sites`.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::json;

use super::{AppState, request_meta};
use crate::domain::Scope;
use crate::services::oidc::tokens::{self, ClientAuth, Grant};
use crate::services::oidc::{self, OidcError};

pub(super) fn routes() -> Router<AppState> {
    let cors = tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]);
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/oidc/jwks", get(jwks))
        .route("/oidc/token", post(token))
        .route("/oidc/userinfo", get(userinfo_get).post(userinfo_post))
        .route("/oidc/revoke", post(revoke))
        .layer(cors)
}

/// JSON that no cache keeps (RFC 6749 §5.1).
fn no_store(status: StatusCode, body: serde_json::Value) -> Response {
    let mut resp = (status, axum::Json(body)).into_response();
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

fn refused(error: OidcError) -> Response {
    match error {
        OidcError::Refused { error, description } => {
            let status = if error == "invalid_client" {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::BAD_REQUEST
            };
            let mut resp = no_store(
                status,
                json!({ "error": error, "error_description": description }),
            );
            if status == StatusCode::UNAUTHORIZED {
                resp.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"memberkey\""),
                );
            }
            resp
        }
        OidcError::Internal(e) => {
            let reference = uuid::Uuid::new_v4().to_string();
            tracing::error!(correlation_id = %reference, cause = %crate::logsafe::Field(&e.log_text()), "OpenID Connect endpoint failed");
            no_store(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({ "error": "server_error", "error_description": format!("something went wrong on the provider's side; reference {reference}") }),
            )
        }
    }
}

async fn discovery(State(state): State<AppState>) -> Response {
    let base = oidc::issuer(&state.services);
    let scopes: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
    let doc = json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/oidc/authorize"),
        "token_endpoint": format!("{base}/oidc/token"),
        "userinfo_endpoint": format!("{base}/oidc/userinfo"),
        "jwks_uri": format!("{base}/oidc/jwks"),
        "end_session_endpoint": format!("{base}/oidc/logout"),
        "revocation_endpoint": format!("{base}/oidc/revoke"),
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "azp", "name", "given_name",
            "family_name", "preferred_username", "email", "email_verified", "member_status",
            "organization"
        ],
        "prompt_values_supported": ["none", "login"],
        "authorization_response_iss_parameter_supported": true,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    });
    let mut resp = axum::Json(doc).into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    resp
}

async fn jwks(State(state): State<AppState>) -> Response {
    match state.services.oidc_keys.jwks(&state.services).await {
        Ok(set) => {
            let mut resp = axum::Json(set).into_response();
            resp.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            );
            resp
        }
        Err(e) => refused(OidcError::Internal(e)),
    }
}

/// The token and revocation requests' form fields.
#[derive(Deserialize, Default)]
pub(super) struct TokenForm {
    #[serde(default)]
    grant_type: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default)]
    code_verifier: Option<String>,
    #[serde(default)]
    refresh_token: String,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    token: String,
}

/// The site's credentials: HTTP Basic (RFC 6749 §2.3.1: each part form-urlencoded), or
/// `client_id` and `client_secret` in the body; never both.
fn client_auth(headers: &HeaderMap, form: &TokenForm) -> Result<ClientAuth, OidcError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "));
    match basic {
        Some(encoded) => {
            if form.client_secret.is_some() {
                return Err(OidcError::refused(
                    "invalid_request",
                    "send the client's credentials one way: HTTP Basic or the body, not both",
                ));
            }
            let bad = || {
                OidcError::refused(
                    "invalid_client",
                    "the Authorization header is not valid HTTP Basic",
                )
            };
            let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
            let text = String::from_utf8(decoded).map_err(|_| bad())?;
            let (id, secret) = text.split_once(':').ok_or_else(bad)?;
            let unescape = |s: &str| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            let client_id = unescape(id);
            if form.client_id.as_ref().is_some_and(|c| *c != client_id) {
                return Err(bad());
            }
            Ok(ClientAuth {
                client_id,
                secret: Some(unescape(secret)),
            })
        }
        None => Ok(ClientAuth {
            client_id: form.client_id.clone().ok_or_else(|| {
                OidcError::refused(
                    "invalid_client",
                    "the client did not say who it is (client_id)",
                )
            })?,
            secret: form.client_secret.clone(),
        }),
    }
}

async fn token(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    let auth = match client_auth(&headers, &form) {
        Ok(a) => a,
        Err(e) => return refused(e),
    };
    let grant = match form.grant_type.as_str() {
        "authorization_code" => Grant::AuthorizationCode {
            code: form.code,
            redirect_uri: form.redirect_uri,
            code_verifier: form.code_verifier,
        },
        "refresh_token" => Grant::RefreshToken {
            refresh_token: form.refresh_token,
        },
        _ => {
            return refused(OidcError::refused(
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token",
            ));
        }
    };
    let meta = request_meta(&state, peer, &headers);
    match tokens::token(&state.services, &meta, auth, grant).await {
        Ok(issued) => no_store(StatusCode::OK, json!(issued)),
        Err(e) => refused(e),
    }
}

/// A refused access token (RFC 6750 §3).
fn bad_bearer() -> Response {
    let mut resp = no_store(
        StatusCode::UNAUTHORIZED,
        json!({ "error": "invalid_token", "error_description": "the access token is unknown, expired or revoked" }),
    );
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    resp
}

/// A request with no token at all: RFC 6750 §3.1 asks for the scheme alone, without an
/// error code.
fn no_bearer() -> Response {
    let mut resp = no_store(
        StatusCode::UNAUTHORIZED,
        json!({ "error_description": "send the access token as Authorization: Bearer <token>" }),
    );
    resp.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    resp
}

async fn userinfo_get(State(state): State<AppState>, headers: HeaderMap) -> Response {
    userinfo(state, &headers, None).await
}

async fn userinfo_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    // A POST may carry the token in a form body (RFC 6750 §2.2) or only in the header, so an
    // empty or non-form body is not an error here.
    let token = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v.into_owned());
    userinfo(state, &headers, token).await
}

async fn userinfo(state: AppState, headers: &HeaderMap, in_body: Option<String>) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|v| v.trim().to_owned())
        .or(in_body);
    let Some(bearer) = bearer else {
        return no_bearer();
    };
    match tokens::userinfo(&state.services, &bearer).await {
        Ok(Some(claims)) => no_store(StatusCode::OK, serde_json::Value::Object(claims)),
        Ok(None) => bad_bearer(),
        Err(e) => refused(OidcError::Internal(e)),
    }
}

async fn revoke(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    let auth = match client_auth(&headers, &form) {
        Ok(a) => a,
        Err(e) => return refused(e),
    };
    let meta = request_meta(&state, peer, &headers);
    match tokens::revoke(&state.services, &meta, auth, &form.token).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => refused(e),
    }
}
