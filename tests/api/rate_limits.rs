//! The per-client-IP limit on sign-in attempts, counted in the database.

use chrono::Duration;
use serde_json::json;

use crate::helpers::{Backend, TestApp, code, per_backend, person, spawn_app_with_clock_and};
use crate::member_login::LOGIN;

async fn login_from(app: &TestApp, forwarded_for: &str, login: &str) -> String {
    let resp: serde_json::Value = app
        .client
        .post(app.url("/graphql"))
        .header("x-forwarded-for", forwarded_for)
        .json(
            &json!({ "query": LOGIN, "variables": { "l": login, "p": "not the password at all" } }),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    code(&resp).to_owned()
}

async fn limits_attempts_per_client(backend: Backend) {
    let (app, clock) = spawn_app_with_clock_and(backend, |c| {
        c.login_ip_limit = 5;
        c.login_ip_window = Duration::minutes(10);
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let admin = app.admin().await;
    app.create_profile(&admin, person("Ida", "Berg", Some("ida@example.org")))
        .await;
    for _ in 0..5 {
        assert_eq!(
            login_from(&app, "198.51.100.1", "ida@example.org").await,
            "INVALID_LOGIN"
        );
    }
    let evaluations = app.app.services.hasher.evaluations();
    assert_eq!(
        login_from(&app, "198.51.100.1", "ida@example.org").await,
        "RATE_LIMITED"
    );
    assert_eq!(
        app.app.services.hasher.evaluations(),
        evaluations,
        "a limited attempt must not reach the hasher"
    );
    // Another client behind the same proxy has its own budget.
    assert_eq!(
        login_from(&app, "198.51.100.2", "ida@example.org").await,
        "INVALID_LOGIN"
    );
    // The window ends and the client may try again.
    clock.advance(Duration::minutes(10));
    assert_eq!(
        login_from(&app, "198.51.100.1", "ida@example.org").await,
        "INVALID_LOGIN"
    );
}
per_backend!(
    limits_attempts_per_client_ip,
    super::limits_attempts_per_client
);

async fn untrusted_forwarded_for_is_ignored(backend: Backend) {
    let (app, _clock) = spawn_app_with_clock_and(backend, |c| {
        c.login_ip_limit = 3;
    })
    .await;
    // Without a trusted proxy every spoofed address is the same client, 127.0.0.1.
    for n in 0..3 {
        assert_eq!(
            login_from(&app, &format!("203.0.113.{n}"), "nobody").await,
            "INVALID_LOGIN"
        );
    }
    assert_eq!(
        login_from(&app, "203.0.113.77", "nobody").await,
        "RATE_LIMITED"
    );
}
per_backend!(
    spoofed_forwarded_for_changes_nothing,
    super::untrusted_forwarded_for_is_ignored
);

async fn token_guessing_is_limited(backend: Backend) {
    let (app, _clock) = spawn_app_with_clock_and(backend, |c| c.token_ip_limit = 5).await;
    let check = "query($t: String!) { checkSetPasswordToken(token: $t) { state } }";
    let set = "mutation($t: String!) { setPasswordWithToken(token: $t, password: \"lanterns over the quiet harbour\") { login } }";
    let guess = |n: usize| format!("{n:0>43}");
    for n in 0..3 {
        let resp = app.gql(None, check, json!({ "t": guess(n) })).await;
        assert_eq!(resp["data"]["checkSetPasswordToken"]["state"], "INVALID");
    }
    for n in 3..5 {
        assert_eq!(
            code(&app.gql(None, set, json!({ "t": guess(n) })).await),
            "INVALID_TOKEN"
        );
    }
    // Checks and uses share one budget per client.
    assert_eq!(
        code(&app.gql(None, check, json!({ "t": guess(5) })).await),
        "RATE_LIMITED"
    );
    assert_eq!(
        code(&app.gql(None, set, json!({ "t": guess(6) })).await),
        "RATE_LIMITED"
    );
}
per_backend!(
    set_password_token_guessing_is_limited_per_client_ip,
    super::token_guessing_is_limited
);

async fn staff_sign_in_is_limited(backend: Backend) {
    let (app, _clock) = spawn_app_with_clock_and(backend, |c| c.login_ip_limit = 3).await;
    let login = "mutation($p: String!) { staffLogin(username: \"admin\", password: $p) { token } }";
    for _ in 0..3 {
        let resp = app
            .gql(None, login, json!({ "p": "a wrong staff password" }))
            .await;
        assert_eq!(code(&resp), "INVALID_LOGIN");
    }
    let resp = app
        .gql(None, login, json!({ "p": "a wrong staff password" }))
        .await;
    assert_eq!(code(&resp), "RATE_LIMITED");
}
per_backend!(
    staff_sign_in_is_limited_per_client_ip,
    super::staff_sign_in_is_limited
);

async fn staff_accounts_lock(backend: Backend) {
    let (app, clock) = spawn_app_with_clock_and(backend, |c| {
        c.lockout_threshold = 3;
        c.lockout_duration = Duration::minutes(15);
    })
    .await;
    app.admin().await;
    let login = "mutation($p: String!) { staffLogin(username: \"admin\", password: $p) { token } }";
    let right = json!({ "p": "correct horse battery staple" });
    for _ in 0..3 {
        let resp = app
            .gql(None, login, json!({ "p": "a wrong staff password" }))
            .await;
        assert_eq!(code(&resp), "INVALID_LOGIN");
    }
    // Locked: even the right password gets the same answer.
    assert_eq!(
        code(&app.gql(None, login, right.clone()).await),
        "INVALID_LOGIN"
    );
    clock.advance(Duration::minutes(15));
    let resp = app.gql(None, login, right.clone()).await;
    assert!(resp["data"]["staffLogin"]["token"].is_string(), "{resp}");
    // A success starts the count again.
    for _ in 0..2 {
        app.gql(None, login, json!({ "p": "a wrong staff password" }))
            .await;
    }
    let resp = app.gql(None, login, right).await;
    assert!(resp["data"]["staffLogin"]["token"].is_string(), "{resp}");
}
per_backend!(
    staff_accounts_lock_after_repeated_failures,
    super::staff_accounts_lock
);
