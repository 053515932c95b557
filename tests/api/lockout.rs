//! Member lockout that cannot be turned against the member (issue 29, SECURITY-TESTS R1, R2,
//! R7): failures count per client with a ceiling per account, a lock's end is a clean slate,
//! an address several profiles share is its own account, and a mailed link always gets the
//! member in. Clients are told apart by `X-Forwarded-For` from a trusted proxy.

use chrono::Duration;
use serde_json::{Value, json};

use crate::credentials::SET;
use crate::helpers::{Backend, TestApp, code, per_backend, person, spawn_app_with_clock_and};
use crate::member_login::LOGIN;
use crate::resets::{issue_link, set_with_token};
use crate::ws::WsClient;

const PW: &str = "violet tram under the bridge";
const OWNER: &str = "198.51.100.7";

/// `memberLogin` from client `ip`.
async fn login_from(app: &TestApp, ip: &str, login: &str, password: &str) -> Value {
    app.gql_from(ip, LOGIN, json!({ "l": login, "p": password }))
        .await
}

async fn signs_in(app: &TestApp, ip: &str, login: &str, password: &str) -> bool {
    let resp = login_from(app, ip, login, password).await;
    if resp["data"]["memberLogin"]["token"].is_string() {
        return true;
    }
    assert_eq!(
        code(&resp),
        "INVALID_LOGIN",
        "one answer for every refusal: {resp}"
    );
    false
}

/// `n` wrong passwords from client `ip`.
async fn guess(app: &TestApp, ip: &str, login: &str, n: usize) {
    for i in 0..n {
        let resp = login_from(app, ip, login, &format!("a wrong guess number {i}")).await;
        assert_eq!(code(&resp), "INVALID_LOGIN", "{resp}");
    }
}

async fn spawn(backend: Backend) -> (TestApp, memberkey::domain::ManualClock, String, String) {
    let (app, clock) = spawn_app_with_clock_and(backend, |c| {
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        c.lockout_threshold = 5;
        c.lockout_account_ceiling = 20;
        c.lockout_duration = Duration::minutes(15);
    })
    .await;
    let admin = app.admin().await;
    let id = app
        .create_profile(&admin, person("Ann", "Lee", Some("ann@example.org")))
        .await;
    let resp = app
        .gql(
            Some(&admin),
            SET,
            json!({ "i": { "profileId": id, "username": "annlee", "password": PW, "mustChangePassword": false } }),
        )
        .await;
    assert!(resp["errors"].is_null(), "{resp}");
    (app, clock, admin, id)
}

async fn lock_state(app: &TestApp, admin: &str, id: &str) -> Value {
    let resp = app
        .gql(
            Some(admin),
            "query($id: ID!) { profile(id: $id) { portalCredential { failedLoginCount lockedUntil } } }",
            json!({ "id": id }),
        )
        .await;
    resp["data"]["profile"]["portalCredential"].clone()
}

async fn a_guesser_locks_only_their_own_client(backend: Backend) {
    let (app, clock, admin, id) = spawn(backend).await;
    // The owner has signed in from their usual client before.
    assert!(signs_in(&app, OWNER, "annlee", PW).await);

    // Someone who knows the login guesses from one client: that client is locked out of the
    // account, even with the right password, by username or by email...
    guess(&app, "203.0.113.1", "annlee", 5).await;
    assert!(!signs_in(&app, "203.0.113.1", "annlee", PW).await);
    assert!(!signs_in(&app, "203.0.113.1", "ANN@example.org", PW).await);
    // ...and the member is not: from their own client, and from a new one.
    assert!(signs_in(&app, OWNER, "annlee", PW).await);
    assert!(signs_in(&app, "198.51.100.8", "annlee", PW).await);

    // Guessing spread over many clients reaches the account's ceiling (4 × 5 = 20): new
    // clients are refused until the lock ends, but the owner's known client still gets in.
    for n in 2..6 {
        guess(&app, &format!("203.0.113.{n}"), "annlee", 5).await;
    }
    let state = lock_state(&app, &admin, &id).await;
    assert_eq!(state["failedLoginCount"], 20, "{state}");
    assert!(state["lockedUntil"].is_string(), "{state}");
    assert!(
        !signs_in(&app, "192.0.2.50", "annlee", PW).await,
        "a new client waits"
    );
    assert!(
        signs_in(&app, OWNER, "annlee", PW).await,
        "the owner is never shut out"
    );

    // Again to the ceiling; this time the lock runs out, and its end is a clean slate.
    for n in 6..10 {
        guess(&app, &format!("203.0.113.{n}"), "annlee", 5).await;
    }
    assert!(!signs_in(&app, "192.0.2.50", "annlee", PW).await);
    clock.advance(Duration::minutes(15) - Duration::seconds(1));
    assert!(
        !signs_in(&app, "192.0.2.50", "annlee", PW).await,
        "a second before the end"
    );
    clock.advance(Duration::seconds(1));
    guess(&app, "192.0.2.51", "annlee", 1).await;
    let state = lock_state(&app, &admin, &id).await;
    assert_eq!(
        state["failedLoginCount"], 1,
        "counting started over: {state}"
    );
    assert!(state["lockedUntil"].is_null(), "{state}");
    assert!(signs_in(&app, "192.0.2.50", "annlee", PW).await);

    // Every lock start is audited with its scope.
    let locks: i64 = app
        .sql_value(
            "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'ACCOUNT_LOCKED'",
            "n",
        )
        .await;
    assert_eq!(
        locks,
        1 + 4 + 1 + 4 + 1,
        "nine client locks and two ceilings"
    );
}
per_backend!(
    someone_who_knows_a_login_cannot_lock_the_member_out,
    super::a_guesser_locks_only_their_own_client
);

