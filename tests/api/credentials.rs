//! Staff setting portal credentials by hand.

use memberkey::domain::Right;
use serde_json::{Value, json};

use crate::helpers::{TestApp, both, code, person};

pub const SET: &str = "mutation($i: SetPortalCredentialsInput!) { setPortalCredentials(input: $i) { credential { username passwordIsSet passwordSetBy mustChangePassword failedLoginCount } } }";

pub async fn set(app: &TestApp, token: &str, input: Value) -> Value {
    app.gql(Some(token), SET, json!({ "i": input })).await
}

both!(staff_set_username_and_password, |app| async move {
    let token = app
        .staff_with(
            "clerk",
            &[Right::ManagePortalCredentials, Right::ManageProfiles],
        )
        .await;
    let id = app
        .create_profile(
            &token,
            person("Maria", "Jensen", Some("maria@harbour.example")),
        )
        .await;
    let secret = "violet tram under the bridge";
    let resp = set(
        &app,
        &token,
        json!({ "profileId": id, "username": "MariaJ", "password": secret }),
    )
    .await;
    assert!(resp["errors"].is_null(), "{resp}");
    let cred = &resp["data"]["setPortalCredentials"]["credential"];
    assert_eq!(
        cred,
        &json!({ "username": "MariaJ", "passwordIsSet": true, "passwordSetBy": "STAFF", "mustChangePassword": true, "failedLoginCount": 0 }),
        "a password staff typed must be changed at first sign-in unless staff say otherwise"
    );
    assert!(
        !resp.to_string().contains(secret),
        "the password is never returned"
    );
    assert!(
        !resp.to_string().contains("argon2"),
        "no hash leaves the server"
    );

    // Each part can be set alone.
    let resp = set(
        &app,
        &token,
        json!({ "profileId": id, "mustChangePassword": true }),
    )
    .await;
    assert_eq!(
        resp["data"]["setPortalCredentials"]["credential"]["username"],
        "MariaJ"
    );
    assert_eq!(
        resp["data"]["setPortalCredentials"]["credential"]["mustChangePassword"],
        true
    );
    let resp = set(
        &app,
        &token,
        json!({ "profileId": id, "username": "maria.jensen" }),
    )
    .await;
    assert_eq!(
        resp["data"]["setPortalCredentials"]["credential"]["passwordIsSet"],
        true
    );
    let resp = set(&app, &token, json!({ "profileId": id })).await;
    assert_eq!(code(&resp), "BAD_USER_INPUT");

    // The stored column holds only an Argon2id PHC string.
    let hash: String = app
        .sql_value(
            "SELECT password_hash FROM portal_credentials",
            "password_hash",
        )
        .await;
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
});

both!(
    usernames_are_unique_regardless_of_case_and_width,
    |app| async move {
        let token = app.admin().await;
        let a = app.create_profile(&token, person("Ann", "A", None)).await;
        let b = app.create_profile(&token, person("Bob", "B", None)).await;
        assert!(
            set(&app, &token, json!({ "profileId": a, "username": "alice" })).await["errors"]
                .is_null()
        );
        for clash in ["ALICE", "ａｌｉｃｅ", " Alice "] {
            let resp = set(&app, &token, json!({ "profileId": b, "username": clash })).await;
            assert_eq!(code(&resp), "USERNAME_TAKEN", "{clash:?}");
        }
        // The owner may re-spell their own username.
        assert!(
            set(&app, &token, json!({ "profileId": a, "username": "Alice" })).await["errors"]
                .is_null()
        );
        for bad in ["ab", "has space", "semi;colon"] {
            let resp = set(&app, &token, json!({ "profileId": b, "username": bad })).await;
            assert_eq!(code(&resp), "BAD_USER_INPUT");
            assert_eq!(resp["errors"][0]["extensions"]["field"], "input.username");
        }
    }
);

