//! The member pages' cookies and their defence against cross-site requests.
//!
//! - The session cookie holds a member session's token: the same sessions `memberLogin`
//!   opens, so everything that ends those (a password change, a credential switched off,
//!   "Sign out everywhere") ends the cookie's too. HttpOnly and SameSite=Lax; Secure with the
//!   `__Host-` prefix when the public address is https. It lasts while the browser is open
//!   and the session lives, and a sign-in always replaces it with a new one.
//! - Every POST must come from this origin (the `Origin` header, which browsers send with
//!   every POST) and carry the form's token: a digest of a random form cookie and of the
//!   session, so a token is worth nothing in another browser or another session.

use axum::http::{HeaderMap, header};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::Config;
use crate::domain::Token;
use crate::services::{Principal, auth, principal::MemberPrincipal};

use super::super::AppState;

/// The cookies' names and whether they are Secure, from the public address.
struct Names {
    session: &'static str,
    form: &'static str,
    secure: bool,
}

fn names(config: &Config) -> Names {
    if config.public_url.starts_with("https://") {
        Names {
            session: "__Host-memberkey_session",
            form: "__Host-memberkey_form",
            secure: true,
        }
    } else {
        Names {
            session: "memberkey_session",
            form: "memberkey_form",
            secure: false,
        }
    }
}

fn cookie(name: &'static str, value: String, secure: bool, same_site: SameSite) -> Cookie<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .secure(secure)
        .same_site(same_site)
        .path("/")
        .build()
}

/// The session token the browser presents, if any.
pub(super) fn session_token(config: &Config, jar: &CookieJar) -> Option<String> {
    jar.get(names(config).session).map(|c| c.value().to_owned())
}

/// The signed-in member of this browser: `None` when there is no cookie, or its session has
/// ended. A staff token planted in the cookie is no one here.
pub(super) async fn member(
    state: &AppState,
    jar: &CookieJar,
) -> crate::error::AppResult<Option<(Principal, MemberPrincipal)>> {
    let Some(token) = session_token(&state.config, jar) else {
        return Ok(None);
    };
    match auth::resolve(&state.services, Some(&token)).await? {
        Principal::Member(m) => Ok(Some((Principal::Member(m.clone()), m))),
        _ => Ok(None),
    }
}

/// The jar with the session cookie set to `token`.
pub(super) fn with_session(config: &Config, jar: CookieJar, token: &Token) -> CookieJar {
    let n = names(config);
    jar.add(cookie(
        n.session,
        token.expose().to_owned(),
        n.secure,
        SameSite::Lax,
    ))
}

/// The jar with the session cookie removed.
pub(super) fn without_session(config: &Config, jar: CookieJar) -> CookieJar {
    let n = names(config);
    jar.remove(cookie(n.session, String::new(), n.secure, SameSite::Lax))
}

/// The token the page's forms carry, and the jar with the form cookie it is made from (set
/// now if the browser has none yet).
pub(super) fn form_token(config: &Config, jar: CookieJar) -> (CookieJar, String) {
    let n = names(config);
    let (jar, key) = match jar.get(n.form).map(|c| c.value().to_owned()) {
        Some(key) => (jar, key),
        None => {
            // The form cookie is a random value of the same strength as a session token.
            let key = Token::generate()
                .map(|t| t.expose().to_owned())
                .unwrap_or_default();
            let jar = jar.add(cookie(n.form, key.clone(), n.secure, SameSite::Strict));
            (jar, key)
        }
    };
    let session = session_token(config, &jar);
    let token = digest(&key, session.as_deref());
    (jar, token)
}

fn digest(form_key: &str, session: Option<&str>) -> String {
    let mut h = Sha256::new();
    h.update(b"memberkey portal form\0");
    h.update(form_key.as_bytes());
    h.update(b"\0");
    h.update(session.unwrap_or_default().as_bytes());
    URL_SAFE_NO_PAD.encode(h.finalize())
}

/// Why a POST was refused before it was read.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Forged {
    /// It came from another site (or the browser would not say where from).
    OtherOrigin,
    /// Its form token is missing, stale, or not this browser's.
    BadToken,
}