async fn a_lock_ends_cleanly(backend: Backend) {
    let (app, clock, _admin, _id) = spawn(backend).await;
    guess(&app, "203.0.113.1", "annlee", 5).await;
    clock.advance(Duration::minutes(15) - Duration::seconds(1));
    assert!(
        !signs_in(&app, "203.0.113.1", "annlee", PW).await,
        "still locked"
    );
    clock.advance(Duration::seconds(1));
    // One failure after the lock ended does not lock again: the count started over.
    guess(&app, "203.0.113.1", "annlee", 1).await;
    assert!(signs_in(&app, "203.0.113.1", "annlee", PW).await);
    // Attempts while locked do not extend the lock.
    guess(&app, "203.0.113.1", "annlee", 5).await;
    clock.advance(Duration::minutes(10));
    guess(&app, "203.0.113.1", "annlee", 3).await;
    clock.advance(Duration::minutes(5));
    assert!(signs_in(&app, "203.0.113.1", "annlee", PW).await);
}
per_backend!(
    one_guess_per_lock_period_cannot_keep_a_member_out,
    super::a_lock_ends_cleanly
);

async fn a_shared_address_is_its_own_account(backend: Backend) {
    let (app, _clock, admin, id) = spawn(backend).await;
    let other = app
        .create_profile(&admin, person("Bo", "Lee", Some("ann@example.org")))
        .await;
    let resp = app
        .gql(
            Some(&admin),
            SET,
            json!({ "i": { "profileId": other, "username": "bolee", "password": "another long passphrase", "mustChangePassword": false } }),
        )
        .await;
    assert!(resp["errors"].is_null(), "{resp}");
    // Guessing at the address the two share locks that client out of the address only.
    guess(&app, "203.0.113.1", "ann@example.org", 5).await;
    assert!(!signs_in(&app, "203.0.113.1", "ann@example.org", PW).await);
    assert!(signs_in(&app, "203.0.113.1", "annlee", PW).await);
    assert!(signs_in(&app, "203.0.113.1", "bolee", "another long passphrase").await);
    // A link lifts the address's lock too: the member may know only their email.
    let token = issue_link(&app, &admin, &id).await;
    let fresh = "a brand new passphrase to use";
    let set = set_with_token(&app, &token, fresh).await;
    assert!(
        set["data"]["setPasswordWithToken"]["login"].is_string(),
        "{set}"
    );
    assert!(signs_in(&app, "203.0.113.1", "ann@example.org", fresh).await);
}
per_backend!(
    two_profiles_sharing_an_address_are_not_locked_together,
    super::a_shared_address_is_its_own_account
);

async fn a_link_always_gets_the_member_in(backend: Backend) {
    let (app, _clock, admin, id) = spawn(backend).await;
    // Locked from this client, and the account over its ceiling for every new client.
    for n in 1..5 {
        guess(&app, &format!("203.0.113.{n}"), "annlee", 5).await;
    }
    guess(&app, OWNER, "annlee", 5).await;
    assert!(!signs_in(&app, OWNER, "annlee", PW).await);
    // A mailed (or staff-issued) link sets a new password and lifts every lock at once.
    let token = issue_link(&app, &admin, &id).await;
    let fresh = "a brand new passphrase to use";
    let set = set_with_token(&app, &token, fresh).await;
    assert!(
        set["data"]["setPasswordWithToken"]["login"].is_string(),
        "{set}"
    );
    assert!(signs_in(&app, OWNER, "annlee", fresh).await);
    assert!(signs_in(&app, "192.0.2.99", "annlee", fresh).await);
}
per_backend!(
    a_mailed_link_always_gets_a_locked_member_in,
    super::a_link_always_gets_the_member_in
);

async fn the_websocket_sees_the_same_lock(backend: Backend) {
    let (app, _clock, _admin, _id) = spawn(backend).await;
    // The WebSocket's client is 127.0.0.1 (no forwarded header): lock that client over HTTP.
    for _ in 0..5 {
        let resp = app
            .gql(None, LOGIN, json!({ "l": "annlee", "p": "wrong guess" }))
            .await;
        assert_eq!(code(&resp), "INVALID_LOGIN");
    }
    let mut ws = WsClient::connect(&app, None).await;
    let resp = ws
        .run(LOGIN, json!({ "l": "annlee", "p": PW }))
        .await
        .unwrap();
    assert_eq!(code(&resp), "INVALID_LOGIN", "{resp}");
    assert!(signs_in(&app, OWNER, "annlee", PW).await);
}
per_backend!(
    a_locked_client_is_refused_over_the_websocket_too,
    super::the_websocket_sees_the_same_lock
);
