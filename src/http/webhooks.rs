//! `POST /webhooks/ses`: SES's bounce, complaint and delivery reports, posted by SNS. SNS
//! retries anything but a 2xx answer, so a report that could not be stored comes back.
//! Refusals answer in the GraphQL error shape, with a code, like every other error.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::services::feedback::{self, Refused};

pub(super) async fn ses(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let meta = super::request_meta(&state, peer, &headers);
    match feedback::receive_sns(&state.services, &meta, &body).await {
        Ok(received) => (StatusCode::OK, format!("{received:?}")).into_response(),
        Err(Refused::Malformed(why)) => {
            tracing::info!(why = %crate::logsafe::Field(&why), "a malformed request on /webhooks/ses");
            super::refusals::api_error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "This is not an SNS message.",
            )
        }
        // The reason is logged (with the running count); the caller learns nothing.
        Err(Refused::Untrusted(_)) => super::refusals::api_error(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "This message is not accepted.",
        ),
        Err(Refused::RateLimited) => super::refusals::api_error(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            "Too many refused messages from this client. Wait, then try again.",
        ),
        Err(Refused::Failed(e)) => {
            tracing::error!(error = %e.log_text(), "could not record an SES report; SNS will retry it");
            super::refusals::api_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_SERVER_ERROR",
                "The report could not be recorded now. Try again later.",
            )
        }
    }
}