both!(weak_passwords_are_refused_with_a_reason, |app| async move {
    let token = app.admin().await;
    let id = app
        .create_profile(
            &token,
            person("Maria", "Jensen", Some("maria.jensen@harbour.example")),
        )
        .await;
    set(
        &app,
        &token,
        json!({ "profileId": id, "username": "mariaj2026" }),
    )
    .await;
    for (password, why) in [
        ("short pass", "at least 12"),
        (&"a".repeat(129) as &str, "at most 128"),
        ("password1234", "commonly used"),
        ("P@ssw0rd-1234", "commonly used"),
        ("mariaj2026 is me!", "username"),
        ("maria.jensen rocks", "email"),
        ("harbour chamber 2026", "association"),
        ("zzzzzzzzzzzzzzzz", "repeats"),
    ] {
        let resp = set(
            &app,
            &token,
            json!({ "profileId": id, "password": password }),
        )
        .await;
        assert_eq!(code(&resp), "WEAK_PASSWORD", "{password:?}: {resp}");
        let message = resp["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(why), "{password:?}: {message}");
        assert!(
            !message.contains(password),
            "the password is not echoed: {message}"
        );
    }
    // 128 code points of multi-byte characters are fine, and never truncated.
    let long: String = crate::member_login::varied(128);
    assert!(
        set(&app, &token, json!({ "profileId": id, "password": long })).await["errors"].is_null()
    );
    assert!(
        set(
            &app,
            &token,
            json!({ "profileId": id, "password": "correct horse battery staple" })
        )
        .await["errors"]
            .is_null()
    );
});

both!(credential_mutations_need_the_right, |app| async move {
    let admin = app.admin().await;
    let editor = app.staff_with("editor", &[Right::ManageProfiles]).await;
    let id = app.create_profile(&admin, person("Ann", "Lee", None)).await;
    let resp = set(
        &app,
        &editor,
        json!({ "profileId": id, "username": "annlee" }),
    )
    .await;
    assert_eq!(code(&resp), "FORBIDDEN");
    let remove = "mutation($id: ID!) { removePortalCredentials(profileId: $id) { removed } }";
    assert_eq!(
        code(&app.gql(Some(&editor), remove, json!({ "id": id })).await),
        "FORBIDDEN"
    );
    assert_eq!(
        code(
            &set(
                &app,
                &admin,
                json!({ "profileId": "2q289i", "username": "x12" })
            )
            .await
        ),
        "INVALID_PROFILE_ID"
    );
    assert_eq!(
        code(
            &set(
                &app,
                &admin,
                json!({ "profileId": "99999", "username": "x12" })
            )
            .await
        ),
        "NOT_FOUND"
    );

    assert!(
        set(
            &app,
            &admin,
            json!({ "profileId": id, "username": "annlee" })
        )
        .await["errors"]
            .is_null()
    );
    assert_eq!(
        app.gql(Some(&admin), remove, json!({ "id": id })).await["data"]["removePortalCredentials"]
            ["removed"],
        true
    );
    assert_eq!(
        app.gql(Some(&admin), remove, json!({ "id": id })).await["data"]["removePortalCredentials"]
            ["removed"],
        false
    );
    let resp = app
        .gql(
            Some(&admin),
            "query($id: ID!) { profile(id: $id) { portalCredential { username } } }",
            json!({ "id": id }),
        )
        .await;
    assert!(resp["data"]["profile"]["portalCredential"].is_null());
});

both!(
    the_audit_log_records_credential_actions_without_secrets,
    |app| async move {
        let admin = app.admin().await;
        let clerk = app
            .staff_with("clerk", &[Right::ManagePortalCredentials])
            .await;
        let id = app.create_profile(&admin, person("Ann", "Lee", None)).await;
        let secret = "violet tram under the bridge";
        set(
            &app,
            &clerk,
            json!({ "profileId": id, "username": "annlee", "password": secret }),
        )
        .await;
        crate::member_login::member_login(&app, "annlee", "a wrong password here").await;
        let token =
            crate::member_login::member_login(&app, "annlee", secret).await["data"]["memberLogin"]
                ["token"]
                .clone();
        let remove = "mutation($id: ID!) { removePortalCredentials(profileId: $id) { removed } }";
        app.gql(Some(&admin), remove, json!({ "id": id })).await;

        let q = "query($id: ID, $after: String) { auditEvents(profileId: $id, first: 2, after: $after) { edges { cursor node { action actorKind profileId detail } } pageInfo { endCursor hasNextPage hasPreviousPage } totalCount } }";
        assert_eq!(
            code(&app.gql(Some(&clerk), q, json!({ "id": id })).await),
            "FORBIDDEN"
        );
        let mut actions = Vec::new();
        let mut after = Value::Null;
        loop {
            let resp = app
                .gql(Some(&admin), q, json!({ "id": id, "after": after }))
                .await;
            let conn = &resp["data"]["auditEvents"];
            assert_eq!(conn["totalCount"], 5, "{resp}");
            assert_eq!(conn["pageInfo"]["hasPreviousPage"], !after.is_null());
            for e in conn["edges"].as_array().unwrap() {
                let n = &e["node"];
                assert_eq!(n["profileId"], id);
                actions.push(n["action"].as_str().unwrap().to_owned());
            }
            assert!(!resp.to_string().contains(secret));
            assert!(!resp.to_string().contains(token.as_str().unwrap()));
            if conn["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = conn["pageInfo"]["endCursor"].clone();
        }
        // One cursor scheme for every list, but a cursor only works in its own list.
        let profiles = app
            .gql(
                Some(&admin),
                "{ profiles(first: 1) { pageInfo { endCursor } } }",
                json!({}),
            )
            .await;
        let foreign = profiles["data"]["profiles"]["pageInfo"]["endCursor"].clone();
        assert!(foreign.is_string(), "{profiles}");
        let resp = app
            .gql(Some(&admin), q, json!({ "id": id, "after": foreign }))
            .await;
        assert_eq!(code(&resp), "BAD_USER_INPUT", "{resp}");
        assert_eq!(resp["errors"][0]["extensions"]["field"], "after");
        assert_eq!(
            actions,
            [
                "CREDENTIALS_REMOVED",
                "MEMBER_LOGIN",
                "MEMBER_LOGIN_FAILED",
                "CREDENTIALS_SET",
                "PROFILE_CREATED"
            ],
            "newest first"
        );
    }
);
