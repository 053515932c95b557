//! The browser's side of the OpenID Connect provider: the authorization endpoint, where a
//! connected site sends a member to sign in, RP-initiated logout, and "Remove access" on the
//! account page. The decisions are `services::oidc`'s; this module reads the session
//! cookie, shows the pages and redirects.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

use super::super::{AppState, request_meta};
use super::sign_in::{onward, to_page_with};
use super::{failure, forged, frame, pages, session};
use crate::services::oidc::authorize::{self, AuthRequest, Checked, Prompt, Unredirectable};
use crate::services::oidc::{self, OidcError};
use crate::services::{Principal, member_auth};

/// How an authorization request starts when it is the `next` of a member page.
pub(super) const AUTHORIZE_NEXT: &str = "/oidc/authorize?";

/// The name of the site whose authorization request `next` is, for "to continue to …".
pub(super) async fn site_name(state: &AppState, next: &str) -> Option<String> {
    let query = next.strip_prefix(AUTHORIZE_NEXT)?;
    let client_id = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "client_id")
        .map(|(_, v)| v.into_owned())?;
    oidc::sites::find(&state.services, &client_id)
        .await
        .ok()
        .flatten()
        .map(|s| s.name)
}

/// The request again as a path on this site, to come back to after signing in. What asked
/// for a new sign-in (`prompt=login`, `max_age`) is left out: the sign-in it leads to is
/// new.
fn again(request: &AuthRequest) -> String {
    let r = request;
    let mut pairs: Vec<(&str, &str)> = vec![
        ("client_id", &r.client_id),
        ("redirect_uri", &r.redirect_uri),
        ("response_type", &r.response_type),
        ("scope", &r.scope),
    ];
    for (k, v) in [
        ("state", &r.state),
        ("nonce", &r.nonce),
        ("code_challenge", &r.code_challenge),
        ("code_challenge_method", &r.code_challenge_method),
        ("login_hint", &r.login_hint),
        ("response_mode", &r.response_mode),
    ] {
        if let Some(v) = v {
            pairs.push((k, v));
        }
    }
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("{AUTHORIZE_NEXT}{query}")
}

fn site_page(
    state: &AppState,
    status: StatusCode,
    title: String,
    text: String,
    link: Option<(String, String)>,
) -> Response {
    let page = pages::SiteMessage {
        frame: frame(state, None),
        title,
        text,
        link,
    };
    pages::render(status, &page)
}

pub(super) async fn authorize_get(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Query(request): Query<AuthRequest>,
) -> Response {
    authorize(state, peer, headers, jar, request).await
}

/// The same request by form post, as OpenID Connect Core §3.1.2.1 allows.
pub(super) async fn authorize_post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(request): Form<AuthRequest>,
) -> Response {
    authorize(state, peer, headers, jar, request).await
}

