//! What a site holds lives only as long as the member's standing: a changed password, sign
//! out everywhere or a status that may not sign in ends it at once. Signing
//! keys rotate with a grace period, and housekeeping deletes spent codes and tokens.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use memberkey::domain::MemberStatus;

use crate::helpers::{Backend, TestApp, both, per_backend, spawn_app_with, spawn_app_with_clock};
use crate::member_pages::{PASSWORD, Visitor, member};
use crate::oidc::{callback_params, forum, register};
use crate::oidc_refusals::{a_code, authorize, code_form, exchange, signed_in};

const NEW_PASSWORD: &str = "seven quiet gulls over the pier";

/// Signs the visitor in to the site; the token endpoint's answer.
pub(crate) async fn site_tokens(
    app: &TestApp,
    browser: &mut Visitor<'_>,
    client: &(String, String),
) -> Value {
    let code = a_code(browser, &client.0).await;
    let (status, tokens) = exchange(app, &code_form(&client.0, &client.1, &code)).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    tokens
}

/// The status userinfo answers for the access token of a token response.
pub(crate) async fn userinfo(app: &TestApp, tokens: &Value) -> StatusCode {
    userinfo_answer(app, tokens["access_token"].as_str().unwrap())
        .await
        .0
}

/// What userinfo answers for an access token: its status, and its claims when it is 200.
pub(crate) async fn userinfo_answer(app: &TestApp, access_token: &str) -> (StatusCode, Value) {
    let resp = app
        .client
        .get(app.url("/oidc/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body = if status == StatusCode::OK {
        resp.json().await.unwrap()
    } else {
        Value::Null
    };
    (status, body)
}

async fn refresh(app: &TestApp, client: &(String, String), tokens: &Value) -> Value {
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", client.0.as_str()),
        ("client_secret", client.1.as_str()),
        ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
    ];
    exchange(app, &form).await.1
}

/// The token is dead, and so is the refresh token that came with it.
pub(crate) async fn ended(app: &TestApp, client: &(String, String), tokens: &Value, after: &str) {
    assert_eq!(
        userinfo(app, tokens).await,
        StatusCode::UNAUTHORIZED,
        "{after}"
    );
    assert_eq!(
        refresh(app, client, tokens).await["error"],
        "invalid_grant",
        "{after}"
    );
}

