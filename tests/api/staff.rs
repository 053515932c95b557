use memberkey::domain::Right;
use serde_json::json;

use crate::helpers::{both, code};

both!(staff_login_viewer_and_logout, |app| async move {
    let token = app.staff_with("Alice", &[Right::ManageProfiles]).await;
    let resp = app
        .gql(
            Some(&token),
            "{ viewer { username active rights } }",
            json!({}),
        )
        .await;
    assert_eq!(
        resp["data"]["viewer"],
        json!({ "username": "Alice", "active": true, "rights": ["MANAGE_PROFILES"] })
    );

    // Usernames are case- and width-insensitive at sign-in.
    let again = app
        .login("ａｌｉｃｅ", "correct horse battery staple")
        .await;
    assert_ne!(again, token);

    let resp = app
        .gql(
            Some(&token),
            "mutation { staffLogout { signedOut } }",
            json!({}),
        )
        .await;
    assert_eq!(resp["data"]["staffLogout"]["signedOut"], true);
    let resp = app
        .gql(Some(&token), "{ viewer { username } }", json!({}))
        .await;
    assert!(resp["data"]["viewer"].is_null(), "the token stops working");
    let resp = app
        .gql(Some(&again), "{ viewer { username } }", json!({}))
        .await;
    assert_eq!(
        resp["data"]["viewer"]["username"], "Alice",
        "other sessions live on"
    );
});

both!(
    wrong_unknown_and_deactivated_logins_look_the_same,
    |app| async move {
        let admin = app.admin().await;
        let bob = app.staff_with("bob", &[]).await;
        let login = "mutation($u: String!, $p: String!) { staffLogin(username: $u, password: $p) { token } }";
        let wrong = app
            .gql(
                None,
                login,
                json!({ "u": "bob", "p": "not the password at all" }),
            )
            .await;
        let unknown = app
            .gql(
                None,
                login,
                json!({ "u": "nobody", "p": "not the password at all" }),
            )
            .await;
        let garbage = app
            .gql(None, login, json!({ "u": "x", "p": "y".repeat(100_000) }))
            .await;
        let bob_id =
            app.gql(Some(&bob), "{ viewer { id } }", json!({})).await["data"]["viewer"]["id"]
                .clone();
        let resp = app
        .gql(Some(&admin), "mutation($id: ID!) { deactivateStaffUser(staffUserId: $id) { staffUser { active } } }", json!({ "id": bob_id }))
        .await;
        assert_eq!(
            resp["data"]["deactivateStaffUser"]["staffUser"]["active"],
            false
        );
        let deactivated = app
            .gql(
                None,
                login,
                json!({ "u": "bob", "p": "correct horse battery staple" }),
            )
            .await;
        for resp in [&wrong, &unknown, &garbage, &deactivated] {
            assert_eq!(code(resp), "INVALID_LOGIN");
            assert_eq!(resp["errors"][0]["message"], wrong["errors"][0]["message"]);
        }
        // The deactivated user's live session died with the account.
        let resp = app.gql(Some(&bob), "{ viewer { id } }", json!({})).await;
        assert!(resp["data"]["viewer"].is_null());
        // The password is never echoed.
        assert!(!garbage.to_string().contains("yyyy"));

        // Reactivated by MANAGE_STAFF only (over HTTP and the socket), bob signs in again.
        let reactivate =
            "mutation($id: ID!) { reactivateStaffUser(staffUserId: $id) { staffUser { active } } }";
        let carol = app.staff_with("carol", &[Right::ManageProfiles]).await;
        let vars = json!({ "id": bob_id });
        assert_eq!(
            code(&app.gql(Some(&carol), reactivate, vars.clone()).await),
            "FORBIDDEN"
        );
        let mut ws = crate::ws::WsClient::connect(&app, Some(&carol)).await;
        assert_eq!(
            code(&ws.run(reactivate, vars.clone()).await.unwrap()),
            "FORBIDDEN"
        );
        let mut ws = crate::ws::WsClient::connect(&app, Some(&admin)).await;
        let resp = ws.run(reactivate, vars.clone()).await.unwrap();
        assert_eq!(
            resp["data"]["reactivateStaffUser"]["staffUser"]["active"], true,
            "{resp}"
        );
        app.login("bob", "correct horse battery staple").await;
        // Again is a no-op, audited once.
        app.gql(Some(&admin), reactivate, vars).await;
        let n: i64 = app
            .sql_value(
                "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'STAFF_USER_REACTIVATED'",
                "n",
            )
            .await;
        assert_eq!(n, 1);
    }
);

