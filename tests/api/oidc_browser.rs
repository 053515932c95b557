//! memberkey as a site's sign-in, in headless Chromium used by visible labels: a member
//! whose password staff set goes from the forum to memberkey, signs in, chooses a password,
//! and lands back on the forum, whose server (the `openidconnect` crate) then exchanges the
//! code. Also the pages around it: membership refused, an unregistered return address, the
//! account's "Remove access", sign-out confirmation, and the console's "Connected sites".
//! Every page is saved at 1280×800 and 390×844.

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{
    AuthorizationCode, CsrfToken, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl,
    Scope, TokenResponse,
};
use serde_json::{Value, json};

use memberkey::domain::Right;

use crate::browser::Browser;
use crate::console::{problems, sign_in as staff_sign_in, snap as console_snap};
use crate::helpers::{Backend, TestApp, per_backend, spawn_app};
use crate::member_pages::{PASSWORD, member};
use crate::member_pages_browser::{fill, heading, snap};
use crate::oidc::{ISSUER, register, relying_party, rp_http};

const NEW_PASSWORD: &str = "lanterns along the north quay";

/// The forum's own server, answering its callback with a page of its own. Returns its root.
async fn forum_site() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let root = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new()
        .route(
            "/callback",
            get(|| async { Html("<!doctype html><title>Forum</title><h1>Members' Forum</h1>") }),
        )
        .route(
            "/",
            get(|| async { Html("<!doctype html><title>Forum</title><h1>Forum home</h1>") }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    root
}

/// The authorization request a site sends the browser to, on the test server's address.
fn on_test_server(app: &TestApp, url: &str) -> String {
    url.replace(ISSUER, &app.url(""))
}

async fn text(browser: &Browser) -> String {
    browser
        .js("return document.body.innerText")
        .await
        .as_str()
        .unwrap()
        .to_owned()
}

async fn site_sign_in(backend: Backend) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app(backend).await;
    member(&app, true).await;
    let forum = forum_site().await;
    let callback = format!("{forum}/callback");
    let (client_id, secret) = register(
        &app,
        json!({
            "name": "Members' Forum",
            "redirectUris": [callback],
            "postLogoutRedirectUris": [format!("{forum}/")],
        }),
    )
    .await;
    let rp = relying_party(&app, &client_id, secret)
        .await
        .set_redirect_uri(RedirectUrl::new(callback.clone()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();

    // The forum sends the member to memberkey, which names the forum above the form.
    browser.goto(&on_test_server(&app, auth_url.as_str())).await;
    assert_eq!(heading(&browser).await, "Sign in");
    assert!(
        text(&browser)
            .await
            .contains("to continue to Members' Forum"),
        "{}",
        text(&browser).await
    );
    snap(&browser, backend, "site-sign-in").await;
    fill(&browser, "Username or email", "mariaj").await;
    fill(&browser, "Password", PASSWORD).await;
    browser.click_text("Sign in").await;

    // Staff set the password: the member chooses one first, then goes on to the forum.
    browser
        .until("return location.pathname === '/portal/change-password'")
        .await;
    fill(&browser, "Current password", PASSWORD).await;
    fill(&browser, "New password", NEW_PASSWORD).await;
    fill(&browser, "Confirm new password", NEW_PASSWORD).await;
    browser.click_text("Change password").await;
    browser
        .until(&format!(
            "return location.href.startsWith({})",
            json!(callback)
        ))
        .await;
    assert_eq!(heading(&browser).await, "Members' Forum");
    let search = browser.js("return location.search").await;
    let params: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(search.as_str().unwrap().trim_start_matches('?').as_bytes())
            .into_owned()
            .collect();
    assert_eq!(params["state"], *state.secret());
    assert_eq!(params["iss"], ISSUER);

    // The forum's server exchanges the code and verifies the ID token.
    let tokens = rp
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&rp_http(&app))
        .await
        .expect("code exchange");
    let claims = tokens
        .id_token()
        .expect("an ID token")
        .claims(&rp.id_token_verifier(), &nonce)
        .expect("a valid ID token");
    assert_eq!(
        claims.preferred_username().map(|u| u.as_str()),
        Some("mariaj")
    );

    // The account lists the forum, with a way to take its access back.
    browser.goto(&app.url("/portal/account")).await;
    assert!(text(&browser).await.contains("Members' Forum"));
    snap(&browser, backend, "account-with-sites").await;

    // A site for some memberships only: the member is told, and may go back to it.
    let (course_id, _) = register(
        &app,
        json!({
            "name": "Courses",
            "redirectUris": [callback],
            "allowedMemberStatuses": ["LAPSED"],
        }),
    )
    .await;
    let request = |client_id: &str, redirect: &str| {
        app.url(&format!(
            "/oidc/authorize?response_type=code&scope=openid&client_id={client_id}&redirect_uri={}&state=s1&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
            url::form_urlencoded::byte_serialize(redirect.as_bytes()).collect::<String>()
        ))
    };
    browser.goto(&request(&course_id, &callback)).await;
    assert_eq!(
        heading(&browser).await,
        "Your membership does not include Courses"
    );
    snap(&browser, backend, "site-membership-refused").await;
    browser.click_text("Back to Courses").await;
    browser
        .until(&format!(
            "return location.href.startsWith({})",
            json!(callback)
        ))
        .await;
    assert!(
        browser
            .js("return location.search")
            .await
            .as_str()
            .unwrap()
            .contains("error=access_denied")
    );

    // A return address nobody registered is never visited.
    browser
        .goto(&request(&client_id, &format!("{callback}/")))
        .await;
    assert_eq!(heading(&browser).await, "This sign-in link is not valid");
    snap(&browser, backend, "site-unregistered-return").await;

    // "Remove access" on the account: the forum's tokens stop working.
    browser.goto(&app.url("/portal/account")).await;
    browser.click_text("Remove access").await;
    browser
        .until("return location.search.includes('removed')")
        .await;
    assert!(!text(&browser).await.contains("Members' Forum"));
    let info = app
        .client
        .get(app.url("/oidc/userinfo"))
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 401);
    assert_eq!(app.audited("SITE_ACCESS_REMOVED").await, 1);

    // A sign-out request without the ID token is confirmed by the member first.
    browser
        .goto(&app.url(&format!(
            "/oidc/logout?client_id={client_id}&post_logout_redirect_uri={}",
            url::form_urlencoded::byte_serialize(format!("{forum}/").as_bytes()).collect::<String>()
        )))
        .await;
    assert_eq!(heading(&browser).await, "Sign out?");
    snap(&browser, backend, "site-sign-out").await;
    // Signed out, the member goes straight on to the address the forum registered.
    browser.click_text("Sign out").await;
    browser
        .until(&format!(
            "return location.href === {}",
            json!(format!("{forum}/"))
        ))
        .await;
    browser.goto(&app.url("/portal/account")).await;
    assert_eq!(heading(&browser).await, "Sign in");

    // The refusal pages answer 403 and 400 on purpose, and the forum here has no favicon.
    let problems: Vec<String> = problems(&browser)
        .await
        .into_iter()
        .filter(|p| !p.contains(&forum) && !p.contains("/oidc/authorize?"))
        .collect();
    assert!(problems.is_empty(), "{problems:?}");
    browser.quit().await;
}
per_backend!(
    a_member_signs_in_to_a_site_in_a_browser,
    super::site_sign_in
);