async fn ends_with_standing(backend: Backend) {
    // Only active members may sign in here, as many associations set it.
    let app = spawn_app_with(backend, |c| {
        c.sign_in_statuses = Some(vec![MemberStatus::Active])
    })
    .await;
    let (admin, id) = member(&app, false).await;
    let (client_id, secret) = register(&app, forum()).await;
    let client = (client_id, secret.unwrap());

    // The member changes her password on the account page.
    let mut browser = signed_in(&app).await;
    let tokens = site_tokens(&app, &mut browser, &client).await;
    assert_eq!(userinfo(&app, &tokens).await, StatusCode::OK);
    let form = browser.get("/portal/change-password").await;
    let csrf = form.csrf();
    let changed = browser
        .post(
            "/portal/change-password",
            &[
                ("csrf", &csrf),
                ("next", ""),
                ("current", PASSWORD),
                ("new", NEW_PASSWORD),
                ("confirm", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    ended(&app, &client, &tokens, "a changed password").await;

    // "Sign out everywhere".
    let tokens = site_tokens(&app, &mut browser, &client).await;
    let out = browser
        .post_from_account("/portal/sign-out-everywhere")
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    ended(&app, &client, &tokens, "sign out everywhere").await;

    // Staff move her to a status that may not sign in.
    let mut browser = Visitor::new(&app);
    assert_eq!(
        browser.sign_in("mariaj", NEW_PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let tokens = site_tokens(&app, &mut browser, &client).await;
    let update = "mutation($id: ID!, $i: UpdateProfileInput!) { updateProfile(id: $id, input: $i) { profile { memberStatus } } }";
    let resp = app
        .gql(
            Some(&admin),
            update,
            json!({ "id": id, "i": { "memberStatus": "NON_MEMBER" } }),
        )
        .await;
    assert!(resp["errors"].is_null(), "{resp}");
    ended(&app, &client, &tokens, "a status that may not sign in").await;
}
per_backend!(
    what_a_site_holds_ends_with_the_members_standing,
    super::ends_with_standing
);

async fn keys_rotate(backend: Backend) {
    let (app, clock) = spawn_app_with_clock(backend).await;
    member(&app, false).await;
    let (client_id, secret) = register(&app, forum()).await;
    let client = (client_id, secret.unwrap());
    let jwks = || async {
        let v: Value = app
            .client
            .get(app.url("/oidc/jwks"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                assert_eq!(k["alg"], "RS256");
                assert!(k.get("d").is_none(), "never the private part");
                k["kid"].as_str().unwrap().to_owned()
            })
            .collect::<Vec<_>>()
    };
    let kid_of = |tokens: &Value| {
        jsonwebtoken::decode_header(tokens["id_token"].as_str().unwrap())
            .unwrap()
            .kid
            .unwrap()
    };
    let mut browser = signed_in(&app).await;
    let first = site_tokens(&app, &mut browser, &client).await;
    let old = kid_of(&first);
    assert_eq!(jwks().await, vec![old.clone()]);

    let rotated = memberkey::services::oidc::keys::rotate(&app.app.services)
        .await
        .unwrap();
    // Published at once, beside the old key, which still signs during the grace period.
    let listed = jwks().await;
    assert_eq!(listed.len(), 2);
    assert!(listed.contains(&old) && listed.contains(&rotated.kid));
    let during = site_tokens(&app, &mut browser, &client).await;
    assert_eq!(kid_of(&during), old);

    clock.advance(memberkey::services::oidc::keys::GRACE + Duration::minutes(1));
    let mut browser = Visitor::new(&app);
    assert_eq!(
        browser.sign_in("mariaj", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let after = site_tokens(&app, &mut browser, &client).await;
    assert_eq!(
        kid_of(&after),
        rotated.kid,
        "the new key signs after the grace period"
    );
    assert_eq!(app.audited("SIGNING_KEY_ROTATED").await, 1);
}
per_backend!(signing_keys_rotate_after_a_grace_period, super::keys_rotate);

async fn spent_grants_are_swept(backend: Backend) {
    let (app, clock) = spawn_app_with_clock(backend).await;
    member(&app, false).await;
    let (client_id, secret) = register(&app, forum()).await;
    let client = (client_id, secret.unwrap());
    let mut browser = signed_in(&app).await;
    site_tokens(&app, &mut browser, &client).await;
    // An unused code too.
    a_code(&mut browser, &client.0).await;
    let count = |table: &'static str| {
        let app = &app;
        async move {
            app.sql_value::<i64>(&format!("SELECT COUNT(*) AS n FROM {table}"), "n")
                .await
        }
    };
    assert_eq!(count("oidc_tokens").await, 2);
    assert_eq!(count("oidc_grants").await, 1);
    assert_eq!(
        app.app.sweep().await.unwrap().site_grants,
        0,
        "nothing spent yet"
    );

    clock.advance(Duration::days(31));
    let swept = app.app.sweep().await.unwrap();
    assert!(swept.site_grants >= 4, "{swept:?}");
    assert_eq!(count("oidc_tokens").await, 0);
    assert_eq!(count("oidc_grants").await, 0);
    assert_eq!(count("oidc_codes").await, 0);
}
per_backend!(
    housekeeping_sweeps_spent_site_grants,
    super::spent_grants_are_swept
);

/// The claims of an ID token, read as any site reads them once its signature is checked
/// (the signature is checked in `oidc::a_site_signs_a_member_in_with_a_standard_client`).
fn id_claims(tokens: &Value) -> Value {
    use base64::Engine;
    let payload = tokens["id_token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Signs the visitor in to the site with the `email` scope; the ID token's claims.
async fn email_claims(
    app: &TestApp,
    browser: &mut Visitor<'_>,
    client: &(String, String),
) -> Value {
    let back = browser
        .get(&authorize(&client.0, &[("scope", "openid email")]))
        .await;
    let code = callback_params(back.location())["code"].clone();
    let (status, tokens) = exchange(app, &code_form(&client.0, &client.1, &code)).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    id_claims(&tokens)
}

both!(
    an_address_is_verified_only_by_a_link_mailed_to_it,
    |app| async move {
        use crate::resets::{issue_link, links, send_reset, set_with_token, token_of};
        let (admin, id) = member(&app, false).await;
        let (client_id, secret) = register(&app, forum()).await;
        let client = (client_id, secret.unwrap());

        // A link staff passed on by hand proves nothing about the address.
        let token = issue_link(&app, &admin, &id).await;
        assert!(set_with_token(&app, &token, NEW_PASSWORD).await["errors"].is_null());
        let mut browser = Visitor::new(&app);
        assert_eq!(
            browser.sign_in("mariaj", NEW_PASSWORD).await.status,
            StatusCode::SEE_OTHER
        );
        let claims = email_claims(&app, &mut browser, &client).await;
        assert_eq!(claims["email_verified"], false, "{claims}");

        // The Forgot Login mail's link, used, does.
        assert!(send_reset(&app, &admin, &id).await["errors"].is_null());
        // Other mail (the notice of a changed password) may come first.
        let link = crate::helpers::eventually(std::time::Duration::from_secs(20), || async {
            app.mail
                .wait_for(1, std::time::Duration::from_secs(1))
                .await
                .iter()
                .find_map(|m| links(m).into_iter().next())
        })
        .await
        .expect("the Forgot Login mail");
        let token = token_of(&link);
        assert!(
            set_with_token(&app, &token, "a third password, long enough").await["errors"].is_null()
        );
        let mut browser = Visitor::new(&app);
        let signed = browser
            .sign_in("mariaj", "a third password, long enough")
            .await;
        assert_eq!(signed.status, StatusCode::SEE_OTHER);
        let claims = email_claims(&app, &mut browser, &client).await;
        assert_eq!(claims["email_verified"], true, "{claims}");
        assert_eq!(claims["email"], "maria@harbour.example");
    }
);
