//! Every way an OpenID Connect request is refused: redirect addresses that only look
//! registered, PKCE missing or `plain`, a reused or expired code, a wrong secret, a status
//! the site does not admit, `prompt=none` without a session, the lockout and a cross-site
//! post on the way to a site; and a member who must change their password first goes back
//! to the site after changing it. Also the staff API for
//! connected sites, alike over HTTP and the WebSocket.

use reqwest::StatusCode;
use serde_json::{Value, json};

use memberkey::domain::Right;

use crate::helpers::{Backend, TestApp, both, code, per_backend, spawn_app_with_clock};
use crate::member_pages::{PASSWORD, Visitor, member};
use crate::oidc::{AFTER_LOGOUT, CALLBACK, callback_params, forum, register};
use crate::ws::WsClient;

pub(crate) const VERIFIER: &str = "a-verifier-of-at-least-43-characters-0123456789";

fn challenge() -> String {
    memberkey::services::oidc::authorize::s256(VERIFIER)
}

/// An authorization request's path; `extra` adds or replaces parameters.
pub(crate) fn authorize(client_id: &str, extra: &[(&str, &str)]) -> String {
    let challenge = challenge();
    let mut params: Vec<(&str, &str)> = vec![
        ("client_id", client_id),
        ("redirect_uri", CALLBACK),
        ("response_type", "code"),
        ("scope", "openid profile"),
        ("state", "s-123"),
        ("nonce", "n-456"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        params.retain(|(name, _)| name != k);
        if !v.is_empty() {
            params.push((k, v));
        }
    }
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    format!("/oidc/authorize?{query}")
}

/// Signs the visitor in on the member pages.
pub(crate) async fn signed_in(app: &TestApp) -> Visitor<'_> {
    let mut browser = Visitor::new(app);
    let page = browser.sign_in("mariaj", PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    browser
}

/// A code for the signed-in visitor.
pub(crate) async fn a_code(browser: &mut Visitor<'_>, client_id: &str) -> String {
    let back = browser.get(&authorize(client_id, &[])).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    callback_params(back.location())["code"].clone()
}

pub(crate) async fn exchange(app: &TestApp, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let resp = app
        .client
        .post(app.url("/oidc/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    assert_eq!(resp.headers()["cache-control"], "no-store");
    (status, resp.json().await.unwrap())
}

pub(crate) fn code_form<'a>(
    client_id: &'a str,
    secret: &'a str,
    code: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("client_id", client_id),
        ("client_secret", secret),
        ("code", code),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
    ]
}

both!(
    redirect_addresses_match_exactly_or_nothing_is_sent,
    |app| async move {
        let (client_id, _) = register(&app, forum()).await;
        let mut browser = Visitor::new(&app);
        for bad in [
            "https://forum.example.org/auth/oidc/callback/",
            "https://FORUM.example.org/auth/oidc/callback",
            "https://forum.example.org/auth/oidc/callback?x=1",
            "https://forum.example.org@evil.example/auth/oidc/callback",
            "https://evil.example/auth/oidc/callback",
            "",
        ] {
            let page = browser
                .get(&authorize(&client_id, &[("redirect_uri", bad)]))
                .await;
            assert_eq!(page.status, StatusCode::BAD_REQUEST, "{bad}");
            assert!(
                page.headers.get("location").is_none(),
                "{bad}: never redirected"
            );
            assert!(
                page.body.contains("This sign-in link is not valid"),
                "{bad}"
            );
            let csp = page.headers["content-security-policy"].to_str().unwrap();
            assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        }
        let unknown = browser.get(&authorize("no-such-site", &[])).await;
        assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
        assert!(unknown.headers.get("location").is_none());
    }
);

both!(
    bad_requests_go_back_to_the_site_with_the_protocols_error,
    |app| async move {
        let (confidential, _) = register(&app, forum()).await;
        let mut public_site = forum();
        public_site["confidential"] = json!(false);
        let (public, secret) = register(&app, public_site).await;
        assert!(secret.is_none(), "a public site has no secret");
        let mut browser = Visitor::new(&app);
        for (client, extra, error) in [
            (
                &public,
                vec![("code_challenge", ""), ("code_challenge_method", "")],
                "invalid_request",
            ),
            (
                &public,
                vec![("code_challenge_method", "plain")],
                "invalid_request",
            ),
            (
                &confidential,
                vec![("code_challenge_method", "plain")],
                "invalid_request",
            ),
            (
                &confidential,
                vec![("response_type", "token")],
                "unsupported_response_type",
            ),
            (
                &confidential,
                vec![("scope", "profile email")],
                "invalid_scope",
            ),
            (&confidential, vec![("prompt", "none")], "login_required"),
        ] {
            let page = browser.get(&authorize(client, &extra)).await;
            assert_eq!(
                page.status,
                StatusCode::SEE_OTHER,
                "{extra:?}: {}",
                page.body
            );
            let params = callback_params(page.location());
            assert_eq!(params["error"], error, "{extra:?}");
            assert_eq!(params["state"], "s-123", "the state is echoed");
            assert_eq!(params["iss"], "https://members.example.org");
        }
        // PKCE is accepted, not required, for a confidential site.
        let page = browser
            .get(&authorize(
                &confidential,
                &[("code_challenge", ""), ("code_challenge_method", "")],
            ))
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert!(
            page.location().starts_with("/portal/sign-in?"),
            "{}",
            page.location()
        );
    }
);

both!(
    codes_are_single_use_bound_and_need_the_right_secret,
    |app| async move {
        let (_, _) = member(&app, false).await;
        let (client_id, secret) = register(&app, forum()).await;
        let secret = secret.unwrap();
        let mut browser = signed_in(&app).await;
        let code = a_code(&mut browser, &client_id).await;

        let (status, body) = exchange(&app, &code_form(&client_id, "wrong-secret", &code)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_client"))
        );
        let mut wrong_verifier = code_form(&client_id, &secret, &code);
        wrong_verifier[5] = (
            "code_verifier",
            "another-verifier-of-at-least-43-characters-000",
        );
        let (status, body) = exchange(&app, &wrong_verifier).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant"))
        );
        let mut no_verifier = code_form(&client_id, &secret, &code);
        no_verifier.pop();
        let (_, body) = exchange(&app, &no_verifier).await;
        assert_eq!(body["error"], "invalid_grant");
        let mut other_address = code_form(&client_id, &secret, &code);
        other_address[4] = ("redirect_uri", "https://forum.example.org/other");
        let (_, body) = exchange(&app, &other_address).await;
        assert_eq!(body["error"], "invalid_grant");

        let (status, issued) = exchange(&app, &code_form(&client_id, &secret, &code)).await;
        assert_eq!(status, StatusCode::OK, "{issued}");
        assert_eq!(issued["token_type"], "Bearer");
        let access = issued["access_token"].as_str().unwrap().to_owned();
        let userinfo = || async {
            app.client
                .get(app.url("/oidc/userinfo"))
                .bearer_auth(&access)
                .send()
                .await
                .unwrap()
                .status()
        };
        assert_eq!(userinfo().await, 200);
        // The code again: refused, and what it gave is revoked.
        let (_, body) = exchange(&app, &code_form(&client_id, &secret, &code)).await;
        assert_eq!(body["error"], "invalid_grant");
        assert_eq!(userinfo().await, 401);
        assert_eq!(app.audited("SITE_SIGN_IN_REFUSED").await, 1);
    }
);

