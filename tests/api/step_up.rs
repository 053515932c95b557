//! Step-up and second-factor limits (issue 29, SECURITY-TESTS U1–U3): a staff session token
//! alone can change nothing about how an account is proven or recovered; guessing codes is
//! capped per account across clients; a sign-in challenge works once.

use chrono::Duration;
use memberkey::domain::Right;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, STAFF_PASSWORD, TestApp, code, per_backend, spawn_app_with_clock_and,
};
use crate::second_factor::{LOGIN, VERIFY, challenge, code_at, enrol, verify};
use crate::ws::WsClient;

const CONFIRM_IDENTITY: &str = "mutation($p: String!, $c: String) { confirmStaffIdentity(password: $p, code: $c) { freshUntil } }";

async fn viewer_id(app: &TestApp, token: &str) -> Value {
    app.gql(Some(token), "{ viewer { id } }", json!({})).await["data"]["viewer"]["id"].clone()
}

/// Every action that changes how an account is proven or recovered, as (name, query,
/// variables) for the signed-in user `me` and another user `other`.
fn guarded(me: &Value, other: &Value) -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "enrollStaffSecondFactor",
            "mutation { enrollStaffSecondFactor { enrollment { secret } } }",
            json!({}),
        ),
        (
            "regenerateStaffRecoveryCodes",
            "mutation { regenerateStaffRecoveryCodes { recoveryCodes } }",
            json!({}),
        ),
        (
            "changeStaffPassword",
            "mutation($c: String!) { changeStaffPassword(currentPassword: $c, newPassword: \"a thief's new passphrase\") { changedAt } }",
            json!({ "c": STAFF_PASSWORD }),
        ),
        (
            "setStaffUserEmail (own)",
            "mutation($id: ID!) { setStaffUserEmail(staffUserId: $id, email: \"thief@evil.example\") { staffUser { email } } }",
            json!({ "id": me }),
        ),
        (
            "setStaffUserEmail (another's)",
            "mutation($id: ID!) { setStaffUserEmail(staffUserId: $id, email: \"thief@evil.example\") { staffUser { email } } }",
            json!({ "id": other }),
        ),
        (
            "sendStaffPasswordReset (to oneself)",
            "mutation($id: ID!) { sendStaffPasswordReset(staffUserId: $id) { sentTo } }",
            json!({ "id": me }),
        ),
        (
            "resetStaffSecondFactor (another's)",
            "mutation($id: ID!) { resetStaffSecondFactor(staffUserId: $id) { staffUser { id } } }",
            json!({ "id": other }),
        ),
    ]
}

