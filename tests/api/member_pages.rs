//! The member pages over plain HTTP, as a browser without scripts uses them: sign in by form
//! POST, the session cookie and its attributes, the account page, must-change first, sign out
//! and sign out everywhere, forged posts refused, and a staff user's read-only view opened
//! from the console. The browser walk is in `member_pages_browser`.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use serde_json::json;

use memberkey::domain::Right;

use crate::credentials::set;
use crate::helpers::{Backend, TestApp, both, code, per_backend, person, spawn_app_with_clock_and};
use crate::member_login::member_login;
use crate::ws::WsClient;

pub const PASSWORD: &str = "Harbour-Lantern-Tide-9";
const NEW_PASSWORD: &str = "seven quiet gulls over the pier";
/// The origin of the tests' public address (`https://members.example.org`).
const ORIGIN: &str = "https://members.example.org";
const SESSION: &str = "__Host-memberkey_session";

/// One browser: its cookies, kept by hand so that the test sees every attribute.
pub struct Visitor<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
    /// The raw `Set-Cookie` lines of the last response.
    pub set_cookies: Vec<String>,
}

/// A page as the visitor got it.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The value of the form's hidden `csrf` field.
    pub fn csrf(&self) -> String {
        let start = self
            .body
            .find("name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no form token in {}", self.body))
            + 19;
        self.body[start..].split('"').next().unwrap().to_owned()
    }

    /// The text of the page's alert, if any.
    pub fn error(&self) -> Option<String> {
        let start = self.body.find("role=\"alert\">")? + 13;
        Some(self.body[start..].split('<').next()?.to_owned())
    }
}