async fn expired_code(backend: Backend) {
    let (app, clock) = spawn_app_with_clock(backend).await;
    let (_, _) = member(&app, false).await;
    let (client_id, secret) = register(&app, forum()).await;
    let secret = secret.unwrap();
    let mut browser = signed_in(&app).await;
    let code = a_code(&mut browser, &client_id).await;
    clock.advance(chrono::Duration::seconds(61));
    let (status, body) = exchange(&app, &code_form(&client_id, &secret, &code)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
}
per_backend!(an_expired_code_is_refused, super::expired_code);

both!(
    a_status_the_site_does_not_admit_is_told_so,
    |app| async move {
        let (_, _) = member(&app, false).await;
        let mut lapsed_only = forum();
        lapsed_only["allowedMemberStatuses"] = json!(["LAPSED"]);
        let (client_id, _) = register(&app, lapsed_only).await;
        let mut browser = signed_in(&app).await;
        let page = browser.get(&authorize(&client_id, &[])).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(
            page.body
                .contains("Your membership does not include Members&#39; Forum")
                || page
                    .body
                    .contains("Your membership does not include Members&#x27; Forum"),
            "{}",
            page.body
        );
        let back = page
            .body
            .split("class=\"button\" href=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .replace("&amp;", "&")
            .replace("&#38;", "&");
        let params = callback_params(&back);
        assert_eq!(params["error"], "access_denied");
        assert_eq!(params["state"], "s-123");
        assert_eq!(app.audited("SITE_SIGN_IN_REFUSED").await, 1);
        assert_eq!(app.audited("SITE_SIGN_IN").await, 0);
        // prompt=none gets the same refusal straight back.
        let page = browser
            .get(&authorize(&client_id, &[("prompt", "none")]))
            .await;
        assert_eq!(callback_params(page.location())["error"], "access_denied");
    }
);

both!(
    a_staff_set_password_is_changed_first_then_back_to_the_site,
    |app| async move {
        let (_, _) = member(&app, true).await;
        let (client_id, _) = register(&app, forum()).await;
        let mut browser = signed_in(&app).await;
        let request = authorize(&client_id, &[]);
        let page = browser.get(&request).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert!(
            page.location().starts_with("/portal/change-password?next="),
            "{}",
            page.location()
        );
        let form = browser.get(page.location()).await;
        let csrf = form.csrf();
        let changed = browser
            .post(
                "/portal/change-password",
                &[
                    ("csrf", &csrf),
                    ("next", &request),
                    ("current", PASSWORD),
                    ("new", "seven quiet gulls over the pier"),
                    ("confirm", "seven quiet gulls over the pier"),
                ],
            )
            .await;
        assert_eq!(changed.status, 200, "{}", changed.body);
        assert!(
            changed.body.contains("Continue to Members"),
            "{}",
            changed.body
        );
        let back = browser.get(&request).await;
        assert!(callback_params(back.location()).contains_key("code"));
    }
);

both!(prompt_login_asks_for_the_password_again, |app| async move {
    let (_, _) = member(&app, false).await;
    let (client_id, _) = register(&app, forum()).await;
    let mut browser = signed_in(&app).await;
    let page = browser
        .get(&authorize(
            &client_id,
            &[("prompt", "login"), ("login_hint", "mariaj")],
        ))
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let location = page.location().to_owned();
    assert!(location.contains("reauth=1"), "{location}");
    let form = browser.get(&location).await;
    assert_eq!(form.status, 200, "the form, although a session exists");
    assert!(
        form.body.contains("value=\"mariaj\""),
        "the login hint is filled in"
    );
});

const SITES: &str =
    "{ oidcClients { clientId name confidential redirectUris allowedMemberStatuses } }";

both!(
    connected_sites_need_their_right_over_http_and_websocket,
    |app| async move {
        let (client_id, _) = register(&app, forum()).await;
        let webmaster = app
            .staff_with("webmaster2", &[Right::ManageConnectedSites])
            .await;
        let clerk = app.staff_with("clerk", &[Right::ManageProfiles]).await;
        let resp = app.gql(Some(&webmaster), SITES, json!({})).await;
        assert_eq!(
            resp["data"]["oidcClients"][0]["clientId"],
            client_id.as_str(),
            "{resp}"
        );
        assert_eq!(
            code(&app.gql(Some(&clerk), SITES, json!({})).await),
            "FORBIDDEN"
        );
        assert_eq!(
            code(&app.gql(None, SITES, json!({})).await),
            "UNAUTHENTICATED"
        );
        let mut ws = WsClient::connect(&app, Some(&webmaster)).await;
        let resp = ws.run(SITES, json!({})).await.unwrap();
        assert_eq!(resp["data"]["oidcClients"][0]["name"], "Members' Forum");
        let mut ws = WsClient::connect(&app, Some(&clerk)).await;
        assert_eq!(code(&ws.run(SITES, json!({})).await.unwrap()), "FORBIDDEN");
        // Registering over the socket: refused without the right, done with it.
        let create = "mutation($i: CreateOidcClientInput!) { createOidcClient(input: $i) { client { name } clientSecret } }";
        let input = json!({ "i": { "name": "Courses", "redirectUris": ["https://courses.example.org/cb"] } });
        assert_eq!(
            code(&ws.run(create, input.clone()).await.unwrap()),
            "FORBIDDEN"
        );
        let mut ws = WsClient::connect(&app, Some(&webmaster)).await;
        let made = ws.run(create, input).await.unwrap();
        assert_eq!(
            made["data"]["createOidcClient"]["client"]["name"], "Courses",
            "{made}"
        );
        assert!(made["data"]["createOidcClient"]["clientSecret"].is_string());

        // Bad addresses are refused with the field named.
        let resp = app
        .gql(
            Some(&webmaster),
            "mutation($i: CreateOidcClientInput!) { createOidcClient(input: $i) { clientSecret } }",
            json!({ "i": { "name": "Old site", "redirectUris": ["http://old.example.org/cb"] } }),
        )
        .await;
        assert_eq!(code(&resp), "BAD_USER_INPUT");
        assert_eq!(resp["errors"][0]["extensions"]["field"], "redirectUris");

        // A new secret replaces the old one; update and delete.
        let rotate = "mutation($c: ID!) { rotateOidcClientSecret(clientId: $c) { clientSecret } }";
        let resp = app
            .gql(Some(&webmaster), rotate, json!({ "c": client_id }))
            .await;
        let secret = resp["data"]["rotateOidcClientSecret"]["clientSecret"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(secret.len(), 51);
        // Kept only as a digest.
        let stored: String = app
            .sql_value(
                &format!(
                    "SELECT secret_hash AS h FROM oidc_clients WHERE client_id = '{client_id}'"
                ),
                "h",
            )
            .await;
        assert!(!stored.contains(&secret) && !stored.is_empty(), "{stored}");
        let update = "mutation($c: ID!, $i: OidcClientInput!) { updateOidcClient(clientId: $c, input: $i) { client { name allowedMemberStatuses } } }";
        let resp = app
        .gql(
            Some(&webmaster),
            update,
            json!({ "c": client_id, "i": { "name": "Forum", "redirectUris": [CALLBACK], "allowedMemberStatuses": ["ACTIVE"] } }),
        )
        .await;
        assert_eq!(
            resp["data"]["updateOidcClient"]["client"]["allowedMemberStatuses"],
            json!(["ACTIVE"]),
            "{resp}"
        );
        let delete = "mutation($c: ID!) { deleteOidcClient(clientId: $c) { deletedClientId } }";
        assert_eq!(
            code(
                &app.gql(Some(&clerk), delete, json!({ "c": client_id }))
                    .await
            ),
            "FORBIDDEN"
        );
        let resp = app
            .gql(Some(&webmaster), delete, json!({ "c": client_id }))
            .await;
        assert_eq!(
            resp["data"]["deleteOidcClient"]["deletedClientId"],
            client_id.as_str()
        );
        assert_eq!(
            app.audited("CONNECTED_SITE_CREATED").await,
            2,
            "one over HTTP, one over the socket"
        );
        assert_eq!(app.audited("CONNECTED_SITE_SECRET_ROTATED").await, 1);
        assert_eq!(app.audited("CONNECTED_SITE_DELETED").await, 1);
    }
);

/// Posts the sign-in form on the way to a site.
async fn attempt(
    browser: &mut Visitor<'_>,
    csrf: &str,
    next: &str,
    password: &str,
) -> crate::member_pages::Page {
    browser
        .post(
            "/portal/sign-in",
            &[
                ("login", "mariaj"),
                ("password", password),
                ("csrf", csrf),
                ("next", next),
            ],
        )
        .await
}

/// The sign-in a site sends members to is the portal's own form, with its defences: the
/// lockout, the cross-site check, and no framing.
async fn site_sign_in_defences(backend: Backend) {
    let (app, _clock) = crate::helpers::spawn_app_with_clock_and(backend, |c| {
        c.lockout_threshold = 3;
        c.lockout_account_ceiling = 10;
        c.lockout_duration = chrono::Duration::minutes(15);
    })
    .await;
    member(&app, false).await;
    let (client_id, _) = register(&app, forum()).await;
    let request = authorize(&client_id, &[]);
    let mut browser = Visitor::new(&app);
    let to_form = browser.get(&request).await;
    let form = browser.get(to_form.location()).await;
    let frame = form.headers["content-security-policy"].to_str().unwrap();
    assert!(frame.contains("frame-ancestors 'none'"), "{frame}");
    assert_eq!(form.headers["x-frame-options"], "DENY");
    let csrf = form.csrf();
    // A form posted from another site with the right password signs nobody in.
    let forged = browser
        .post_from(
            "https://evil.example",
            "/portal/sign-in",
            &[
                ("login", "mariaj"),
                ("password", PASSWORD),
                ("csrf", &csrf),
                ("next", &request),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(browser.session().is_none());

    let answer = attempt(&mut browser, &csrf, &request, "a wrong guess, the first")
        .await
        .error();
    for _ in 0..2 {
        attempt(&mut browser, &csrf, &request, "another wrong guess here").await;
    }
    let locked = attempt(&mut browser, &csrf, &request, PASSWORD).await;
    assert_eq!(locked.error(), answer, "the same answer when locked");
    assert!(browser.session().is_none());
    let silent = browser
        .get(&authorize(&client_id, &[("prompt", "none")]))
        .await;
    assert_eq!(
        callback_params(silent.location())["error"],
        "login_required"
    );
    assert_eq!(app.audited("SITE_SIGN_IN").await, 0);
}
per_backend!(
    the_sites_sign_in_keeps_the_lockout_and_the_cross_site_check,
    super::site_sign_in_defences
);

/// RP-initiated logout trusts only what proves itself: a site's form post is answered as a
/// GET (its cross-site POST carries no Lax cookie), a hint and a `client_id` naming two
/// sites are refused, and an ID token from an earlier sign-in needs the member's own
/// confirmation.
async fn logout_checks(backend: Backend) {
    let (app, clock) = spawn_app_with_clock(backend).await;
    member(&app, false).await;
    let (client_id, secret) = register(&app, forum()).await;
    let secret = secret.unwrap();
    let mut browser = signed_in(&app).await;
    let code = a_code(&mut browser, &client_id).await;
    let (_, issued) = exchange(&app, &code_form(&client_id, &secret, &code)).await;
    let old_hint = issued["id_token"].as_str().unwrap().to_owned();

    // A site's own form post: the same request again as a GET, nothing ended yet.
    let mut site_form = Visitor::new(&app);
    let posted = site_form
        .post_from(
            "https://forum.example.org",
            "/oidc/logout",
            &[
                ("id_token_hint", old_hint.as_str()),
                ("post_logout_redirect_uri", AFTER_LOGOUT),
                ("state", "bye"),
            ],
        )
        .await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER);
    let again = posted.location().to_owned();
    assert!(again.starts_with("/oidc/logout?"), "{again}");
    let params: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(again.split_once('?').unwrap().1.as_bytes())
            .into_owned()
            .collect();
    assert_eq!(params["id_token_hint"], old_hint);
    assert_eq!(params["state"], "bye");

    // A hint for one site and a client_id of another: refused, still signed in.
    let path = |extra: &str| {
        format!(
            "/oidc/logout?id_token_hint={old_hint}&post_logout_redirect_uri={}{extra}",
            url::form_urlencoded::byte_serialize(AFTER_LOGOUT.as_bytes()).collect::<String>()
        )
    };
    let mixed = browser.get(&path("&client_id=another-site")).await;
    assert_eq!(mixed.status, StatusCode::BAD_REQUEST);
    assert!(browser.session().is_some());

    // Signed out and in again later: the old ID token no longer signs this session out
    // by itself; the member is asked.
    browser.post_from_account("/portal/sign-out").await;
    clock.advance(chrono::Duration::minutes(5));
    assert_eq!(
        browser.sign_in("mariaj", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let asked = browser.get(&path("")).await;
    assert_eq!(asked.status, StatusCode::OK);
    assert!(asked.body.contains("Sign out?"), "{}", asked.body);
    assert!(browser.session().is_some(), "not signed out without asking");

    // The ID token of this very sign-in does.
    let code = a_code(&mut browser, &client_id).await;
    let (_, issued) = exchange(&app, &code_form(&client_id, &secret, &code)).await;
    let fresh = issued["id_token"].as_str().unwrap();
    let out = browser
        .get(&format!(
            "/oidc/logout?id_token_hint={fresh}&post_logout_redirect_uri={}",
            url::form_urlencoded::byte_serialize(AFTER_LOGOUT.as_bytes()).collect::<String>()
        ))
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.body);
    assert_eq!(out.location(), AFTER_LOGOUT);
    assert!(browser.session().is_none());
}
per_backend!(
    logout_trusts_only_a_hint_from_this_sign_in,
    super::logout_checks
);
