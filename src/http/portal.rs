//! The built-in member pages under `/portal` (set a password, Forgot Login; one stylesheet):
//! static HTML, CSS and JavaScript compiled into the binary, with no third-party assets. Every
//! response forbids framing, sniffing, caching and sending a Referer, and a strict CSP allows
//! only this origin.

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;

use super::AppState;
use super::assets::{Asset, Cache};

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
    img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

static PAGE: Asset = Asset::new(
    "text/html; charset=utf-8",
    include_bytes!("portal/set-password.html"),
    CSP,
    Cache::Never,
);
static SCRIPT: Asset = Asset::new(
    "text/javascript; charset=utf-8",
    include_bytes!("portal/set-password.js"),
    CSP,
    Cache::Never,
);
static STYLE: Asset = Asset::new(
    "text/css; charset=utf-8",
    include_bytes!("portal/set-password.css"),
    CSP,
    Cache::Never,
);

/// The member pages' shared call to the API.
static API_SCRIPT: Asset = Asset::new(
    "text/javascript; charset=utf-8",
    include_bytes!("portal/api.js"),
    CSP,
    Cache::Never,
);
static FORGOT_PAGE: Asset = Asset::new(
    "text/html; charset=utf-8",
    include_bytes!("portal/forgot.html"),
    CSP,
    Cache::Never,
);
static FORGOT_SCRIPT: Asset = Asset::new(
    "text/javascript; charset=utf-8",
    include_bytes!("portal/forgot.js"),
    CSP,
    Cache::Never,
);

/// The portal's icon, also served as `/favicon.ico` for browsers that ask there by habit.
static ICON: Asset = Asset::new(
    "image/svg+xml",
    include_bytes!("portal/favicon.svg"),
    CSP,
    Cache::Revalidate,
);

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/portal/favicon.svg",
            get(|h: HeaderMap| async move { ICON.respond(&h) }),
        )
        .route(
            "/favicon.ico",
            get(|h: HeaderMap| async move { ICON.respond(&h) }),
        )
        .route(
            "/portal/set-password",
            get(|h: HeaderMap| async move { PAGE.respond(&h) }),
        )
        .route(
            "/portal/set-password.js",
            get(|h: HeaderMap| async move { SCRIPT.respond(&h) }),
        )
        .route(
            "/portal/set-password.css",
            get(|h: HeaderMap| async move { STYLE.respond(&h) }),
        )
        .route(
            "/portal/api.js",
            get(|h: HeaderMap| async move { API_SCRIPT.respond(&h) }),
        )
        .route(
            "/portal/forgot",
            get(|h: HeaderMap| async move { FORGOT_PAGE.respond(&h) }),
        )
        .route(
            "/portal/forgot.js",
            get(|h: HeaderMap| async move { FORGOT_SCRIPT.respond(&h) }),
        )
}
