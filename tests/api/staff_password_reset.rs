//! An administrator sends a staff user a set-password link (issue 15): the address comes
//! from the staff user's record, the link opens the staff console, using it sets the
//! password, ends every session and lifts a lock, and the second factor is still asked.
//! Links die when used, replaced, expired, readdressed or when the user is deactivated.
//! Rights are checked over HTTP and the WebSocket alike.

use chrono::Duration;
use memberkey::domain::Right;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, code, per_backend, spawn_app_with_clock_and};
use crate::resets::{NEW_PASSWORD, nth_mail};
use crate::second_factor::enrol;
use crate::ws::WsClient;

const OLD: &str = "correct horse battery staple";
const SEND: &str = "mutation($id: ID!) { sendStaffPasswordReset(staffUserId: $id) { sentTo } }";
const SET_EMAIL: &str = "mutation($id: ID!, $e: String) { setStaffUserEmail(staffUserId: $id, email: $e) { staffUser { email } } }";
const SET: &str = "mutation($t: String!, $p: String!) { setStaffPasswordWithToken(token: $t, newPassword: $p) { username } }";
const LOGIN: &str =
    "mutation($u: String!, $p: String!) { staffLogin(username: $u, password: $p) { token } }";

/// The token of the n-th message, which must be a staff set-password link.
async fn staff_token(app: &TestApp, n: usize, to: &str) -> String {
    let mail = nth_mail(app, n).await;
    assert_eq!(mail.to, to);
    let link = mail
        .text
        .split_whitespace()
        .find(|w| w.contains("/staff/#set-password="))
        .unwrap_or_else(|| panic!("no staff link in {}", mail.text))
        .to_owned();
    assert!(!link.contains("/portal/"), "{link}");
    assert!(mail.html.contains(&link), "the HTML part has the same link");
    link.split_once("#set-password=").unwrap().1.to_owned()
}

async fn sent_ok(app: &TestApp, admin: &str, id: &str) {
    let resp = app.gql(Some(admin), SEND, json!({ "id": id })).await;
    assert!(
        resp["data"]["sendStaffPasswordReset"]["sentTo"].is_string(),
        "{resp}"
    );
}

async fn set(app: &TestApp, token: &str, password: &str) -> Value {
    app.gql(None, SET, json!({ "t": token, "p": password }))
        .await
}

async fn login(app: &TestApp, password: &str) -> Value {
    app.gql(None, LOGIN, json!({ "u": "clerk", "p": password }))
        .await
}

