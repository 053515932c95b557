//! The signed-in member's account page, and changing their password (also the page a
//! member with a staff-set password must pass first).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

use super::super::{AppState, request_meta};
use super::pages::{self, Account, ChangePassword};
use super::sign_in::{onward, to_sign_in};
use super::{failure, forged, frame, safe_next, session};
use crate::domain::human_time;
use crate::error::AppError;
use crate::services::{impersonation, member_auth};

#[derive(Deserialize)]
pub(super) struct AccountQuery {
    /// Set after a password change, to say so.
    #[serde(default)]
    changed: Option<String>,
    /// Set after removing a site's access, to say so.
    #[serde(default)]
    removed: Option<String>,
}

pub(super) async fn page(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(q): Query<AccountQuery>,
) -> Response {
    let (principal, member) = match session::member(&state, &jar).await {
        Ok(Some(found)) => found,
        Ok(None) => return to_sign_in("/portal/account"),
        Err(e) => return failure(&state, e),
    };
    if member.must_change_password && member.impersonated_by.is_none() {
        return onward(&state, true, "/portal/account").await;
    }
    let svc = &state.services;
    let zone = state.config.time_zone;
    let (profile, credential) = match member_auth::me(svc, &principal).await {
        Ok(found) => found,
        Err(e) => return failure(&state, e),
    };
    let visits = match impersonation::recent_visits(svc, &principal).await {
        Ok(v) => v,
        Err(e) => return failure(&state, e),
    };
    let sites = match crate::services::oidc::sites::held_by(svc, member.profile_id).await {
        Ok(s) => s,
        Err(e) => return failure(&state, e),
    };
    let (jar, csrf) = session::form_token(&state.config, jar);
    let notice = match (q.changed, q.removed) {
        (Some(_), _) => Some("Your password is changed. Your other sessions have ended."),
        (_, Some(_)) => {
            Some("The site's access is removed. It asks you to sign in again next time.")
        }
        _ => None,
    };
    let page = Account {
        frame: frame(&state, Some((&member, &profile))),
        csrf,
        name: profile.display_name(),
        username: credential.as_ref().and_then(|c| c.username.clone()),
        email: profile.email.clone(),
        password_changed: credential
            .as_ref()
            .and_then(|c| c.password_changed_at)
            .map(|t| human_time(t, zone)),
        read_only: member.impersonated_by.is_some(),
        notice,
        sites: sites
            .into_iter()
            .map(|s| pages::SiteRow {
                client_id: s.client_id,
                name: s.name,
                last: human_time(s.last, zone),
            })
            .collect(),
        visits: visits
            .into_iter()
            .map(|v| match v.staff_username {
                Some(who) => format!("{} by {who}", human_time(v.at, zone)),
                None => human_time(v.at, zone),
            })
            .collect(),
    };
    (jar, pages::render(StatusCode::OK, &page)).into_response()
}

#[derive(Deserialize)]
pub(super) struct NextQuery {
    #[serde(default)]
    next: Option<String>,
}

pub(super) async fn change_page(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(q): Query<NextQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    let member = match session::member(&state, &jar).await {
        Ok(Some((_, m))) => m,
        Ok(None) => return to_sign_in("/portal/change-password"),
        Err(e) => return failure(&state, e),
    };
    change_form(
        &state,
        jar,
        StatusCode::OK,
        next,
        member.must_change_password,
        None,
    )
}

fn change_form(
    state: &AppState,
    jar: CookieJar,
    status: StatusCode,
    next: String,
    must_change: bool,
    error: Option<String>,
) -> Response {
    let (jar, csrf) = session::form_token(&state.config, jar);
    let page = ChangePassword {
        frame: frame(state, None),
        csrf,
        next,
        must_change,
        min_chars: state.config.password_min_chars,
        error,
    };
    (jar, pages::render(status, &page)).into_response()
}

#[derive(Deserialize)]
pub(super) struct ChangeForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    csrf: String,
}

pub(super) async fn change(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(input): Form<ChangeForm>,
) -> Response {
    if session::check_post(&state.config, &headers, &jar, &input.csrf).is_err() {
        return forged(&state);
    }
    let next = safe_next(Some(&input.next));
    let (principal, member) = match session::member(&state, &jar).await {
        Ok(Some(found)) => found,
        Ok(None) => return to_sign_in("/portal/change-password"),
        Err(e) => return failure(&state, e),
    };
    let must_change = member.must_change_password;
    let again = |status, error: String| {
        change_form(
            &state,
            jar.clone(),
            status,
            next.clone(),
            must_change,
            Some(error),
        )
    };
    if input.new != input.confirm {
        return again(
            StatusCode::BAD_REQUEST,
            "The new password and its confirmation differ. Type the same password twice.".into(),
        );
    }
    let meta = request_meta(&state, peer, &headers);
    match member_auth::change_password(&state.services, &principal, &meta, &input.current, &input.new)
        .await
    {
        Ok(_) => {
            let to = if next == "/portal/account" {
                "/portal/account?changed=1".to_owned()
            } else {
                next.clone()
            };
            super::sign_in::go_on(&state, &to).await
        }
        Err(AppError::InvalidLogin) => again(
            StatusCode::BAD_REQUEST,
            "Your current password is not right. Type it again; after several wrong tries the account is locked for a while.".into(),
        ),
        Err(e @ (AppError::WeakPassword { .. } | AppError::BadUserInput { .. })) => {
            again(StatusCode::BAD_REQUEST, e.message())
        }
        Err(AppError::ReadOnlySession) => again(
            StatusCode::FORBIDDEN,
            "This is a read-only view of the member's portal: the member changes their password themselves.".into(),
        ),
        Err(AppError::RateLimited) => again(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts from your network. Wait a few minutes, then try again.".into(),
        ),
        Err(e) => failure(&state, e),
    }
}
