//! A staff user changes their own password (issue 15): the current one is checked like a
//! sign-in and counts toward the staff lockout, the new one follows the policy, the other
//! sessions end, and each step is audited. Over HTTP and the WebSocket alike.

use serde_json::json;

use crate::helpers::{Backend, code, per_backend, spawn_app_with};
use crate::ws::WsClient;

const OLD: &str = "correct horse battery staple";
const NEW: &str = "a different sturdy passphrase";
const CHANGE: &str = "mutation($c: String!, $n: String!) { changeStaffPassword(currentPassword: $c, newPassword: $n) { changedAt } }";
const VIEWER: &str = "{ viewer { username } }";

async fn a_staff_user_changes_their_password(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.lockout_threshold = 3).await;
    let here = app.staff_with("clerk", &[]).await;
    let elsewhere = app.login("clerk", OLD).await;

    // A session alone may not change the password, on either transport: step-up first.
    let unproven = app
        .gql(Some(&here), CHANGE, json!({ "c": OLD, "n": NEW }))
        .await;
    assert_eq!(code(&unproven), "STEP_UP_REQUIRED", "{unproven}");
    let mut unproven_ws = WsClient::connect(&app, Some(&here)).await;
    let resp = unproven_ws
        .run(CHANGE, json!({ "c": OLD, "n": NEW }))
        .await
        .unwrap();
    assert_eq!(code(&resp), "STEP_UP_REQUIRED", "{resp}");
    app.step_up(&here, None).await;

    // A wrong current password, a weak new one, and no session at all.
    let wrong = app
        .gql(
            Some(&here),
            CHANGE,
            json!({ "c": "not my password", "n": NEW }),
        )
        .await;
    assert_eq!(code(&wrong), "INVALID_LOGIN", "{wrong}");
    for weak in ["short", "clerk clerk clerk clerk"] {
        let resp = app
            .gql(Some(&here), CHANGE, json!({ "c": OLD, "n": weak }))
            .await;
        assert_eq!(code(&resp), "WEAK_PASSWORD", "{weak}: {resp}");
    }
    assert_eq!(
        code(&app.gql(None, CHANGE, json!({ "c": OLD, "n": NEW })).await),
        "UNAUTHENTICATED"
    );
    let mut anonymous = WsClient::connect(&app, None).await;
    assert_eq!(
        code(
            &anonymous
                .run(CHANGE, json!({ "c": OLD, "n": NEW }))
                .await
                .unwrap()
        ),
        "UNAUTHENTICATED"
    );
    // Nothing changed yet.
    app.login("clerk", OLD).await;

    // Over the WebSocket: this session lives on, the other one ends.
    let mut ws = WsClient::connect(&app, Some(&here)).await;
    let changed = ws.run(CHANGE, json!({ "c": OLD, "n": NEW })).await.unwrap();
    assert!(
        changed["data"]["changeStaffPassword"]["changedAt"].is_string(),
        "{changed}"
    );
    let still = app.gql(Some(&here), VIEWER, json!({})).await;
    assert_eq!(still["data"]["viewer"]["username"], "clerk", "{still}");
    let ended = app.gql(Some(&elsewhere), VIEWER, json!({})).await;
    assert!(ended["data"]["viewer"].is_null(), "{ended}");
    let old = app
        .gql(
            None,
            "mutation($p: String!) { staffLogin(username: \"clerk\", password: $p) { token } }",
            json!({ "p": OLD }),
        )
        .await;
    assert_eq!(code(&old), "INVALID_LOGIN");
    app.login("clerk", NEW).await;

    // Guessing the current password locks it like guessing at sign-in: after the threshold
    // even the right one is refused from this client.
    for _ in 0..3 {
        let resp = app
            .gql(Some(&here), CHANGE, json!({ "c": "guess", "n": OLD }))
            .await;
        assert_eq!(code(&resp), "INVALID_LOGIN");
    }
    let locked = app
        .gql(Some(&here), CHANGE, json!({ "c": NEW, "n": OLD }))
        .await;
    assert_eq!(code(&locked), "INVALID_LOGIN", "{locked}");

    assert_eq!(app.audited("STAFF_PASSWORD_CHANGED").await, 1);
    // One before the change, three guesses after it, and the attempt refused while locked.
    assert_eq!(app.audited("STAFF_PASSWORD_CHANGE_FAILED").await, 5);
}

per_backend!(
    a_staff_user_changes_their_password,
    super::a_staff_user_changes_their_password
);