async fn a_staff_user_sets_a_password_from_a_link(backend: Backend) {
    let (app, clock) = spawn_app_with_clock_and(backend, |c| c.lockout_threshold = 3).await;
    let admin = app.admin().await;
    let clerk = app.staff_with("clerk", &[Right::ManageProfiles]).await;
    let me = app
        .gql(Some(&clerk), "{ viewer { id email } }", json!({}))
        .await;
    assert!(me["data"]["viewer"]["email"].is_null(), "{me}");
    let id = me["data"]["viewer"]["id"].as_str().unwrap().to_owned();

    // Links and addresses change how an account is recovered: without step-up, refused.
    let fresh_session = app.gql(Some(&admin), SEND, json!({ "id": id })).await;
    assert_eq!(code(&fresh_session), "STEP_UP_REQUIRED", "{fresh_session}");
    app.step_up(&admin, None).await;
    // No address yet: a clear error that says what to do.
    let none = app.gql(Some(&admin), SEND, json!({ "id": id })).await;
    assert_eq!(code(&none), "NO_EMAIL_ADDRESS", "{none}");

    // Without MANAGE_STAFF neither the address nor the link, on either transport.
    let denied = app.gql(Some(&clerk), SEND, json!({ "id": id })).await;
    assert_eq!(code(&denied), "FORBIDDEN", "{denied}");
    let mut clerk_ws = WsClient::connect(&app, Some(&clerk)).await;
    for (query, vars) in [
        (SEND, json!({ "id": id })),
        (SET_EMAIL, json!({ "id": id, "e": "thief@example.org" })),
    ] {
        let resp = clerk_ws.run(query, vars).await.unwrap();
        assert_eq!(code(&resp), "FORBIDDEN", "{resp}");
    }
    let anonymous = app.gql(None, SEND, json!({ "id": id })).await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED", "{anonymous}");

    // The administrator records the address over the WebSocket; a bad one is refused.
    let mut admin_ws = WsClient::connect(&app, Some(&admin)).await;
    let bad = admin_ws
        .run(SET_EMAIL, json!({ "id": id, "e": "not an address" }))
        .await
        .unwrap();
    assert_eq!(code(&bad), "BAD_USER_INPUT", "{bad}");
    let saved = admin_ws
        .run(SET_EMAIL, json!({ "id": id, "e": " Clerk@Example.org " }))
        .await
        .unwrap();
    assert_eq!(
        saved["data"]["setStaffUserEmail"]["staffUser"]["email"], "Clerk@example.org",
        "{saved}"
    );

    // The clerk has a second factor and has locked themselves out from this client.
    let (_totp, _codes) = enrol(&app, &clock, &clerk).await;
    for _ in 0..3 {
        assert_eq!(code(&login(&app, "wrong guess").await), "INVALID_LOGIN");
    }

    // Sent over HTTP, to the recorded address.
    let sent = app.gql(Some(&admin), SEND, json!({ "id": id })).await;
    assert_eq!(
        sent["data"]["sendStaffPasswordReset"]["sentTo"], "Clerk@example.org",
        "{sent}"
    );
    let token = staff_token(&app, 1, "Clerk@example.org").await;
    // A member's page does not take it, and a weak password leaves it usable.
    let as_member = app
        .gql(
            None,
            "mutation($t: String!, $p: String!) { setPasswordWithToken(token: $t, password: $p) { login } }",
            json!({ "t": token, "p": NEW_PASSWORD }),
        )
        .await;
    assert_eq!(code(&as_member), "INVALID_TOKEN", "{as_member}");
    assert_eq!(code(&set(&app, &token, "short").await), "WEAK_PASSWORD");
    assert_eq!(
        code(&set(&app, &token, "clerk clerk clerk clerk").await),
        "WEAK_PASSWORD"
    );

    // Set anonymously over the WebSocket, as the console does.
    let mut anon_ws = WsClient::connect(&app, None).await;
    let done = anon_ws
        .run(SET, json!({ "t": token, "p": NEW_PASSWORD }))
        .await
        .unwrap();
    assert_eq!(
        done["data"]["setStaffPasswordWithToken"]["username"], "clerk",
        "{done}"
    );
    // Every session ended, the old password is gone, the lock is lifted, and the second
    // factor is still asked.
    let ended = app.gql(Some(&clerk), "{ viewer { id } }", json!({})).await;
    assert!(ended["data"]["viewer"].is_null(), "{ended}");
    assert_eq!(code(&login(&app, OLD).await), "INVALID_LOGIN");
    let fresh = login(&app, NEW_PASSWORD).await;
    assert_eq!(code(&fresh), "SECOND_FACTOR_REQUIRED", "{fresh}");
    // Used once.
    let again = set(&app, &token, "yet another sturdy passphrase").await;
    assert_eq!(code(&again), "INVALID_TOKEN", "{again}");
    assert_eq!(
        code(&set(&app, "not-a-token", NEW_PASSWORD).await),
        "INVALID_TOKEN"
    );

    // Only the newest link works, and a link expires.
    sent_ok(&app, &admin, &id).await;
    let older = staff_token(&app, 2, "Clerk@example.org").await;
    sent_ok(&app, &admin, &id).await;
    let newer = staff_token(&app, 3, "Clerk@example.org").await;
    assert_eq!(code(&set(&app, &older, OLD).await), "INVALID_TOKEN");
    clock.advance(app.app.services.config.mail.staff_link_ttl + Duration::seconds(1));
    assert_eq!(code(&set(&app, &newer, OLD).await), "TOKEN_EXPIRED");
    // A day later the administrator's session has run out too.
    let admin = app.login("admin", OLD).await;
    app.step_up(&admin, None).await;

    // A new address retires a link sent to the old one.
    sent_ok(&app, &admin, &id).await;
    let readdressed = staff_token(&app, 4, "Clerk@example.org").await;
    app.gql(
        Some(&admin),
        SET_EMAIL,
        json!({ "id": id, "e": "clerk@harbour.example" }),
    )
    .await;
    assert_eq!(code(&set(&app, &readdressed, OLD).await), "INVALID_TOKEN");

    // Deactivation kills the live link, and no new one is sent until reactivation.
    sent_ok(&app, &admin, &id).await;
    let live = staff_token(&app, 5, "clerk@harbour.example").await;
    let off = app
        .gql(
            Some(&admin),
            "mutation($id: ID!) { deactivateStaffUser(staffUserId: $id) { staffUser { active } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        off["data"]["deactivateStaffUser"]["staffUser"]["active"],
        false
    );
    assert_eq!(code(&set(&app, &live, OLD).await), "INVALID_TOKEN");
    let conflict = app.gql(Some(&admin), SEND, json!({ "id": id })).await;
    assert_eq!(code(&conflict), "CONFLICT", "{conflict}");

    // Removing the address (null) is allowed too.
    let cleared = app
        .gql(Some(&admin), SET_EMAIL, json!({ "id": id, "e": null }))
        .await;
    assert!(
        cleared["data"]["setStaffUserEmail"]["staffUser"]["email"].is_null(),
        "{cleared}"
    );

    assert_eq!(app.audited("STAFF_PASSWORD_LINK_SENT").await, 5);
    assert_eq!(app.audited("STAFF_PASSWORD_SET_WITH_LINK").await, 1);
    assert_eq!(app.audited("STAFF_EMAIL_CHANGED").await, 3);
    // Only hashes are stored.
    let stored = app
        .sql_value::<i64>(
            &format!(
                "SELECT COUNT(*) AS n FROM staff_password_tokens WHERE token_hash = '{token}'"
            ),
            "n",
        )
        .await;
    assert_eq!(stored, 0);
}

