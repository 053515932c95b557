//! Refusals the framework writes itself (413 from the body limit, 405 for a method a route
//! does not take, 415, 404 for an unknown path) come as plain text or an empty body. A
//! client of `/graphql` or a webhook must still find a code in `extensions.code`, and a
//! person opening a page must still read what happened; this layer gives them both. What a
//! handler answered itself (JSON or HTML) passes unchanged.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Rewrites the framework's bare refusals into the GraphQL error shape, or a small page.
pub(super) async fn shape(req: Request, next: Next) -> Response {
    let api = {
        let path = req.uri().path();
        path.starts_with("/graphql") || path.starts_with("/webhooks/")
    };
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) || !bare(&resp) {
        return resp;
    }
    let (message, next_step) = explain(status);
    let allow = resp.headers().get(header::ALLOW).cloned();
    let mut shaped = if api {
        let code = match status {
            StatusCode::FORBIDDEN => "FORBIDDEN",
            StatusCode::TOO_MANY_REQUESTS => "RATE_LIMITED",
            s if s.is_server_error() => "INTERNAL_SERVER_ERROR",
            _ => "BAD_REQUEST",
        };
        api_error(status, code, &format!("{message} {next_step}"))
    } else {
        (status, page(status, message, next_step)).into_response()
    };
    if let Some(allow) = allow {
        shaped.headers_mut().insert(header::ALLOW, allow);
    }
    shaped
}

/// An error in the GraphQL response shape, `{"errors":[{"message","extensions":{"code"}}]}`,
/// with `code` from the closed set of `crate::error::ErrorCode`.
pub(super) fn api_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code } }]
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// A response nobody wrote for a person or a client: no body type, or plain text.
fn bare(resp: &Response) -> bool {
    match resp.headers().get(header::CONTENT_TYPE) {
        None => true,
        Some(t) => t.to_str().is_ok_and(|t| t.starts_with("text/plain")),
    }
}

fn explain(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            "The request body is larger than this server accepts.",
            "Send less at once; the limit is MEMBERKEY_BODY_LIMIT_BYTES.",
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "This address does not take that HTTP method.",
            "The Allow header names the methods it takes.",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "The request body has a media type this address does not take.",
            "Send application/json.",
        ),
        StatusCode::NOT_FOUND => (
            "There is nothing at this address.",
            "Check the address; the API is at /graphql.",
        ),
        _ => (
            "The request was refused.",
            "Check the request and try again.",
        ),
    }
}

/// A small self-contained page (no scripts, no outside assets).
fn page(status: StatusCode, message: &str, next_step: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{code} · memberkey</title><style>body{{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1d2430}}h1{{font-size:1.4rem}}</style></head><body><h1>{reason}</h1><p>{message}</p><p>{next_step}</p></body></html>",
        code = status.as_u16(),
        reason = status.canonical_reason().unwrap_or("Refused"),
    );
    let mut resp = Response::new(Body::from(html));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    resp
}