async fn authorize(
    state: AppState,
    peer: SocketAddr,
    headers: HeaderMap,
    jar: CookieJar,
    request: AuthRequest,
) -> Response {
    let svc = &state.services;
    let meta = request_meta(&state, peer, &headers);
    let checked = match authorize::site_of(svc, request).await {
        Ok(Ok(c)) => c,
        Ok(Err(why)) => {
            // Never redirect to an address nobody registered: say so to the person instead.
            let text = match why {
                Unredirectable::UnknownSite => {
                    "The site that sent you here is not registered with the association, so you cannot sign in to it from here. Tell the site's owner; their settings name a client ID the association does not know."
                }
                Unredirectable::UnregisteredRedirect => {
                    "The site that sent you here asked to return to an address that is not registered for it, so nothing was sent there. Tell the site's owner: the redirect URI in their settings must match the one registered with the association exactly."
                }
            };
            return site_page(
                &state,
                StatusCode::BAD_REQUEST,
                "This sign-in link is not valid".into(),
                text.into(),
                None,
            );
        }
        Err(e) => return failure(&state, e),
    };
    let issuer = oidc::issuer(svc).to_owned();
    let refuse = |checked: &Checked, error: &str, description: &str| {
        Redirect::to(&checked.answer(
            &issuer,
            &[("error", error), ("error_description", description)],
        ))
        .into_response()
    };
    let (scopes, prompt, max_age) = match checked.validate() {
        Ok(v) => v,
        Err(OidcError::Refused { error, description }) => {
            return refuse(&checked, error, &description);
        }
        Err(OidcError::Internal(e)) => return failure(&state, e),
    };
    let member = match session::member(&state, &jar).await {
        Ok(found) => found.map(|(_, m)| m),
        Err(e) => return failure(&state, e),
    };
    let now = svc.clock.now();
    let usable = member.filter(|m| {
        prompt != Prompt::Login
            && max_age.is_none_or(|age| (now - m.signed_in_at).num_seconds() <= age)
    });
    let Some(member) = usable else {
        if prompt == Prompt::None {
            return refuse(&checked, "login_required", "the member is not signed in");
        }
        let next = again(&checked.request);
        let mut params = vec![("next", next.as_str())];
        if prompt == Prompt::Login || max_age.is_some() {
            params.push(("reauth", "1"));
        }
        if let Some(hint) = &checked.request.login_hint {
            params.push(("login_hint", hint));
        }
        return to_page_with("/portal/sign-in", &params);
    };
    if member.impersonated_by.is_some() {
        return site_page(
            &state,
            StatusCode::FORBIDDEN,
            "Not in a staff view".into(),
            "This is a staff user's read-only view of a member's portal. It cannot sign in to the association's other sites.".into(),
            None,
        );
    }
    if member.must_change_password {
        if prompt == Prompt::None {
            return refuse(
                &checked,
                "interaction_required",
                "the member must choose a new password first",
            );
        }
        return onward(&state, true, &again(&checked.request)).await;
    }
    match authorize::issue_code(svc, &meta, &checked, &scopes, &member).await {
        Ok(code) => Redirect::to(&checked.answer(&issuer, &[("code", &code)])).into_response(),
        Err(OidcError::Refused { error, description }) => {
            let back = checked.answer(
                &issuer,
                &[("error", error), ("error_description", &description)],
            );
            if prompt == Prompt::None {
                return Redirect::to(&back).into_response();
            }
            let site = &checked.site.name;
            site_page(
                &state,
                StatusCode::FORBIDDEN,
                format!("Your membership does not include {site}"),
                format!(
                    "You are signed in, but {site} is open only to some memberships, and yours is not one of them. If you think it should be, contact the association."
                ),
                Some((back, format!("Back to {site}"))),
            )
        }
        Err(OidcError::Internal(e)) => failure(&state, e),
    }
}

/// An RP-initiated logout request (OpenID Connect RP-Initiated Logout 1.0).
#[derive(Debug, Default, Deserialize)]
pub(super) struct LogoutRequest {
    #[serde(default)]
    id_token_hint: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    post_logout_redirect_uri: Option<String>,
    #[serde(default)]
    state: Option<String>,
    /// The confirmation form's token, when the member confirmed on our page.
    #[serde(default)]
    csrf: Option<String>,
}

impl LogoutRequest {
    fn fields(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (k, v) in [
            ("id_token_hint", &self.id_token_hint),
            ("client_id", &self.client_id),
            ("post_logout_redirect_uri", &self.post_logout_redirect_uri),
            ("state", &self.state),
        ] {
            if let Some(v) = v {
                out.push((k.to_owned(), v.clone()));
            }
        }
        out
    }
}

pub(super) async fn logout_get(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Query(request): Query<LogoutRequest>,
) -> Response {
    logout(state, peer, headers, jar, request, false).await
}

pub(super) async fn logout_post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(request): Form<LogoutRequest>,
) -> Response {
    // A confirmation from our own page must carry its form token. A site's own form post
    // (allowed by the standard) comes from another site, so the SameSite=Lax session cookie
    // is not sent with it: answer with the same request as a GET, which a top-level
    // navigation sends with the cookie, instead of saying "signed out" to nobody.
    let Some(token) = &request.csrf else {
        let fields = request.fields();
        let params: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        return super::sign_in::to_page_with("/oidc/logout", &params);
    };
    if session::check_post(&state.config, &headers, &jar, token).is_err() {
        return forged(&state);
    }
    logout(state, peer, headers, jar, request, true).await
}