both!(staff_administration_needs_manage_staff, |app| async move {
    let admin = app.admin().await;
    let editor = app.staff_with("editor", &[Right::ManageProfiles]).await;
    let create = "mutation($i: CreateStaffUserInput!) { createStaffUser(input: $i) { staffUser { id username rights } } }";
    let input = json!({ "i": { "username": "carol", "password": "a long enough password", "rights": ["VIEW_AUDIT_LOG"] } });

    let resp = app.gql(Some(&editor), create, input.clone()).await;
    assert_eq!(code(&resp), "FORBIDDEN");
    assert_eq!(
        resp["errors"][0]["extensions"]["requiredRight"],
        "MANAGE_STAFF"
    );
    let resp = app.gql(None, create, input.clone()).await;
    assert_eq!(code(&resp), "UNAUTHENTICATED");
    let resp = app
        .gql(Some(&editor), "{ staffUsers { username } }", json!({}))
        .await;
    assert_eq!(code(&resp), "FORBIDDEN");

    let resp = app.gql(Some(&admin), create, input.clone()).await;
    let carol = &resp["data"]["createStaffUser"]["staffUser"];
    assert_eq!(carol["rights"], json!(["VIEW_AUDIT_LOG"]));
    let resp = app.gql(Some(&admin), create, json!({ "i": { "username": "CAROL", "password": "another long password", "rights": [] } })).await;
    assert_eq!(code(&resp), "USERNAME_TAKEN");
    let resp = app
        .gql(
            Some(&admin),
            create,
            json!({ "i": { "username": "dave", "password": "short", "rights": [] } }),
        )
        .await;
    assert_eq!(code(&resp), "WEAK_PASSWORD");
    assert!(
        !resp.to_string().contains("short\""),
        "the password is not echoed"
    );

    let list = app
        .gql(Some(&admin), "{ staffUsers { username } }", json!({}))
        .await;
    let names: Vec<_> = list["data"]["staffUsers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].clone())
        .collect();
    assert_eq!(names, [json!("admin"), json!("editor"), json!("carol")]);
});

both!(revoked_rights_stop_working_at_once, |app| async move {
    let admin = app.admin().await;
    let editor = app.staff_with("editor", &[Right::ManageProfiles]).await;
    let editor_id = app.gql(Some(&editor), "{ viewer { id } }", json!({})).await["data"]["viewer"]
        ["id"]
        .clone();
    let create = "mutation { createProfile(input: { kind: INDIVIDUAL, firstName: \"Eve\" }) { profile { id } } }";
    assert!(app.gql(Some(&editor), create, json!({})).await["errors"].is_null());

    let set = "mutation($id: ID!, $r: [Right!]!) { setStaffRights(staffUserId: $id, rights: $r) { staffUser { rights } } }";
    let resp = app
        .gql(Some(&admin), set, json!({ "id": editor_id, "r": [] }))
        .await;
    assert_eq!(
        resp["data"]["setStaffRights"]["staffUser"]["rights"],
        json!([])
    );
    assert_eq!(
        code(&app.gql(Some(&editor), create, json!({})).await),
        "FORBIDDEN"
    );
});

both!(
    the_last_staff_administrator_cannot_be_removed,
    |app| async move {
        let admin = app.admin().await;
        let admin_id =
            app.gql(Some(&admin), "{ viewer { id } }", json!({})).await["data"]["viewer"]["id"]
                .clone();
        let set = "mutation($id: ID!, $r: [Right!]!) { setStaffRights(staffUserId: $id, rights: $r) { staffUser { rights } } }";
        let deactivate =
            "mutation($id: ID!) { deactivateStaffUser(staffUserId: $id) { staffUser { active } } }";
        assert_eq!(
            code(
                &app.gql(
                    Some(&admin),
                    set,
                    json!({ "id": admin_id, "r": ["VIEW_AUDIT_LOG"] })
                )
                .await
            ),
            "CONFLICT"
        );
        assert_eq!(
            code(
                &app.gql(Some(&admin), deactivate, json!({ "id": admin_id }))
                    .await
            ),
            "CONFLICT"
        );

        // With a second administrator, the first may step down.
        let second = app.staff_with("second", &[Right::ManageStaff]).await;
        let resp = app
            .gql(
                Some(&admin),
                set,
                json!({ "id": admin_id, "r": ["VIEW_AUDIT_LOG"] }),
            )
            .await;
        assert_eq!(
            resp["data"]["setStaffRights"]["staffUser"]["rights"],
            json!(["VIEW_AUDIT_LOG"])
        );
        let second_id =
            app.gql(Some(&second), "{ viewer { id } }", json!({})).await["data"]["viewer"]["id"]
                .clone();
        assert_eq!(
            code(
                &app.gql(Some(&second), deactivate, json!({ "id": second_id }))
                    .await
            ),
            "CONFLICT"
        );
        assert_eq!(
            code(
                &app.gql(Some(&admin), deactivate, json!({ "id": "77777" }))
                    .await
            ),
            "FORBIDDEN"
        );
        assert_eq!(
            code(
                &app.gql(Some(&second), deactivate, json!({ "id": "77777" }))
                    .await
            ),
            "NOT_FOUND"
        );
    }
);
