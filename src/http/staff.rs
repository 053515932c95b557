//! The staff console at `/staff/`: a single-page app of plain ES modules, compiled into the
//! binary, that does everything through the public GraphQL API. Nothing is loaded from
//! elsewhere: a strict CSP allows only this origin (and https images in mail previews).

use axum::Router;
use axum::http::HeaderMap;
use axum::response::Redirect;
use axum::routing::get;

use super::AppState;
use super::assets::{Asset, Cache};

/// Scripts, styles, API calls and form posts ("View Profile's Portal" opens the member pages
/// with one) from this origin only. Mail previews render in sandboxed
/// `srcdoc` frames, which inherit this policy, so their scripts never run either. The one
/// inline style allowed, by its hash, is the mail's own body style (`mail::mass::BODY_STYLE`,
/// whose test checks the hash), so a preview shows the letter in the font it arrives in.
const CSP: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'unsafe-hashes' 'sha256-chcINOzG5NttstotQJNbDgDoEGZQ2qbsvG+FxHBHuS8='; \
    connect-src 'self'; img-src 'self' data: https:; frame-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'";

/// One compiled-in file of the console, by the name it is served under.
macro_rules! console_files {
    ($($name:literal => $type:expr),+ $(,)?) => {
        [$(($name, Asset::new(
            $type,
            include_bytes!(concat!("staff/", $name)),
            CSP,
            Cache::Revalidate,
        ))),+]
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Quill, the Mass Communicator's editor, vendored by `scripts/vendor-quill.sh`.
static EDITOR: [(&str, Asset); 2] = [
    (
        "quill.js",
        Asset::new(
            JS,
            include_bytes!("../../assets/quill/quill.js"),
            CSP,
            Cache::Revalidate,
        ),
    ),
    (
        "quill.snow.css",
        Asset::new(
            "text/css; charset=utf-8",
            include_bytes!("../../assets/quill/quill.snow.css"),
            CSP,
            Cache::Revalidate,
        ),
    ),
];

/// Every file, by name; the count is checked by the compiler.
static FILES: [(&str, Asset); 22] = console_files! {
    "index.html" => "text/html; charset=utf-8",
    "staff.css" => "text/css; charset=utf-8",
    "favicon.svg" => "image/svg+xml",
    "operations.graphql" => "application/graphql; charset=utf-8",
    "app.js" => JS,
    "api.js" => JS,
    "ctx.js" => JS,
    "ui.js" => JS,
    "search.js" => JS,
    "profile.js" => JS,
    "portal.js" => JS,
    "mass.js" => JS,
    "staff.js" => JS,
    "audit.js" => JS,
    "account.js" => JS,
    "link.js" => JS,
    "filter.js" => JS,
    "logins.js" => JS,
    "sites.js" => JS,
    "enums.js" => JS,
    "editor.js" => JS,
    "communication.js" => JS,
};

fn file(name: &str) -> &'static Asset {
    &FILES
        .iter()
        .chain(EDITOR.iter())
        .find(|(n, _)| *n == name)
        .expect("console file is listed")
        .1
}

pub(super) fn routes() -> Router<AppState> {
    let mut router = Router::new()
        .route("/staff", get(|| async { Redirect::permanent("/staff/") }))
        .route(
            "/staff/",
            get(|h: HeaderMap| async move { file("index.html").respond(&h) }),
        );
    for (name, _) in FILES.iter().chain(EDITOR.iter()) {
        let asset = file(name);
        router = router.route(
            &format!("/staff/{name}"),
            get(move |h: HeaderMap| async move { asset.respond(&h) }),
        );
    }
    router
}
