//! The member pages under `/portal`:
//! - drawn by the server, without scripts: sign in, the account, change password
//!   ([`sign_in`], [`account`], [`pages`]), with a session cookie ([`session`]);
//! - static pages that call the API: set a password from a mailed link, Forgot Login.
//!
//! Everything is compiled into the binary, loads nothing from elsewhere, and forbids framing,
//! sniffing and caching under a strict CSP.

mod account;
mod pages;
mod session;
mod sign_in;
mod sites;
mod unsubscribe;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Redirect, Response};
use axum::routing::get;

use super::AppState;
use super::assets::{Asset, Cache};
use crate::domain::{Profile, clock_time};
use crate::error::AppError;
use crate::services::principal::MemberPrincipal;

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
    img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/// One static file of the portal, by the path it is served under.
macro_rules! portal_files {
    ($($path:literal => $file:literal, $type:expr, $cache:expr);+ $(;)?) => {
        [$(($path, Asset::new($type, include_bytes!($file), CSP, $cache))),+]
    };
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Every static file; the count is checked by the compiler. The icon is also served as
/// `/favicon.ico`, for browsers that ask there by habit.
static FILES: [(&str, Asset); 8] = portal_files! {
    "/portal/set-password" => "set-password.html", HTML, Cache::Never;
    "/portal/set-password.js" => "set-password.js", JS, Cache::Never;
    "/portal/portal.css" => "portal.css", CSS, Cache::Revalidate;
    "/portal/api.js" => "api.js", JS, Cache::Never;
    "/portal/forgot" => "forgot.html", HTML, Cache::Never;
    "/portal/forgot.js" => "forgot.js", JS, Cache::Never;
    "/portal/favicon.svg" => "favicon.svg", "image/svg+xml", Cache::Revalidate;
    "/favicon.ico" => "favicon.svg", "image/svg+xml", Cache::Revalidate;
};

pub(super) fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for (path, asset) in &FILES {
        router = router.route(
            path,
            get(move |h: HeaderMap| async move { asset.respond(&h) }),
        );
    }
    router
        .route("/", get(|| async { Redirect::to("/portal/") }))
        .route("/login", get(|| async { Redirect::to("/portal/sign-in") }))
        .route("/portal", get(|| async { Redirect::to("/portal/") }))
        .route(
            "/portal/",
            get(|| async { Redirect::to("/portal/account") }),
        )
        .route("/portal/sign-in", get(sign_in::page).post(sign_in::submit))
        .route("/portal/sign-out", axum::routing::post(sign_in::sign_out))
        .route(
            "/portal/sign-out-everywhere",
            axum::routing::post(sign_in::sign_out_everywhere),
        )
        .route("/portal/view-as", axum::routing::post(sign_in::view_as))
        .route("/portal/account", get(account::page))
        .route(
            "/portal/remove-site",
            axum::routing::post(sites::remove_access),
        )
        .route(
            "/oidc/authorize",
            get(sites::authorize_get).post(sites::authorize_post),
        )
        .route(
            "/oidc/logout",
            get(sites::logout_get).post(sites::logout_post),
        )
        .route(
            "/portal/change-password",
            get(account::change_page).post(account::change),
        )
        .route(
            "/portal/unsubscribe/{token}",
            get(unsubscribe::page).post(unsubscribe::submit),
        )
}

/// Where to go after signing in: a path on the member pages, or back to a connected site's
/// authorization request; never another site or a scheme-relative `//host`. Anything else
/// is the account page.
fn safe_next(raw: Option<&str>) -> String {
    match raw {
        Some(p)
            if (p.starts_with("/portal/") || p.starts_with(sites::AUTHORIZE_NEXT))
                && !p.contains("//")
                && !p.contains('\\')
                && !p.chars().any(char::is_control) =>
        {
            p.to_owned()
        }
        _ => "/portal/account".to_owned(),
    }
}

/// The frame of a page: the association's name, and the banner of a staff user's view.
fn frame<'a>(
    state: &'a AppState,
    viewing: Option<(&MemberPrincipal, &Profile)>,
) -> pages::Frame<'a> {
    pages::Frame {
        association: &state.config.association_name,
        viewing: viewing.and_then(|(m, profile)| {
            m.impersonated_by.as_ref().map(|_| {
                format!(
                    "Viewing as {}, read-only, until {}",
                    profile.display_name(),
                    clock_time(m.expires_at, state.config.time_zone)
                )
            })
        }),
    }
}

/// A page that only says something, with one way on.
fn message(
    state: &AppState,
    status: StatusCode,
    title: &'static str,
    text: String,
    link: (&'static str, &'static str),
) -> Response {
    let page = pages::Message {
        frame: frame(state, None),
        title,
        text,
        link,
    };
    pages::render(status, &page)
}

/// A POST that did not come from this site's own form.
fn forged(state: &AppState) -> Response {
    message(
        state,
        StatusCode::FORBIDDEN,
        "This form was refused",
        "It was sent from another site, or from a page that was open too long. Nothing was changed. Open the page again and send the form from there.".into(),
        ("/portal/account", "Go to your account"),
    )
}

/// A failure the member cannot fix: logged with a reference they can quote.
fn failure(state: &AppState, error: AppError) -> Response {
    let reference = uuid::Uuid::new_v4().to_string();
    tracing::error!(correlation_id = %reference, cause = %crate::logsafe::Field(&error.log_text()), "member page failed");
    message(
        state,
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        format!(
            "Something went wrong on our side and nothing was changed. Try again in a moment; if it keeps happening, tell the association's staff and quote reference {reference}."
        ),
        ("/portal/account", "Try again"),
    )
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_the_member_pages() {
        assert_eq!(
            safe_next(Some("/portal/change-password")),
            "/portal/change-password"
        );
        assert_eq!(
            safe_next(Some(
                "/oidc/authorize?client_id=a&redirect_uri=https%3A%2F%2Fx"
            )),
            "/oidc/authorize?client_id=a&redirect_uri=https%3A%2F%2Fx"
        );
        for bad in [
            "https://evil.example/",
            "//evil.example/portal/",
            "/portal//evil.example",
            "/\\evil.example",
            "/portal/\\evil",
            "/staff/",
            "/portal/a\nb",
            "/oidc/authorize",
            "/oidc/token?x=1",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/portal/account", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/portal/account");
    }
}
