//! Signing in and out on the member pages, and a staff user's view of the portal as a member
//! ("View Profile's Portal"), which arrives here from the console.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

use super::super::{AppState, request_meta};
use super::pages::{self, SignIn};
use super::{failure, forged, frame, safe_next, session};
use crate::error::AppError;
use crate::services::{Principal, auth, member_auth};

/// Where a page sends a member who is not signed in: the sign-in page, then back.
pub(super) fn to_sign_in(next: &str) -> Response {
    to_page_then("/portal/sign-in", next)
}

/// Where a member goes once signed in: a staff-set password is changed first.
pub(super) async fn onward(state: &AppState, must_change: bool, next: &str) -> Response {
    if must_change {
        to_page_then("/portal/change-password", next)
    } else {
        go_on(state, next).await
    }
}

/// On to `next` after a form: a member page by redirect; a connected site's sign-in by a
/// page that leads there (see [`pages::Continue`]).
pub(super) async fn go_on(state: &AppState, next: &str) -> Response {
    if !next.starts_with(super::sites::AUTHORIZE_NEXT) {
        return Redirect::to(next).into_response();
    }
    let site = super::sites::site_name(state, next)
        .await
        .unwrap_or_else(|| "the site".to_owned());
    let page = pages::Continue {
        frame: frame(state, None),
        heading: format!("Continuing to {site}"),
        label: format!("Continue to {site}"),
        to: next.to_owned(),
    };
    pages::render(StatusCode::OK, &page)
}

/// A redirect to the member page `page`, which leads on to `next` when it is done.
fn to_page_then(page: &str, next: &str) -> Response {
    to_page_with(page, &[("next", next)])
}

/// A redirect to the member page `page` with `params` in its query.
pub(super) fn to_page_with(page: &str, params: &[(&str, &str)]) -> Response {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    Redirect::to(&format!("{page}?{query}")).into_response()
}

#[derive(Deserialize)]
pub(super) struct SignInQuery {
    #[serde(default)]
    next: Option<String>,
    /// Set after signing out, to say so.
    #[serde(default)]
    signed_out: Option<String>,
    /// Set when a site asks for the password again (`prompt=login`, `max_age`): the form is
    /// shown even to a signed-in member.
    #[serde(default)]
    reauth: Option<String>,
    /// The login a site suggests (`login_hint`).
    #[serde(default)]
    login_hint: Option<String>,
}

pub(super) async fn page(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(q): Query<SignInQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    match session::member(&state, &jar).await {
        Ok(Some((_, member))) if q.reauth.is_none() => {
            return onward(&state, member.must_change_password, &next).await;
        }
        Ok(_) => {}
        Err(e) => return failure(&state, e),
    }
    let notice = match q.signed_out.as_deref() {
        Some("everywhere") => Some("You are signed out everywhere."),
        Some(_) => Some("You are signed out."),
        None => None,
    };
    let login: String = q
        .login_hint
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(254)
        .collect();
    form(&state, jar, StatusCode::OK, next, login, None, notice).await
}

async fn form(
    state: &AppState,
    jar: CookieJar,
    status: StatusCode,
    next: String,
    login: String,
    error: Option<String>,
    notice: Option<&'static str>,
) -> Response {
    let site = super::sites::site_name(state, &next).await;
    let (jar, csrf) = session::form_token(&state.config, jar);
    let page = SignIn {
        frame: frame(state, None),
        csrf,
        next,
        login,
        error,
        notice,
        site,
    };
    (jar, pages::render(status, &page)).into_response()
}

#[derive(Deserialize)]
pub(super) struct SignInForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    csrf: String,
}