/// Checks that a POST comes from one of this service's own pages, in this browser.
pub(super) fn check_post(
    config: &Config,
    headers: &HeaderMap,
    jar: &CookieJar,
    presented: &str,
) -> Result<(), Forged> {
    if !from_this_origin(config, headers) {
        return Err(Forged::OtherOrigin);
    }
    let n = names(config);
    let Some(key) = jar.get(n.form).map(|c| c.value().to_owned()) else {
        return Err(Forged::BadToken);
    };
    let expected = digest(&key, session_token(config, jar).as_deref());
    if key.is_empty() || !bool::from(expected.as_bytes().ct_eq(presented.as_bytes())) {
        return Err(Forged::BadToken);
    }
    Ok(())
}

/// Whether a POST comes from a page of this service.
/// - A browser that sends Fetch metadata says so itself (`Sec-Fetch-Site`, which no page can
///   set): only `same-origin` passes. This also covers pages that send `Origin: null`
///   because of their `Referrer-Policy: no-referrer` (the staff console).
/// - Otherwise `Origin` must be this service: the public address, or the host the browser
///   asked for (a server reached directly, as on a laptop). Without either header, refused.
pub(super) fn from_this_origin(config: &Config, headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        return site == "same-origin";
    }
    let Some(origin) = text(header::ORIGIN.as_str()) else {
        return false;
    };
    let public = url::Url::parse(&config.public_url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    if origin == public {
        return true;
    }
    let host = text(header::HOST.as_str());
    match url::Url::parse(origin) {
        Ok(o) if matches!(o.scheme(), "http" | "https") => {
            let authority = origin.split_once("://").map(|(_, a)| a);
            host.is_some() && authority == host
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn config() -> Config {
        Config {
            public_url: "https://members.example.org".into(),
            ..Config::default()
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn only_this_origin_may_post() {
        let c = config();
        let ok = |pairs: &[(&'static str, &'static str)]| from_this_origin(&c, &headers(pairs));
        assert!(ok(&[("origin", "https://members.example.org")]));
        assert!(ok(&[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080")
        ]));
        assert!(!ok(&[
            ("origin", "https://evil.example"),
            ("host", "members.example.org")
        ]));
        assert!(!ok(&[(
            "origin",
            "https://members.example.org.evil.example"
        )]));
        assert!(!ok(&[("origin", "null"), ("host", "members.example.org")]));
        assert!(!ok(&[("host", "members.example.org")]));
        assert!(ok(&[("sec-fetch-site", "same-origin")]));
        assert!(ok(&[("sec-fetch-site", "same-origin"), ("origin", "null")]));
        assert!(!ok(&[("sec-fetch-site", "cross-site")]));
        assert!(!ok(&[
            ("sec-fetch-site", "same-site"),
            ("origin", "https://members.example.org")
        ]));
        assert!(!ok(&[("sec-fetch-site", "none")]));
    }

    #[test]
    fn a_form_token_belongs_to_its_browser_and_session() {
        let c = config();
        let (jar, token) = form_token(&c, CookieJar::new());
        let post = headers(&[("origin", "https://members.example.org")]);
        assert_eq!(check_post(&c, &post, &jar, &token), Ok(()));
        assert_eq!(check_post(&c, &post, &jar, "forged"), Err(Forged::BadToken));
        // Another browser (another form cookie) cannot use it.
        let (other, _) = form_token(&c, CookieJar::new());
        assert_eq!(check_post(&c, &post, &other, &token), Err(Forged::BadToken));
        // Nor can the same browser once it holds another session.
        let signed_in = with_session(&c, jar, &Token::generate().unwrap());
        assert_eq!(
            check_post(&c, &post, &signed_in, &token),
            Err(Forged::BadToken)
        );
        let cross = headers(&[("origin", "https://evil.example")]);
        let (jar, token) = form_token(&c, CookieJar::new());
        assert_eq!(
            check_post(&c, &cross, &jar, &token),
            Err(Forged::OtherOrigin)
        );
    }
}
