//! The built-in member pages under `/portal`: static HTML, CSS and JavaScript compiled into
//! the binary, with no third-party assets. Every response forbids framing, sniffing, caching
//! and sending a Referer, and a strict CSP allows only this origin.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
    img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

fn page(content_type: &'static str, body: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/portal/set-password",
            get(|| async {
                page(
                    "text/html; charset=utf-8",
                    include_str!("portal/set-password.html"),
                )
            }),
        )
        .route(
            "/portal/set-password.js",
            get(|| async {
                page(
                    "text/javascript; charset=utf-8",
                    include_str!("portal/set-password.js"),
                )
            }),
        )
        .route(
            "/portal/set-password.css",
            get(|| async {
                page(
                    "text/css; charset=utf-8",
                    include_str!("portal/set-password.css"),
                )
            }),
        )
}
