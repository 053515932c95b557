//! `/portal/unsubscribe/<token>`: where a NEWS mail's link and its `List-Unsubscribe` header
//! lead.
//! - GET shows what will happen and a button, and changes nothing: mail scanners follow
//!   links, and must not unsubscribe anyone.
//! - POST unsubscribes at once, without sign-in (RFC 8058). Mail programs post
//!   `List-Unsubscribe=One-Click` from their own servers, with no Origin and no form token,
//!   so this POST has neither check: the signed token is the authority, and all it can do is
//!   opt its member out of news. RFC 8058 lets them send the body as a form or as
//!   multipart/form-data, so the body is not parsed as either: any POST unsubscribes.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::super::{AppState, request_meta};
use super::{failure, frame, message, pages};
use crate::domain::OptOutVia;
use crate::services::unsubscribe;

/// The address a page may show: enough for its owner to know it, not enough to read off.
fn masked(email: Option<&str>) -> String {
    match email.and_then(|e| e.split_once('@')) {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}…@{domain}")
        }
        None => "your address".into(),
    }
}

fn unknown(state: &AppState) -> Response {
    message(
        state,
        StatusCode::NOT_FOUND,
        "This unsubscribe link is not valid",
        "It may have been cut short or changed on the way. Nothing was changed. Use the link in the latest email from us, or ask the association's staff to take you off the news.".into(),
        ("/portal/sign-in", "Sign in to the portal"),
    )
}

pub(super) async fn page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match unsubscribe::member(&state.services, &token).await {
        Ok(Some(profile)) => {
            let page = pages::Unsubscribe {
                frame: frame(&state, None),
                address: masked(profile.email.as_deref()),
                already: profile.email_opt_out,
            };
            pages::render(StatusCode::OK, &page)
        }
        Ok(None) => unknown(&state),
        Err(e) => failure(&state, e),
    }
}

pub(super) async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    // The page's own button says so (its form sends `from=page`); a mail program's one-click
    // POST does not.
    let from_page = url::form_urlencoded::parse(&body).any(|(k, v)| k == "from" && v == "page");
    let via = if from_page {
        OptOutVia::UnsubscribePage
    } else {
        OptOutVia::OneClick
    };
    let meta = request_meta(&state, peer, &headers);
    match unsubscribe::opt_out(&state.services, &meta, &token, via).await {
        Ok(Some(profile)) => message(
            &state,
            StatusCode::OK,
            "You are unsubscribed",
            format!(
                "{} will no longer get news from {}. Messages about your portal login and membership still come. If this was a mistake, ask the association's staff to sign you up again.",
                masked(profile.email.as_deref()),
                state.config.association_name
            ),
            ("/portal/sign-in", "Go to the portal"),
        ),
        Ok(None) => unknown(&state),
        Err(e) => failure(&state, e),
    }
}