/// Signs `username` in with password and the app's code; returns the session token.
async fn sign_in_with_code(
    app: &TestApp,
    clock: &memberkey::domain::ManualClock,
    totp: &totp_rs::TOTP,
    username: &str,
) -> String {
    clock.advance(Duration::seconds(30));
    let c = challenge(app, username).await;
    let resp = verify(app, &c, &code_at(totp, clock)).await;
    resp["data"]["staffVerifySecondFactor"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{resp}"))
        .to_owned()
}

async fn a_stolen_session_changes_nothing(backend: Backend) {
    let (app, clock) = spawn_app_with_clock_and(backend, |_| {}).await;
    let first = app.admin().await;
    let (totp, _codes) = enrol(&app, &clock, &first).await;
    app.staff_with("clerk", &[Right::ManageProfiles]).await;
    // The administrator's email is recorded (with step-up), so a link could be sent.
    let me = viewer_id(&app, &first).await;
    let other = json!(app.staff_id(&first, "clerk").await);
    let resp = app
        .gql(
            Some(&first),
            "mutation($id: ID!) { setStaffUserEmail(staffUserId: $id, email: \"admin@harbour.example\") { staffUser { email } } }",
            json!({ "id": me }),
        )
        .await;
    assert!(resp["errors"].is_null(), "{resp}");

    // A new session (password and code at sign-in): its token alone is refused for every
    // guarded action, over HTTP and over the WebSocket, and nothing changes.
    let stolen = sign_in_with_code(&app, &clock, &totp, "admin").await;
    let mut ws = WsClient::connect(&app, Some(&stolen)).await;
    for (name, query, vars) in guarded(&me, &other) {
        let resp = app.gql(Some(&stolen), query, vars.clone()).await;
        assert_eq!(code(&resp), "STEP_UP_REQUIRED", "{name} over HTTP: {resp}");
        let resp = ws.run(query, vars).await.unwrap();
        assert_eq!(
            code(&resp),
            "STEP_UP_REQUIRED",
            "{name} over the WebSocket: {resp}"
        );
    }
    let email = app
        .gql(
            Some(&stolen),
            "{ viewer { email secondFactorEnabled } }",
            json!({}),
        )
        .await;
    assert_eq!(email["data"]["viewer"]["email"], "admin@harbour.example");
    assert_eq!(email["data"]["viewer"]["secondFactorEnabled"], true);
    assert_eq!(app.mail.sent().len(), 0, "no link was sent");

    // The proof needs the password and, with a second factor, the code.
    let no_code = app
        .gql(
            Some(&stolen),
            CONFIRM_IDENTITY,
            json!({ "p": STAFF_PASSWORD }),
        )
        .await;
    assert_eq!(code(&no_code), "BAD_USER_INPUT", "{no_code}");
    assert_eq!(no_code["errors"][0]["extensions"]["field"], "code");
    let wrong_password = app
        .gql(
            Some(&stolen),
            CONFIRM_IDENTITY,
            json!({ "p": "not the password", "c": code_at(&totp, &clock) }),
        )
        .await;
    assert_eq!(code(&wrong_password), "INVALID_LOGIN", "{wrong_password}");
    let wrong_code = app
        .gql(
            Some(&stolen),
            CONFIRM_IDENTITY,
            json!({ "p": STAFF_PASSWORD, "c": "000000" }),
        )
        .await;
    assert_eq!(code(&wrong_code), "INVALID_LOGIN", "{wrong_code}");

    // With the proof (here over the WebSocket), the same session may for a few minutes.
    clock.advance(Duration::seconds(30));
    let proof = ws
        .run(
            CONFIRM_IDENTITY,
            json!({ "p": STAFF_PASSWORD, "c": code_at(&totp, &clock) }),
        )
        .await
        .unwrap();
    assert!(
        proof["data"]["confirmStaffIdentity"]["freshUntil"].is_string(),
        "{proof}"
    );
    let regenerated = app
        .gql(
            Some(&stolen),
            "mutation { regenerateStaffRecoveryCodes { recoveryCodes } }",
            json!({}),
        )
        .await;
    assert!(regenerated["errors"].is_null(), "{regenerated}");
    let readdressed = ws
        .run(
            "mutation($id: ID!) { setStaffUserEmail(staffUserId: $id, email: \"desk@harbour.example\") { staffUser { email } } }",
            json!({ "id": other }),
        )
        .await
        .unwrap();
    assert!(readdressed["errors"].is_null(), "{readdressed}");
    // Another session of the same user is not stepped up by it.
    let second = sign_in_with_code(&app, &clock, &totp, "admin").await;
    let resp = app
        .gql(
            Some(&second),
            "mutation { regenerateStaffRecoveryCodes { recoveryCodes } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&resp), "STEP_UP_REQUIRED", "{resp}");

    // Nobody removes their own second factor through the API, even stepped up.
    let own = app
        .gql(
            Some(&stolen),
            "mutation($id: ID!) { resetStaffSecondFactor(staffUserId: $id) { staffUser { id } } }",
            json!({ "id": me }),
        )
        .await;
    assert_eq!(code(&own), "CONFLICT", "{own}");

    // A few minutes later the proof has run out.
    clock.advance(Duration::minutes(5));
    let late = app
        .gql(
            Some(&stolen),
            "mutation { regenerateStaffRecoveryCodes { recoveryCodes } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&late), "STEP_UP_REQUIRED", "{late}");

    // The enrolment's step-up and this one.
    assert_eq!(app.audited("STAFF_STEP_UP").await, 2);
    assert_eq!(app.audited("STAFF_STEP_UP_FAILED").await, 2);
}
per_backend!(
    a_stolen_staff_session_cannot_take_over_the_account,
    super::a_stolen_session_changes_nothing
);

async fn challenge_from(app: &TestApp, ip: &str) -> String {
    let resp = app
        .gql_from(ip, LOGIN, json!({ "u": "clerk", "p": STAFF_PASSWORD }))
        .await;
    assert_eq!(code(&resp), "SECOND_FACTOR_REQUIRED", "{resp}");
    resp["errors"][0]["extensions"]["challenge"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn codes_are_capped_per_account(backend: Backend) {
    let (app, clock) = spawn_app_with_clock_and(backend, |c| {
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        c.lockout_threshold = 10;
        c.lockout_duration = Duration::minutes(15);
    })
    .await;
    let clerk = app.staff_with("clerk", &[Right::ManageProfiles]).await;
    let (totp, _) = enrol(&app, &clock, &clerk).await;
    clock.advance(Duration::seconds(30));

    // 120 wrong codes from 12 clients, 10 each: never more than 10 are looked at for the
    // account, whichever client sends them.
    for n in 1..=12 {
        let ip = format!("203.0.113.{n}");
        let c = challenge_from(&app, &ip).await;
        for _ in 0..10 {
            let resp = app
                .gql_from(&ip, VERIFY, json!({ "c": c, "k": "000000" }))
                .await;
            assert_eq!(code(&resp), "INVALID_LOGIN", "{resp}");
        }
    }
    // A 13th client with the password and the right code is refused until the lock ends,
    // over HTTP and the WebSocket.
    let c = challenge_from(&app, "198.51.100.7").await;
    let right = code_at(&totp, &clock);
    let resp = app
        .gql_from("198.51.100.7", VERIFY, json!({ "c": c, "k": right }))
        .await;
    assert_eq!(code(&resp), "INVALID_LOGIN", "{resp}");
    let mut ws = WsClient::connect(&app, None).await;
    let resp = ws.run(VERIFY, json!({ "c": c, "k": right })).await.unwrap();
    assert_eq!(code(&resp), "INVALID_LOGIN", "{resp}");
    let looked_at: i64 = app
        .sql_value(
            "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'STAFF_SECOND_FACTOR_FAILED' AND detail LIKE '%\"locked\":false%'",
            "n",
        )
        .await;
    assert_eq!(
        looked_at, 10,
        "only the account's budget of codes was checked"
    );

    clock.advance(Duration::minutes(15));
    let c = challenge_from(&app, "198.51.100.7").await;
    let right = code_at(&totp, &clock);
    let ok = app
        .gql_from("198.51.100.7", VERIFY, json!({ "c": c, "k": right }))
        .await;
    assert!(
        ok["data"]["staffVerifySecondFactor"]["token"].is_string(),
        "{ok}"
    );
    // The challenge died at its first use: even the next right code does not reuse it.
    clock.advance(Duration::seconds(30));
    let again = app
        .gql_from(
            "198.51.100.7",
            VERIFY,
            json!({ "c": c, "k": code_at(&totp, &clock) }),
        )
        .await;
    assert_eq!(code(&again), "INVALID_TOKEN", "{again}");
}
per_backend!(
    second_factor_guesses_from_many_clients_are_capped_per_account,
    super::codes_are_capped_per_account
);