/// The console's "Connected sites": register a site, copy what its plugin needs, remove it.
async fn connected_sites_screen(backend: Backend) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    browser.resize(1280, 800).await;
    let app = spawn_app(backend).await;
    app.staff_with("webmaster", &[Right::ManageConnectedSites])
        .await;
    staff_sign_in(&browser, &app, "webmaster").await;
    browser.click_text("Connected sites").await;
    browser
        .until("return document.getElementById('site-form')")
        .await;
    fill(&browser, "Site name", "Members' Forum").await;
    fill(
        &browser,
        "Sign-in return addresses",
        "https://forum.example.org/auth/oidc/callback",
    )
    .await;
    browser.click("#site-status-ACTIVE").await;
    browser.click_text("Register site").await;
    let client_id = browser
        .until("const e = document.getElementById('site-client-id'); return e && e.value")
        .await;
    let secret = browser
        .until("const e = document.getElementById('site-secret-value'); return e && e.value")
        .await;
    assert_eq!(
        browser
            .js("return document.getElementById('site-discovery').value")
            .await,
        json!(format!("{ISSUER}/.well-known/openid-configuration"))
    );
    assert!(secret.as_str().unwrap().len() >= 32, "{secret}");
    browser
        .until("return document.getElementById('sites-table')")
        .await;
    // The card with what to copy is on screen, its first value focused.
    browser
        .until("const r = document.getElementById('site-secret').getBoundingClientRect(); return r.top > -1 && r.top < innerHeight && document.activeElement.id === 'site-discovery'")
        .await;
    console_snap(&browser, backend, "connected-sites").await;

    // What the screen showed is what the API holds.
    let token = app
        .staff_with("reader", &[Right::ManageConnectedSites])
        .await;
    let listed: Value = app
        .gql(
            Some(&token),
            "{ oidcClients { clientId name allowedMemberStatuses } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed["data"]["oidcClients"],
        json!([{ "clientId": client_id, "name": "Members' Forum", "allowedMemberStatuses": ["ACTIVE"] }])
    );

    // A new secret replaces the one shown.
    browser.click_text("New secret").await;
    browser.click_text("Give a new secret").await;
    browser
        .until(&format!(
            "const e = document.getElementById('site-secret-value'); return e && e.value !== {secret}"
        ))
        .await;
    assert_eq!(app.audited("CONNECTED_SITE_SECRET_ROTATED").await, 1);

    browser.click_text("Remove").await;
    browser.click_text("Remove site").await;
    browser
        .until("return !document.getElementById('sites-table')")
        .await;
    let problems = problems(&browser).await;
    assert!(problems.is_empty(), "{problems:?}");
    browser.quit().await;
}
per_backend!(
    staff_connect_a_site_in_the_console,
    super::connected_sites_screen
);
