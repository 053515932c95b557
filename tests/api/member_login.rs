//! Member sign-in, lockout, password change.

use chrono::Duration;
use serde_json::{Value, json};

use crate::credentials::set;
use crate::helpers::{
    Backend, TestApp, both, code, org, per_backend, person, spawn_app_with_clock,
};

pub const LOGIN: &str = "mutation($l: String!, $p: String!) { memberLogin(login: $l, password: $p) { token profile { id displayName } } }";

pub async fn member_login(app: &TestApp, login: &str, password: &str) -> Value {
    app.gql(None, LOGIN, json!({ "l": login, "p": password }))
        .await
}

const PW: &str = "violet tram under the bridge";

/// `n` characters of a long, varied passphrase (no blocklist or repetition refusals).
pub fn varied(n: usize) -> String {
    "Grüße aus Köln, 🙂 dann weiter nach Zürich und Malmö! "
        .chars()
        .cycle()
        .take(n)
        .collect()
}

both!(members_sign_in_with_username_or_email, |app| async move {
    let admin = app.admin().await;
    let id = app
        .create_profile(
            &admin,
            person("Maria", "Jensen", Some("Maria@Harbour.example")),
        )
        .await;
    // Not asked to change the password, so the session is a full member session.
    set(
        &app,
        &admin,
        json!({ "profileId": id, "username": "MariaJ", "password": PW, "mustChangePassword": false }),
    )
    .await;

    for login in [
        "MariaJ",
        "mariaj",
        "ＭＡＲＩＡＪ",
        "maria@harbour.example",
        " Maria@HARBOUR.example ",
    ] {
        let resp = member_login(&app, login, PW).await;
        assert_eq!(
            resp["data"]["memberLogin"]["profile"]["id"], id,
            "{login:?}: {resp}"
        );
    }
    let token = member_login(&app, "MariaJ", PW).await["data"]["memberLogin"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = app
        .gql(
            Some(&token),
            "{ me { username mustChangePassword lastLoginAt profile { displayName } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["data"]["me"]["username"], "MariaJ");
    assert_eq!(me["data"]["me"]["profile"]["displayName"], "Maria Jensen");
    assert!(me["data"]["me"]["lastLoginAt"].is_string());

    // A member is not staff: staff fields answer FORBIDDEN, never data.
    let resp = app
        .gql(
            Some(&token),
            "query($id: ID!) { profile(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code(&resp), "FORBIDDEN");
    let resp = app
        .gql(Some(&token), "{ profiles { totalCount } }", json!({}))
        .await;
    assert_eq!(code(&resp), "FORBIDDEN");
    let resp = app
        .gql(
            Some(&token),
            "{ me { profile { relatedProfiles { edges { node { id } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&resp), "FORBIDDEN");
    // …and staff are not members.
    assert_eq!(
        code(
            &app.gql(Some(&admin), "{ me { username } }", json!({}))
                .await
        ),
        "FORBIDDEN"
    );

    assert_eq!(
        app.gql(
            Some(&token),
            "mutation { memberLogout { signedOut } }",
            json!({})
        )
        .await["data"]["memberLogout"]["signedOut"],
        true
    );
    assert_eq!(
        code(
            &app.gql(Some(&token), "{ me { username } }", json!({}))
                .await
        ),
        "UNAUTHENTICATED"
    );
});

both!(
    a_shared_email_signs_in_the_profile_whose_password_matches,
    |app| async move {
        let admin = app.admin().await;
        let shared = "office@harbour.example";
        let company = app
            .create_profile(&admin, org("Harbour Lights", Some(shared)))
            .await;
        let maria = app.create_profile(&admin, json!({ "kind": "INDIVIDUAL", "firstName": "Maria", "email": shared, "parentId": company })).await;
        let tom = app.create_profile(&admin, json!({ "kind": "INDIVIDUAL", "firstName": "Tom", "email": shared, "parentId": company })).await;
        set(&app, &admin, json!({ "profileId": company, "username": "harbour", "password": "company password one" })).await;
        set(
            &app,
            &admin,
            json!({ "profileId": maria, "password": "maria password two" }),
        )
        .await;
        set(
            &app,
            &admin,
            json!({ "profileId": tom, "password": "maria password two" }),
        )
        .await;

        assert_eq!(
            member_login(&app, shared, "company password one").await["data"]["memberLogin"]["profile"]
                ["id"],
            company
        );
        let resp = member_login(&app, shared, "maria password two").await;
        assert_eq!(code(&resp), "AMBIGUOUS_LOGIN", "two profiles match: {resp}");
        assert_eq!(
            code(&member_login(&app, shared, "nobody's password").await),
            "INVALID_LOGIN"
        );
    }
);

both!(every_failure_looks_the_same, |app| async move {
    let admin = app.admin().await;
    let id = app
        .create_profile(&admin, person("Ann", "Lee", Some("ann@example.org")))
        .await;
    set(
        &app,
        &admin,
        json!({ "profileId": id, "username": "annlee", "password": PW }),
    )
    .await;
    let nopass = app
        .create_profile(&admin, person("Bob", "Lee", Some("bob@example.org")))
        .await;
    set(
        &app,
        &admin,
        json!({ "profileId": nopass, "username": "boblee" }),
    )
    .await;
    let before = app.app.services.hasher.evaluations();
    let answers = [
        member_login(&app, "annlee", "wrong password here").await,
        member_login(&app, "nobody", PW).await,
        member_login(&app, "nobody@example.org", PW).await,
        member_login(&app, "boblee", PW).await,
        member_login(&app, "x", &"y".repeat(200_000)).await,
    ];
    for a in &answers {
        assert_eq!(code(a), "INVALID_LOGIN", "{a}");
        assert_eq!(
            a["errors"][0]["message"],
            answers[0]["errors"][0]["message"]
        );
        assert!(a["data"].is_null());
    }
    // Each attempt did exactly one Argon2 evaluation (a real or a dummy verify).
    assert_eq!(
        app.app.services.hasher.evaluations() - before,
        answers.len() as u64
    );
});

both!(
    changing_the_password_ends_other_sessions,
    |app| async move {
        let admin = app.admin().await;
        let id = app.create_profile(&admin, person("Ann", "Lee", None)).await;
        set(&app, &admin, json!({ "profileId": id, "username": "annlee", "password": PW, "mustChangePassword": true })).await;
        let tokens: Vec<String> =
            futures_util::future::join_all((0..3).map(|_| member_login(&app, "annlee", PW)))
                .await
                .iter()
                .map(|r| {
                    r["data"]["memberLogin"]["token"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
                .collect();
        let change = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { changedAt } }";
        assert_eq!(
            code(
                &app.gql(
                    Some(&tokens[0]),
                    change,
                    json!({ "c": "wrong current one", "n": "a brand new passphrase" })
                )
                .await
            ),
            "INVALID_LOGIN"
        );
        assert_eq!(
            code(
                &app.gql(
                    Some(&tokens[0]),
                    change,
                    json!({ "c": PW, "n": "annlee forever!" })
                )
                .await
            ),
            "WEAK_PASSWORD"
        );
        let resp = app
            .gql(
                Some(&tokens[0]),
                change,
                json!({ "c": PW, "n": "a brand new passphrase" }),
            )
            .await;
        assert!(
            resp["data"]["changePassword"]["changedAt"].is_string(),
            "{resp}"
        );
        let me = app
            .gql(Some(&tokens[0]), "{ me { mustChangePassword } }", json!({}))
            .await;
        assert_eq!(
            me["data"]["me"]["mustChangePassword"], false,
            "this session lives on"
        );
        for other in &tokens[1..] {
            assert_eq!(
                code(&app.gql(Some(other), "{ me { username } }", json!({})).await),
                "UNAUTHENTICATED"
            );
        }
        assert_eq!(
            code(&member_login(&app, "annlee", PW).await),
            "INVALID_LOGIN"
        );
        assert!(member_login(&app, "annlee", "a brand new passphrase").await["errors"].is_null());
        let cred = app
            .gql(
                Some(&admin),
                "query($id: ID!) { profile(id: $id) { portalCredential { passwordSetBy } } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(
            cred["data"]["profile"]["portalCredential"]["passwordSetBy"],
            "MEMBER"
        );
    }
);

both!(
    nfkc_makes_composed_and_decomposed_passwords_equal,
    |app| async move {
        let admin = app.admin().await;
        let id = app.create_profile(&admin, person("Ann", "Lee", None)).await;
        let composed = "café ñandú 🙂 über-lange Passphrase";
        let decomposed = "cafe\u{301} n\u{303}andu\u{301} 🙂 u\u{308}ber-lange Passphrase";
        assert!(
            set(
                &app,
                &admin,
                json!({ "profileId": id, "username": "annlee", "password": composed })
            )
            .await["errors"]
                .is_null()
        );
        assert!(member_login(&app, "annlee", decomposed).await["errors"].is_null());
        // With 128 accepted, changing the last character fails.
        let long = format!("{}x", varied(127));
        set(&app, &admin, json!({ "profileId": id, "password": long })).await;
        assert!(member_login(&app, "annlee", &long).await["errors"].is_null());
        assert_eq!(
            code(&member_login(&app, "annlee", &format!("{}y", varied(127))).await),
            "INVALID_LOGIN"
        );
    }
);

async fn lockout(backend: Backend) {
    let (app, clock) = spawn_app_with_clock(backend).await;
    let admin = app.admin().await;
    let id = app
        .create_profile(&admin, person("Ann", "Lee", Some("ann@example.org")))
        .await;
    set(
        &app,
        &admin,
        json!({ "profileId": id, "username": "annlee", "password": PW }),
    )
    .await;
    for _ in 0..10 {
        assert_eq!(
            code(&member_login(&app, "annlee", "wrong password here").await),
            "INVALID_LOGIN"
        );
    }
    // This client is locked: the right password gets the same answer, and attempts do not
    // extend the lock. (Other clients are not: see `lockout`.)
    let locked = member_login(&app, "ANNLEE", PW).await;
    assert_eq!(code(&locked), "INVALID_LOGIN");
    assert_eq!(
        code(&member_login(&app, "ann@example.org", PW).await),
        "INVALID_LOGIN",
        "case and email variants hit the same lock"
    );
    let meta = app.gql(Some(&admin), "query($id: ID!) { profile(id: $id) { portalCredential { failedLoginCount lockedUntil } } }", json!({ "id": id })).await;
    assert_eq!(
        meta["data"]["profile"]["portalCredential"]["failedLoginCount"],
        10
    );
    assert!(
        meta["data"]["profile"]["portalCredential"]["lockedUntil"].is_null(),
        "one client's failures stay below the account's ceiling: {meta}"
    );

    clock.advance(Duration::minutes(15) - Duration::seconds(1));
    assert_eq!(
        code(&member_login(&app, "annlee", PW).await),
        "INVALID_LOGIN",
        "still locked a second before the end"
    );
    clock.advance(Duration::seconds(1));
    assert!(
        member_login(&app, "annlee", PW).await["errors"].is_null(),
        "the lock runs out"
    );
    let meta = app.gql(Some(&admin), "query($id: ID!) { profile(id: $id) { portalCredential { failedLoginCount lockedUntil } } }", json!({ "id": id })).await;
    assert_eq!(
        meta["data"]["profile"]["portalCredential"]["failedLoginCount"], 0,
        "a success resets the counter"
    );

    // Staff can unlock early.
    for _ in 0..10 {
        member_login(&app, "annlee", "wrong password here").await;
    }
    assert_eq!(
        code(&member_login(&app, "annlee", PW).await),
        "INVALID_LOGIN"
    );
    let unlock = "mutation($id: ID!) { unlockPortalCredentials(profileId: $id) { credential { failedLoginCount lockedUntil } } }";
    let resp = app.gql(Some(&admin), unlock, json!({ "id": id })).await;
    assert_eq!(
        resp["data"]["unlockPortalCredentials"]["credential"]["failedLoginCount"],
        0
    );
    assert!(member_login(&app, "annlee", PW).await["errors"].is_null());
}

per_backend!(lockout, super::lockout);

both!(concurrent_wrong_logins_are_all_counted, |app| async move {
    let admin = app.admin().await;
    let id = app.create_profile(&admin, person("Ann", "Lee", None)).await;
    set(
        &app,
        &admin,
        json!({ "profileId": id, "username": "annlee", "password": PW }),
    )
    .await;
    let attempts = futures_util::future::join_all((0..200).map(|i| {
        let app = &app;
        async move { member_login(app, "annlee", &format!("wrong password {i}")).await }
    }))
    .await;
    let codes: std::collections::BTreeSet<&str> = attempts.iter().map(code).collect();
    // RATE_LIMITED is the bounded hash queue refusing work it cannot take (no hash, no count).
    assert!(
        codes
            .iter()
            .all(|c| *c == "INVALID_LOGIN" || *c == "RATE_LIMITED"),
        "{codes:?}"
    );
    // Attempts that read the row before the lock was written are evaluated and counted; the
    // rest were refused as locked without hashing. Either way no update is lost.
    let count: i32 = app
        .sql_value(
            "SELECT failed_login_count FROM portal_credentials",
            "failed_login_count",
        )
        .await;
    let evaluated_failures: i64 = app
        .sql_value(
            "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'MEMBER_LOGIN_FAILED' AND profile_id IS NOT NULL",
            "n",
        )
        .await;
    assert!(count >= 10, "the account ends locked (count {count})");
    assert_eq!(
        i64::from(count),
        evaluated_failures,
        "every evaluated failure was counted exactly once"
    );
    assert_eq!(
        code(&member_login(&app, "annlee", PW).await),
        "INVALID_LOGIN",
        "locked"
    );
});

both!(
    a_login_rehashes_passwords_stored_with_old_parameters,
    |app| async move {
        use memberkey::config::Argon2Settings;
        use memberkey::domain::{Password, PasswordPolicy};
        use memberkey::services::PasswordHasher;
        use sea_orm::ConnectionTrait;

        let admin = app.admin().await;
        let id = app.create_profile(&admin, person("Ann", "Lee", None)).await;
        set(
            &app,
            &admin,
            json!({ "profileId": id, "username": "annlee", "password": PW }),
        )
        .await;
        // Store the same password hashed with other (older) parameters.
        let old = PasswordHasher::new(
            Argon2Settings {
                memory_kib: 512,
                iterations: 2,
                parallelism: 1,
            },
            1,
            4,
        )
        .unwrap();
        let old_hash = old
            .hash(&Password::parse(PW, PasswordPolicy::default()).unwrap())
            .await
            .unwrap();
        assert!(old_hash.starts_with("$argon2id$v=19$m=512,t=2,p=1$"));
        let db = &app.app.services.db;
        let backend = db.get_database_backend();
        db.execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            if backend == sea_orm::DatabaseBackend::Postgres {
                "UPDATE portal_credentials SET password_hash = $1"
            } else {
                "UPDATE portal_credentials SET password_hash = ?"
            },
            [old_hash.clone().into()],
        ))
        .await
        .unwrap();

        assert!(member_login(&app, "annlee", PW).await["errors"].is_null());
        let now: String = app
            .sql_value(
                "SELECT password_hash FROM portal_credentials",
                "password_hash",
            )
            .await;
        assert!(
            now.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"),
            "rehashed with the configured parameters: {now}"
        );
        assert!(
            member_login(&app, "annlee", PW).await["errors"].is_null(),
            "the password still works"
        );
    }
);
