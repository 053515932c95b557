//! `POST /webhooks/ses`: SES's bounce, complaint and delivery reports, posted by SNS. SNS
//! retries anything but a 2xx answer, so a report that could not be stored comes back.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::services::feedback::{self, Refused};

pub(super) async fn ses(State(state): State<AppState>, body: Bytes) -> Response {
    match feedback::receive_sns(&state.services, &body).await {
        Ok(received) => (StatusCode::OK, format!("{received:?}")).into_response(),
        Err(Refused::Malformed(why)) => {
            tracing::info!(%why, "a malformed request on /webhooks/ses");
            (StatusCode::BAD_REQUEST, "not an SNS message").into_response()
        }
        // The reason is logged (with the running count); the caller learns nothing.
        Err(Refused::Untrusted(_)) => (StatusCode::FORBIDDEN, "forbidden").into_response(),
        Err(Refused::Failed(e)) => {
            tracing::error!(error = %e.log_text(), "could not record an SES report; SNS will retry it");
            (StatusCode::INTERNAL_SERVER_ERROR, "try again later").into_response()
        }
    }
}