per_backend!(
    a_staff_user_sets_a_password_from_a_link,
    super::a_staff_user_sets_a_password_from_a_link
);

async fn created_with_an_address(backend: Backend) {
    let (app, _clock) = spawn_app_with_clock_and(backend, |_| {}).await;
    let admin = app.admin().await;
    app.step_up(&admin, None).await;
    let create = "mutation($e: String) { createStaffUser(input: { username: \"desk\", password: \"a long enough passphrase\", email: $e, rights: [] }) { staffUser { id email } } }";
    let bad = app.gql(Some(&admin), create, json!({ "e": "@nope" })).await;
    assert_eq!(code(&bad), "BAD_USER_INPUT", "{bad}");
    assert_eq!(bad["errors"][0]["extensions"]["field"], "input.email");
    let made = app
        .gql(Some(&admin), create, json!({ "e": "desk@harbour.example" }))
        .await;
    let user = &made["data"]["createStaffUser"]["staffUser"];
    assert_eq!(user["email"], "desk@harbour.example", "{made}");
    let sent = app
        .gql(Some(&admin), SEND, json!({ "id": user["id"] }))
        .await;
    assert_eq!(
        sent["data"]["sendStaffPasswordReset"]["sentTo"], "desk@harbour.example",
        "{sent}"
    );
    let token = staff_token(&app, 1, "desk@harbour.example").await;
    let done = set(&app, &token, NEW_PASSWORD).await;
    assert_eq!(
        done["data"]["setStaffPasswordWithToken"]["username"],
        "desk"
    );
    let resp = app
        .gql(None, LOGIN, json!({ "u": "desk", "p": NEW_PASSWORD }))
        .await;
    assert!(resp["data"]["staffLogin"]["token"].is_string(), "{resp}");
}

per_backend!(created_with_an_address, super::created_with_an_address);
