//! GraphiQL, served entirely by memberkey: a pinned production build of GraphiQL and React
//! (vendored in `assets/graphiql` by `scripts/vendor-graphiql.sh`) and a small page of our own
//! with a staff sign-in bar, all compiled into the binary. It loads nothing from elsewhere,
//! so it works without internet, and its CSP allows nothing else.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use super::assets::{Asset, Cache};

/// GraphiQL's stylesheet inlines its fonts and icons as `data:` URLs; everything else comes
/// from this origin.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    font-src 'self' data:; img-src 'self' data:; connect-src 'self'; form-action 'none'; \
    frame-ancestors 'none'; base-uri 'none'";

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

static PAGE: Asset = Asset::new(
    "text/html; charset=utf-8",
    include_bytes!("graphiql/page.html"),
    CSP,
    Cache::Revalidate,
);

/// The files under `/graphiql/`, by name.
static FILES: [(&str, Asset); 7] = [
    (
        "page.js",
        Asset::new(
            JS,
            include_bytes!("graphiql/page.js"),
            CSP,
            Cache::Revalidate,
        ),
    ),
    (
        "page.css",
        Asset::new(
            CSS,
            include_bytes!("graphiql/page.css"),
            CSP,
            Cache::Revalidate,
        ),
    ),
    (
        "favicon.svg",
        Asset::new(
            "image/svg+xml",
            include_bytes!("graphiql/favicon.svg"),
            CSP,
            Cache::Revalidate,
        ),
    ),
    (
        "graphiql.min.js",
        Asset::new(
            JS,
            include_bytes!("../../assets/graphiql/graphiql.min.js"),
            CSP,
            Cache::Revalidate,
        ),
    ),
    (
        "graphiql.min.css",
        Asset::new(
            CSS,
            include_bytes!("../../assets/graphiql/graphiql.min.css"),
            CSP,
            Cache::Revalidate,
        ),
    ),
    (
        "react.production.min.js",
        Asset::new(
            JS,
            include_bytes!("../../assets/graphiql/react.production.min.js"),
            CSP,
            Cache::Revalidate,
        ),
    ),
    (
        "react-dom.production.min.js",
        Asset::new(
            JS,
            include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
            CSP,
            Cache::Revalidate,
        ),
    ),
];

/// The GraphiQL page itself (served at `GET /graphql` to browsers).
pub(super) fn page(request: &HeaderMap) -> Response {
    PAGE.respond(request)
}

async fn file(Path(name): Path<String>, request: HeaderMap) -> Response {
    match FILES.iter().find(|(n, _)| *n == name) {
        Some((_, asset)) => asset.respond(&request),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/graphiql/{name}", get(file))
}