impl<'a> Visitor<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
            set_cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn keep(&mut self, resp: reqwest::Response) -> Page {
        self.set_cookies = resp
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for line in &self.set_cookies {
            let pair = line.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            let removed = line.contains("Max-Age=0") || line.contains("max-age=0");
            if removed || value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        Page {
            status: resp.status(),
            headers: resp.headers().clone(),
            body: resp.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let resp = self
            .http
            .get(self.app.url(path))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep(resp).await
    }

    /// A form POST, sent from `origin` as a browser would say.
    pub async fn post_from(&mut self, origin: &str, path: &str, form: &[(&str, &str)]) -> Page {
        let resp = self
            .http
            .post(self.app.url(path))
            .header("cookie", self.cookie_header())
            .header("origin", origin)
            .form(form)
            .send()
            .await
            .unwrap();
        self.keep(resp).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        self.post_from(ORIGIN, path, form).await
    }

    pub fn session(&self) -> Option<&String> {
        self.cookies.get(SESSION)
    }

    /// Signs in on the page; the response to the POST.
    pub async fn sign_in(&mut self, login: &str, password: &str) -> Page {
        let form = self.get("/portal/sign-in").await;
        assert_eq!(form.status, 200);
        let csrf = form.csrf();
        self.post(
            "/portal/sign-in",
            &[
                ("login", login),
                ("password", password),
                ("csrf", &csrf),
                ("next", ""),
            ],
        )
        .await
    }

    /// Posts the account page's form at `path` (sign out, sign out everywhere).
    pub async fn post_from_account(&mut self, path: &str) -> Page {
        let account = self.get("/portal/account").await;
        assert_eq!(account.status, 200, "{}", account.body);
        let csrf = account.csrf();
        self.post(path, &[("csrf", &csrf)]).await
    }
}

/// A member "Maria Jensen" (username `mariaj`) with a password she chose herself, or one staff
/// set for her (`must_change`).
pub async fn member(app: &TestApp, must_change: bool) -> (String, String) {
    let admin = app.admin().await;
    let id = app
        .create_profile(
            &admin,
            person("Maria", "Jensen", Some("maria@harbour.example")),
        )
        .await;
    let resp = set(
        app,
        &admin,
        json!({ "profileId": id, "username": "mariaj", "password": PASSWORD, "mustChangePassword": must_change }),
    )
    .await;
    assert!(resp["errors"].is_null(), "{resp}");
    (admin, id)
}

both!(
    a_member_signs_in_on_the_page_and_sees_the_account,
    |app| async move {
        let (_, _) = member(&app, false).await;
        let mut browser = Visitor::new(&app);

        // Not signed in: the account page leads to sign-in and back.
        let account = browser.get("/portal/account").await;
        assert_eq!(account.status, StatusCode::SEE_OTHER);
        assert_eq!(
            account.location(),
            "/portal/sign-in?next=%2Fportal%2Faccount"
        );
        for (path, to) in [
            ("/", "/portal/"),
            ("/portal", "/portal/"),
            ("/portal/", "/portal/account"),
            ("/login", "/portal/sign-in"),
        ] {
            let page = browser.get(path).await;
            assert_eq!(page.location(), to, "{path}");
        }

        let form = browser
            .get("/portal/sign-in?next=%2Fportal%2Faccount")
            .await;
        assert_eq!(form.status, 200);
        for (header, expected) in [
            ("x-frame-options", "DENY"),
            ("cache-control", "no-store"),
            ("referrer-policy", "same-origin"),
            ("x-content-type-options", "nosniff"),
        ] {
            assert_eq!(form.headers[header], expected, "{header}");
        }
        let csp = form.headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'")
                && csp.contains("form-action 'self'")
                && !csp.contains("script-src"),
            "{csp}"
        );
        for label in [
            "Username or email",
            "Password",
            "Sign in",
            "Forgot your login?",
        ] {
            assert!(form.body.contains(label), "{label}");
        }
        assert!(form.body.contains("href=\"/portal/forgot\""));
        assert!(
            !form.body.contains("http://") && !form.body.contains("https://"),
            "no third-party assets"
        );

        // A wrong password, an unknown login: one answer, the typed login kept.
        let wrong = browser
            .post(
                "/portal/sign-in",
                &[
                    ("login", "mariaj"),
                    ("password", "not it at all, sorry"),
                    ("csrf", &form.csrf()),
                    ("next", "/portal/account"),
                ],
            )
            .await;
        assert_eq!(wrong.status, StatusCode::OK);
        assert!(wrong.body.contains("value=\"mariaj\""));
        let unknown = browser
            .post(
                "/portal/sign-in",
                &[
                    ("login", "nobody"),
                    ("password", "not it at all, sorry"),
                    ("csrf", &wrong.csrf()),
                    ("next", "/portal/account"),
                ],
            )
            .await;
        assert_eq!(unknown.status, StatusCode::OK);
        assert_eq!(wrong.error(), unknown.error());
        assert!(wrong.error().unwrap().contains("Forgot your login?"));
        assert_eq!(browser.session(), None);

        // The right password: a session cookie with every protection, then the account.
        let signed_in = browser.sign_in("maria@harbour.example", PASSWORD).await;
        assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
        assert_eq!(signed_in.location(), "/portal/account");
        let cookie = browser
            .set_cookies
            .iter()
            .find(|c| c.starts_with(SESSION))
            .expect("a session cookie");
        for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
            assert!(cookie.contains(attribute), "{attribute}: {cookie}");
        }
        assert!(!cookie.contains("Domain"), "{cookie}");
        let account = browser.get("/portal/account").await;
        assert_eq!(account.status, 200);
        for fact in [
            "Maria Jensen",
            "mariaj",
            "maria@harbour.example",
            "Sign out everywhere",
            "Change password",
        ] {
            assert!(account.body.contains(fact), "{fact}");
        }
        assert!(!account.body.contains("Viewing as"));
        assert_eq!(app.audited("MEMBER_LOGIN").await, 1);

        // A second sign-in in the same browser replaces the session: the old one is over.
        let first = browser.session().unwrap().clone();
        let csrf = browser.get("/portal/account").await.csrf();
        let again = browser
            .post(
                "/portal/sign-in",
                &[
                    ("login", "mariaj"),
                    ("password", PASSWORD),
                    ("csrf", &csrf),
                    ("next", ""),
                ],
            )
            .await;
        assert_eq!(again.status, StatusCode::SEE_OTHER);
        let second = browser.session().unwrap().clone();
        assert_ne!(first, second);
        let me = app
            .gql(Some(&first), "{ me { username } }", json!({}))
            .await;
        assert_eq!(code(&me), "UNAUTHENTICATED", "{me}");
        let me = app
            .gql(Some(&second), "{ me { username } }", json!({}))
            .await;
        assert_eq!(me["data"]["me"]["username"], "mariaj");

        // Signing out ends it.
        let out = browser.post_from_account("/portal/sign-out").await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        assert_eq!(out.location(), "/portal/sign-in?signed_out=1");
        assert_eq!(browser.session(), None);
        let me = app
            .gql(Some(&second), "{ me { username } }", json!({}))
            .await;
        assert_eq!(code(&me), "UNAUTHENTICATED");
        let page = browser.get("/portal/sign-in?signed_out=1").await;
        assert!(page.body.contains("You are signed out."));
    }
);