pub(super) async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(input): Form<SignInForm>,
) -> Response {
    let next = safe_next(Some(&input.next));
    let login = input.login.trim().to_owned();
    if let Err(why) = session::check_post(&state.config, &headers, &jar, &input.csrf) {
        if why == session::Forged::OtherOrigin {
            return forged(&state);
        }
        // A stale form (the cookie was cleared, or the session changed in another tab):
        // a fresh one, with what was typed kept.
        let error = "This form had expired. Enter your password again.".to_owned();
        return form(
            &state,
            jar,
            StatusCode::FORBIDDEN,
            next,
            login,
            Some(error),
            None,
        )
        .await;
    }
    let meta = request_meta(&state, peer, &headers);
    let signed_in = match member_auth::login(&state.services, &meta, &login, &input.password).await
    {
        Ok(s) => s,
        Err(e) => {
            let (status, error) = match e {
                // One answer for every refusal: unknown, wrong, locked, switched off, or a
                // membership status that may not sign in.
                // The form again, as any sign-in page answers (200: a 401 would need an
                // HTTP authentication scheme).
                AppError::InvalidLogin => (
                    StatusCode::OK,
                    "That username or email and password do not match an account that can sign in. Check both, or use \"Forgot your login?\" below.".to_owned(),
                ),
                AppError::AmbiguousLogin => (StatusCode::OK, e.message()),
                AppError::RateLimited => (
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many sign-in attempts from your network. Wait a few minutes, then try again.".to_owned(),
                ),
                other => return failure(&state, other),
            };
            return form(&state, jar, status, next, login, Some(error), None).await;
        }
    };
    // A sign-in replaces whatever session this browser held, so a session fixed in
    // advance is worth nothing; the old one ends.
    if let Some(old) = session::session_token(&state.config, &jar)
        && let Ok(principal @ Principal::Member(_)) =
            auth::resolve(&state.services, Some(&old)).await
        && let Err(e) = member_auth::logout(&state.services, &principal, &meta).await
    {
        tracing::warn!(cause = %e.log_text(), "could not end the session a sign-in replaced");
    }
    let jar = session::with_session(&state.config, jar, &signed_in.token);
    (
        jar,
        onward(&state, signed_in.must_change_password, &next).await,
    )
        .into_response()
}

#[derive(Deserialize)]
pub(super) struct TokenOnly {
    #[serde(default)]
    csrf: String,
}

/// Ends this browser's session ("Sign out", or "End this view" for staff).
pub(super) async fn sign_out(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(input): Form<TokenOnly>,
) -> Response {
    end(state, peer, headers, jar, input, false).await
}

/// Ends every session of the member ("Sign out everywhere").
pub(super) async fn sign_out_everywhere(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(input): Form<TokenOnly>,
) -> Response {
    end(state, peer, headers, jar, input, true).await
}

async fn end(
    state: AppState,
    peer: SocketAddr,
    headers: HeaderMap,
    jar: CookieJar,
    input: TokenOnly,
    everywhere: bool,
) -> Response {
    if session::check_post(&state.config, &headers, &jar, &input.csrf).is_err() {
        return forged(&state);
    }
    let meta = request_meta(&state, peer, &headers);
    let principal = match session::member(&state, &jar).await {
        Ok(Some((p, _))) => p,
        Ok(None) => Principal::Anonymous,
        Err(e) => return failure(&state, e),
    };
    if let Principal::Member(_) = principal {
        let ended = if everywhere {
            member_auth::logout_everywhere(&state.services, &principal, &meta).await
        } else {
            member_auth::logout(&state.services, &principal, &meta).await
        };
        match ended {
            Ok(()) => {}
            Err(AppError::ReadOnlySession) => {
                return super::message(
                    &state,
                    StatusCode::FORBIDDEN,
                    "Not in a read-only view",
                    "This is a staff user's read-only view of the member's portal: only the member can sign out their other sessions.".into(),
                    ("/portal/account", "Back to the account"),
                );
            }
            Err(e) => return failure(&state, e),
        }
    }
    let jar = session::without_session(&state.config, jar);
    let to = if everywhere {
        "/portal/sign-in?signed_out=everywhere"
    } else {
        "/portal/sign-in?signed_out=1"
    };
    (jar, Redirect::to(to)).into_response()
}

#[derive(Deserialize)]
pub(super) struct ViewAs {
    #[serde(default)]
    token: String,
}

/// Opens a staff user's read-only view as a member in this browser. The console posts the
/// view's session token here (from `startPortalImpersonation`) in a new tab; only a view
/// session is taken, never a member's own session or a staff session.
pub(super) async fn view_as(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(input): Form<ViewAs>,
) -> Response {
    if !session::from_this_origin(&state.config, &headers) {
        return forged(&state);
    }
    let principal = match auth::resolve(&state.services, Some(&input.token)).await {
        Ok(p) => p,
        Err(e) => return failure(&state, e),
    };
    match principal {
        Principal::Member(m) if m.impersonated_by.is_some() => {
            let Some(token) = crate::domain::Token::from_presented(&input.token) else {
                return failure(&state, AppError::internal("a live view with a malformed token"));
            };
            let jar = session::with_session(&state.config, jar, &token);
            (jar, Redirect::to("/portal/account")).into_response()
        }
        _ => super::message(
            &state,
            StatusCode::FORBIDDEN,
            "This view has ended",
            "Views of a member's portal last a few minutes and end when you sign out of the console. Start a new one from the profile's Portal tab.".into(),
            ("/staff/", "Back to the console"),
        ),
    }
}
