//! The member pages that the server draws (sign-in, account, change password, and the
//! messages between them): askama templates under `templates/`, escaped as HTML by the
//! template engine. They load no script at all; forms post to this origin only.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::super::assets::{Cache, protect};

/// No scripts; styles, icons and form posts from this origin only. `Referrer-Policy:
/// same-origin` (not `no-referrer`) so that the browser names this origin on each POST.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'";

/// What every page shows around its content.
pub(super) struct Frame<'a> {
    /// The association's name, above every page's heading.
    pub association: &'a str,
    /// "Viewing as Maria Jensen, read-only, until 14:05 CET" on a staff user's view.
    pub viewing: Option<String>,
}

/// "Sign in".
#[derive(Template)]
#[template(path = "sign-in.html")]
pub(super) struct SignIn<'a> {
    pub frame: Frame<'a>,
    pub csrf: String,
    pub next: String,
    /// What the member typed, kept after a refusal.
    pub login: String,
    pub error: Option<String>,
    pub notice: Option<&'static str>,
    /// The connected site the member is signing in to ("to continue to …").
    pub site: Option<String>,
}

/// The signed-in member's account.
#[derive(Template)]
#[template(path = "account.html")]
pub(super) struct Account<'a> {
    pub frame: Frame<'a>,
    pub csrf: String,
    pub name: String,
    pub username: Option<String>,
    pub email: Option<String>,
    pub password_changed: Option<String>,
    pub read_only: bool,
    pub notice: Option<&'static str>,
    /// When staff viewed this account, newest first ("6 December 2026, 14:05 CET by admin").
    pub visits: Vec<String>,
    /// The association's sites the member signed in to and that still hold access.
    pub sites: Vec<SiteRow>,
}

/// A site on the account page.
pub(super) struct SiteRow {
    pub client_id: String,
    pub name: String,
    /// When the member last signed in to it, in words.
    pub last: String,
}

/// Change password, and the must-change page after a staff-set password.
#[derive(Template)]
#[template(path = "change-password.html")]
pub(super) struct ChangePassword<'a> {
    pub frame: Frame<'a>,
    pub csrf: String,
    pub next: String,
    pub must_change: bool,
    pub min_chars: usize,
    pub error: Option<String>,
}

/// A page that only says something, with one way on.
#[derive(Template)]
#[template(path = "message.html")]
pub(super) struct Message<'a> {
    pub frame: Frame<'a>,
    pub title: &'static str,
    pub text: String,
    pub link: (&'static str, &'static str),
}

/// A page about a connected site, with an optional way back to it.
#[derive(Template)]
#[template(path = "site-message.html")]
pub(super) struct SiteMessage<'a> {
    pub frame: Frame<'a>,
    pub title: String,
    pub text: String,
    /// Where the button leads, and its label.
    pub link: Option<(String, String)>,
}

/// After a form: on to a connected site's sign-in. A page, not a redirect, because a
/// redirect that answers a form post may only lead to this origin (`form-action 'self'`),
/// while the sign-in ends at the site.
#[derive(Template)]
#[template(path = "continue.html")]
pub(super) struct Continue<'a> {
    pub frame: Frame<'a>,
    pub heading: String,
    /// The link's words, e.g. "Continue to Members' Forum".
    pub label: String,
    pub to: String,
}

/// A site asks to sign the member out, without proof that the member asked it to.
#[derive(Template)]
#[template(path = "sign-out-site.html")]
pub(super) struct SignOutSite<'a> {
    pub frame: Frame<'a>,
    pub csrf: String,
    pub site: String,
    /// The logout request's parameters, sent again with the confirmation.
    pub fields: Vec<(String, String)>,
}

/// A drawn page with the member pages' headers. Never cached: each shows personal data or a
/// form token.
pub(super) fn render(status: StatusCode, page: &impl Template) -> Response {
    let body = match page.render() {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(cause = %e, "could not draw a member page");
            return (StatusCode::INTERNAL_SERVER_ERROR, "could not draw the page").into_response();
        }
    };
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    protect(h, CSP, &Cache::Never, "same-origin");
    resp
}

/// "Unsubscribe from news?": what the button does, before anything changes.
#[derive(Template)]
#[template(path = "unsubscribe.html")]
pub(super) struct Unsubscribe<'a> {
    pub frame: Frame<'a>,
    /// The member's address, masked ("m…@harbour.example").
    pub address: String,
    /// Already unsubscribed: the page says so and offers no button.
    pub already: bool,
}