both!(posts_from_elsewhere_change_nothing, |app| async move {
    member(&app, false).await;
    let mut browser = Visitor::new(&app);
    let form = browser.get("/portal/sign-in").await;
    let csrf = form.csrf();
    let fields = [
        ("login", "mariaj"),
        ("password", PASSWORD),
        ("csrf", csrf.as_str()),
        ("next", ""),
    ];

    // Another site's form, even with a valid token: refused before anything is read.
    let evil = browser
        .post_from("https://evil.example", "/portal/sign-in", &fields)
        .await;
    assert_eq!(evil.status, StatusCode::FORBIDDEN);
    assert_eq!(browser.session(), None);
    let null = browser.post_from("null", "/portal/sign-in", &fields).await;
    assert_eq!(null.status, StatusCode::FORBIDDEN);
    assert_eq!(app.audited("MEMBER_LOGIN").await, 0);

    // This origin, without the form's token or with another browser's: refused too.
    let other = Visitor::new(&app).get("/portal/sign-in").await.csrf();
    for token in ["", other.as_str()] {
        let page = browser
            .post(
                "/portal/sign-in",
                &[
                    ("login", "mariaj"),
                    ("password", PASSWORD),
                    ("csrf", token),
                    ("next", ""),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert_eq!(browser.session(), None);
    }
    assert_eq!(app.audited("MEMBER_LOGIN").await, 0);

    // Signed in: signing out, or out everywhere, from another site does nothing.
    browser.sign_in("mariaj", PASSWORD).await;
    let account = browser.get("/portal/account").await;
    let csrf = account.csrf();
    for path in [
        "/portal/sign-out",
        "/portal/sign-out-everywhere",
        "/portal/change-password",
    ] {
        let page = browser
            .post_from("https://evil.example", path, &[("csrf", &csrf)])
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        let page = browser.post(path, &[("csrf", "forged")]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(browser.get("/portal/account").await.status, 200);

    // A scheme-relative or foreign `next` never leaves the member pages.
    let mut fresh = Visitor::new(&app);
    let csrf2 = fresh.get("/portal/sign-in").await.csrf();
    let page = fresh
        .post(
            "/portal/sign-in",
            &[
                ("login", "mariaj"),
                ("password", PASSWORD),
                ("csrf", &csrf2),
                ("next", "//evil.example/portal/"),
            ],
        )
        .await;
    assert_eq!(page.location(), "/portal/account");
});

both!(a_staff_set_password_is_changed_first, |app| async move {
    let (admin, id) = member(&app, true).await;
    let mut browser = Visitor::new(&app);
    let signed_in = browser.sign_in("mariaj", PASSWORD).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    assert_eq!(
        signed_in.location(),
        "/portal/change-password?next=%2Fportal%2Faccount"
    );
    // Nothing else until then.
    let account = browser.get("/portal/account").await;
    assert_eq!(account.status, StatusCode::SEE_OTHER);
    assert!(account.location().starts_with("/portal/change-password"));

    let page = browser.get(signed_in.location()).await;
    assert!(page.body.contains("Choose your own password"));
    for label in ["Current password", "New password", "Confirm new password"] {
        assert!(page.body.contains(label), "{label}");
    }
    let csrf = page.csrf();
    let differ = browser
        .post(
            "/portal/change-password",
            &[
                ("current", PASSWORD),
                ("new", NEW_PASSWORD),
                ("confirm", "something else entirely"),
                ("next", "/portal/account"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(differ.status, StatusCode::BAD_REQUEST);
    assert!(differ.error().unwrap().contains("differ"));
    let weak = browser
        .post(
            "/portal/change-password",
            &[
                ("current", PASSWORD),
                ("new", "short"),
                ("confirm", "short"),
                ("next", "/portal/account"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    assert!(weak.error().is_some());
    let wrong = browser
        .post(
            "/portal/change-password",
            &[
                ("current", "not the password at all"),
                ("new", NEW_PASSWORD),
                ("confirm", NEW_PASSWORD),
                ("next", "/portal/account"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.error().unwrap().contains("current password"));

    // A session elsewhere (the API) ends with the change; this one stays.
    let elsewhere = member_login(&app, "mariaj", PASSWORD).await["data"]["memberLogin"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = browser
        .post(
            "/portal/change-password",
            &[
                ("current", PASSWORD),
                ("new", NEW_PASSWORD),
                ("confirm", NEW_PASSWORD),
                ("next", "/portal/account"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/portal/account?changed=1");
    let account = browser.get(done.location()).await;
    assert_eq!(account.status, 200);
    assert!(account.body.contains("Your password is changed."));
    let me = app
        .gql(Some(&elsewhere), "{ me { username } }", json!({}))
        .await;
    assert_eq!(code(&me), "UNAUTHENTICATED");
    let resp = member_login(&app, "mariaj", NEW_PASSWORD).await;
    assert_eq!(resp["data"]["memberLogin"]["profile"]["id"], id, "{resp}");

    // Staff switching the credential off ends the page's session too.
    let off = app
        .gql(
            Some(&admin),
            "mutation($p: ID!) { setPortalCredentialsEnabled(profileId: $p, enabled: false) { credential { enabled } } }",
            json!({ "p": id }),
        )
        .await;
    assert!(off["errors"].is_null(), "{off}");
    let account = browser.get("/portal/account").await;
    assert_eq!(account.status, StatusCode::SEE_OTHER);
    assert!(account.location().starts_with("/portal/sign-in"));
    // And it cannot sign in again, with the one answer.
    let refused = browser.sign_in("mariaj", NEW_PASSWORD).await;
    assert_eq!(refused.status, StatusCode::OK);
    assert!(refused.error().is_some());
    assert!(
        refused
            .headers
            .get(SET_COOKIE)
            .is_none_or(|c| !c.to_str().unwrap().starts_with(SESSION))
    );
});

both!(sign_out_everywhere_ends_every_session, |app| async move {
    member(&app, false).await;
    let mut laptop = Visitor::new(&app);
    let mut phone = Visitor::new(&app);
    laptop.sign_in("mariaj", PASSWORD).await;
    phone.sign_in("mariaj", PASSWORD).await;
    let api = member_login(&app, "mariaj", PASSWORD).await["data"]["memberLogin"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = laptop
        .post_from_account("/portal/sign-out-everywhere")
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/portal/sign-in?signed_out=everywhere");
    assert_eq!(laptop.session(), None);
    assert_eq!(
        phone.get("/portal/account").await.status,
        StatusCode::SEE_OTHER
    );
    let me = app.gql(Some(&api), "{ me { username } }", json!({})).await;
    assert_eq!(code(&me), "UNAUTHENTICATED");
    assert_eq!(app.audited("MEMBER_SIGNED_OUT_EVERYWHERE").await, 1);
    let page = laptop.get(out.location()).await;
    assert!(page.body.contains("You are signed out everywhere."));
});

both!(
    sign_out_everywhere_over_http_and_websocket,
    |app| async move {
        member(&app, false).await;
        const EVERYWHERE: &str = "mutation { memberLogoutEverywhere { signedOut } }";
        let token = || async {
            member_login(&app, "mariaj", PASSWORD).await["data"]["memberLogin"]["token"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let (a, b) = (token().await, token().await);
        let resp = app.gql(Some(&a), EVERYWHERE, json!({})).await;
        assert_eq!(
            resp["data"]["memberLogoutEverywhere"]["signedOut"], true,
            "{resp}"
        );
        let me = app.gql(Some(&b), "{ me { username } }", json!({})).await;
        assert_eq!(code(&me), "UNAUTHENTICATED");
        // Anonymous: refused alike on both transports.
        assert_eq!(
            code(&app.gql(None, EVERYWHERE, json!({})).await),
            "UNAUTHENTICATED"
        );

        let c = token().await;
        let d = token().await;
        let mut socket = WsClient::connect(&app, Some(&c)).await;
        let resp = socket.run(EVERYWHERE, json!({})).await.unwrap();
        assert_eq!(
            resp["data"]["memberLogoutEverywhere"]["signedOut"], true,
            "{resp}"
        );
        let me = app.gql(Some(&d), "{ me { username } }", json!({})).await;
        assert_eq!(code(&me), "UNAUTHENTICATED");
        let mut anonymous = WsClient::connect(&app, None).await;
        let resp = anonymous.run(EVERYWHERE, json!({})).await.unwrap();
        assert_eq!(code(&resp), "UNAUTHENTICATED", "{resp}");
    }
);

/// The page follows the sign-in lockout: after the threshold the right password is refused
/// with the same answer, and the lock's end lets the member in again.
async fn lockout_on_the_page(backend: Backend) {
    let (app, clock) = spawn_app_with_clock_and(backend, |c| {
        c.lockout_threshold = 3;
        c.lockout_account_ceiling = 10;
        c.lockout_duration = chrono::Duration::minutes(15);
    })
    .await;
    member(&app, false).await;
    let mut browser = Visitor::new(&app);
    let wrong = browser.sign_in("mariaj", "a wrong guess, the first").await;
    let answer = wrong.error();
    for _ in 0..2 {
        browser.sign_in("mariaj", "another wrong guess here").await;
    }
    let locked = browser.sign_in("mariaj", PASSWORD).await;
    assert_eq!(locked.status, StatusCode::OK);
    assert_eq!(locked.error(), answer, "the same answer when locked");
    assert_eq!(browser.session(), None);
    clock.advance(chrono::Duration::minutes(16));
    let open = browser.sign_in("mariaj", PASSWORD).await;
    assert_eq!(open.status, StatusCode::SEE_OTHER);
    assert!(browser.session().is_some());
}
per_backend!(
    the_sign_in_page_follows_the_lockout,
    super::lockout_on_the_page
);

/// A staff user's view as the member, opened from the console: only a view session is
/// taken, the page says whose view it is and until when, and every change is refused.
async fn staff_view_of_the_portal(backend: Backend) {
    let (app, _clock) = spawn_app_with_clock_and(backend, |_| {}).await;
    let (_, id) = member(&app, false).await;
    let helper = app
        .staff_with("helpdesk", &[Right::ImpersonateMembers])
        .await;
    let started = app
        .gql(
            Some(&helper),
            "mutation($p: ID!) { startPortalImpersonation(profileId: $p) { impersonation { token } } }",
            json!({ "p": id }),
        )
        .await;
    let view = started["data"]["startPortalImpersonation"]["impersonation"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{started}"))
        .to_owned();

    // A member's own session (or a staff session) is not taken here; nor is a post from
    // another site.
    let own = member_login(&app, "mariaj", PASSWORD).await["data"]["memberLogin"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut browser = Visitor::new(&app);
    for token in [own.as_str(), helper.as_str(), "nonsense"] {
        let page = browser.post("/portal/view-as", &[("token", token)]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(page.body.contains("This view has ended"), "{}", page.body);
        assert_eq!(browser.session(), None);
    }
    let page = browser
        .post_from(
            "https://evil.example",
            "/portal/view-as",
            &[("token", &view)],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(browser.session(), None);

    let opened = browser.post("/portal/view-as", &[("token", &view)]).await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER);
    assert_eq!(opened.location(), "/portal/account");
    let account = browser.get("/portal/account").await;
    assert_eq!(account.status, 200);
    assert!(
        account
            .body
            .contains("Viewing as Maria Jensen, read-only, until "),
        "{}",
        account.body
    );
    assert!(!account.body.contains("Sign out everywhere"));
    assert!(!account.body.contains("href=\"/portal/change-password\""));

    // Every change is refused, even posted by hand.
    let csrf = account.csrf();
    let change = browser
        .post(
            "/portal/change-password",
            &[
                ("current", PASSWORD),
                ("new", NEW_PASSWORD),
                ("confirm", NEW_PASSWORD),
                ("next", "/portal/account"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(change.status, StatusCode::FORBIDDEN);
    assert!(change.error().unwrap().contains("read-only"));
    let everywhere = browser
        .post("/portal/sign-out-everywhere", &[("csrf", &csrf)])
        .await;
    assert_eq!(everywhere.status, StatusCode::FORBIDDEN);
    let me = app.gql(Some(&own), "{ me { username } }", json!({})).await;
    assert_eq!(
        me["data"]["me"]["username"], "mariaj",
        "the member's session lives"
    );
    assert_eq!(
        member_login(&app, "mariaj", PASSWORD).await["errors"],
        json!(null)
    );

    // Ending the view is audited, as from the API.
    let ended = browser.post_from_account("/portal/sign-out").await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    assert_eq!(app.audited("PORTAL_IMPERSONATION_ENDED").await, 1);
}
per_backend!(
    staff_view_the_portal_read_only,
    super::staff_view_of_the_portal
);