async fn logout(
    state: AppState,
    peer: SocketAddr,
    headers: HeaderMap,
    jar: CookieJar,
    request: LogoutRequest,
    confirmed: bool,
) -> Response {
    let svc = &state.services;
    let hint = match &request.id_token_hint {
        Some(raw) => match oidc::logout::read_hint(svc, raw).await {
            Ok(h) => h,
            Err(e) => return failure(&state, e),
        },
        None => None,
    };
    // Both given: they must name the same site (RP-Initiated Logout 1.0 §2).
    if let (Some(h), Some(given)) = (&hint, &request.client_id)
        && h.client_id != *given
    {
        return site_page(
            &state,
            StatusCode::BAD_REQUEST,
            "This sign-out link is not valid".into(),
            "The site's sign-out request names two different sites, so nothing was done. Use \"Sign out\" on your account page instead.".into(),
            Some(("/portal/account".into(), "Go to your account".into())),
        );
    }
    let client_id = hint
        .as_ref()
        .map(|h| h.client_id.clone())
        .or(request.client_id.clone());
    let site = match &client_id {
        Some(id) => match oidc::sites::find(svc, id).await {
            Ok(found) => found,
            Err(e) => return failure(&state, e),
        },
        None => None,
    };
    // Where to go afterwards: only an address registered for the site, matched exactly.
    let back = match (&request.post_logout_redirect_uri, &site) {
        (None, _) => None,
        (Some(uri), Some(site))
            if site
                .post_logout_redirect_uris
                .iter()
                .any(|u| u.as_str() == uri) =>
        {
            let mut url = match url::Url::parse(uri) {
                Ok(u) => u,
                Err(_) => {
                    return failure(
                        &state,
                        crate::error::AppError::internal("a registered address did not parse"),
                    );
                }
            };
            if let Some(s) = &request.state {
                url.query_pairs_mut().append_pair("state", s);
            }
            Some(url.to_string())
        }
        (Some(_), _) => {
            return site_page(
                &state,
                StatusCode::BAD_REQUEST,
                "This sign-out link is not valid".into(),
                "The site asked to return to an address that is not registered for it, so you were not signed out from here. Use \"Sign out\" on your account page instead.".into(),
                Some(("/portal/account".into(), "Go to your account".into())),
            );
        }
    };
    let member = match session::member(&state, &jar).await {
        Ok(found) => found,
        Err(e) => return failure(&state, e),
    };
    let site_name = site
        .as_ref()
        .map_or_else(|| "A site".to_owned(), |s| s.name.clone());
    let Some((principal, m)) = member else {
        return done(&state, back, &site_name, confirmed);
    };
    // The hint proves the site signed this very member in from this very sign-in (an older
    // ID token of the member, found in a log or a history, does not); otherwise the member
    // confirms.
    let proven = match &hint {
        Some(h) if h.auth_time == Some(m.signed_in_at.timestamp()) => {
            match oidc::tokens::subject(svc, m.profile_id).await {
                Ok(sub) => sub == h.subject,
                Err(e) => return failure(&state, e),
            }
        }
        _ => false,
    };
    if !proven && !confirmed {
        let (jar, csrf) = session::form_token(&state.config, jar);
        let page = pages::SignOutSite {
            frame: frame(&state, None),
            csrf,
            site: site_name,
            fields: request.fields(),
        };
        return (jar, pages::render(StatusCode::OK, &page)).into_response();
    }
    let meta = request_meta(&state, peer, &headers);
    if let Principal::Member(_) = principal
        && let Err(e) = member_auth::logout(svc, &principal, &meta).await
    {
        return failure(&state, e);
    }
    let jar = session::without_session(&state.config, jar);
    (jar, done(&state, back, &site_name, confirmed)).into_response()
}

/// After signing out: back to the site when it gave a registered address, else our page.
/// After our own confirmation form, by a page with a link (a redirect answering a form may
/// only lead to this origin).
fn done(state: &AppState, back: Option<String>, site: &str, after_form: bool) -> Response {
    match back {
        Some(to) if after_form => {
            let page = pages::Continue {
                frame: frame(state, None),
                heading: "You are signed out".into(),
                label: format!("Back to {site}"),
                to,
            };
            pages::render(StatusCode::OK, &page)
        }
        Some(to) => Redirect::to(&to).into_response(),
        None => Redirect::to("/portal/sign-in?signed_out=1").into_response(),
    }
}

#[derive(Deserialize)]
pub(super) struct RemoveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    client_id: String,
}

/// "Remove access" on the account page: the site's tokens stop working at once.
pub(super) async fn remove_access(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(input): Form<RemoveForm>,
) -> Response {
    if session::check_post(&state.config, &headers, &jar, &input.csrf).is_err() {
        return forged(&state);
    }
    let member = match session::member(&state, &jar).await {
        Ok(Some((_, m))) => m,
        Ok(None) => return super::sign_in::to_sign_in("/portal/account"),
        Err(e) => return failure(&state, e),
    };
    if member.may_change().is_err() {
        return super::message(
            &state,
            StatusCode::FORBIDDEN,
            "Not in a read-only view",
            "This is a staff user's read-only view of the member's portal: only the member can remove a site's access.".into(),
            ("/portal/account", "Back to the account"),
        );
    }
    let meta = request_meta(&state, peer, &headers);
    match oidc::tokens::remove_access(&state.services, &meta, member.profile_id, &input.client_id)
        .await
    {
        Ok(()) => Redirect::to("/portal/account?removed=1").into_response(),
        Err(e) => failure(&state, e),
    }
}
