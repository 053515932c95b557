use memberkey::domain::Right;
use serde_json::json;

use crate::helpers::{both, code, org, person};

both!(create_read_and_update_profiles, |app| async move {
    let token = app.staff_with("editor", &[Right::ManageProfiles]).await;
    let org_id = app
        .create_profile(
            &token,
            org("Harbour Lights Bakery", Some("office@harbour.example")),
        )
        .await;
    let person_id = app
        .create_profile(&token, json!({ "kind": "INDIVIDUAL", "firstName": "  Maria ", "lastName": "Jensen", "parentId": org_id, "memberStatus": "PROSPECT" }))
        .await;

    let resp = app
        .gql(
            Some(&token),
            "query($id: ID!) { profile(id: $id) { id kind displayName firstName lastName email memberStatus emailOptOut parent { id displayName } } }",
            json!({ "id": person_id }),
        )
        .await;
    let p = &resp["data"]["profile"];
    assert_eq!(p["firstName"], "Maria", "names are trimmed");
    assert_eq!(p["displayName"], "Maria Jensen");
    assert_eq!(p["memberStatus"], "PROSPECT");
    assert_eq!(p["emailOptOut"], false);
    assert!(p["email"].is_null());
    assert_eq!(p["parent"]["id"], org_id);
    assert_eq!(p["parent"]["displayName"], "Harbour Lights Bakery");

    let update = "mutation($id: ID!, $i: UpdateProfileInput!) { updateProfile(id: $id, input: $i) { profile { email lastName parent { id } } } }";
    let resp = app
        .gql(
            Some(&token),
            update,
            json!({ "id": person_id, "i": { "email": "Maria@Harbour.EXAMPLE", "parentId": null } }),
        )
        .await;
    let p = &resp["data"]["updateProfile"]["profile"];
    assert_eq!(
        p["email"], "Maria@harbour.example",
        "domain lower-cased, local part kept"
    );
    assert_eq!(p["lastName"], "Jensen", "fields left out are kept");
    assert!(p["parent"].is_null(), "null clears the parent");

    let related = app
        .gql(
            Some(&token),
            "query($id: ID!) { profile(id: $id) { relatedProfiles { edges { node { id } } } } }",
            json!({ "id": org_id }),
        )
        .await;
    assert_eq!(
        related["data"]["profile"]["relatedProfiles"]["edges"],
        json!([])
    );
});

both!(
    parent_rules_keep_the_tree_one_level_deep,
    |app| async move {
        let token = app.admin().await;
        let org_id = app.create_profile(&token, org("Acme", None)).await;
        let ann = app
            .create_profile(
                &token,
                json!({ "kind": "INDIVIDUAL", "firstName": "Ann", "parentId": org_id }),
            )
            .await;
        let mutation =
            "mutation($i: CreateProfileInput!) { createProfile(input: $i) { profile { id } } }";
        for parent in [ann.as_str(), "987654"] {
            let resp = app.gql(Some(&token), mutation, json!({ "i": { "kind": "INDIVIDUAL", "firstName": "Bob", "parentId": parent } })).await;
            assert_eq!(code(&resp), "BAD_USER_INPUT", "{resp}");
            assert_eq!(resp["errors"][0]["extensions"]["field"], "input.parentId");
        }
        let resp = app
            .gql(
                Some(&token),
                mutation,
                json!({ "i": { "kind": "INDIVIDUAL", "firstName": "Bob", "parentId": "x1" } }),
            )
            .await;
        assert_eq!(code(&resp), "INVALID_PROFILE_ID");
        let update = "mutation($id: ID!, $i: UpdateProfileInput!) { updateProfile(id: $id, input: $i) { profile { id } } }";
        let resp = app
            .gql(
                Some(&token),
                update,
                json!({ "id": org_id, "i": { "parentId": org_id } }),
            )
            .await;
        assert_eq!(code(&resp), "BAD_USER_INPUT");
        let resp = app
            .gql(
                Some(&token),
                update,
                json!({ "id": org_id, "i": { "kind": "INDIVIDUAL", "firstName": "X" } }),
            )
            .await;
        assert_eq!(
            code(&resp),
            "CONFLICT",
            "an organisation with people cannot become a person"
        );
    }
);

both!(
    rights_gate_profile_mutations_but_any_staff_reads,
    |app| async move {
        let admin = app.admin().await;
        let reader = app.staff_with("reader", &[]).await;
        let id = app.create_profile(&admin, person("Ann", "Lee", None)).await;

        let resp = app
            .gql(
                None,
                "query($id: ID!) { profile(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(code(&resp), "UNAUTHENTICATED");
        assert!(resp["data"].is_null());

        let resp = app
            .gql(
                Some(&reader),
                "query($id: ID!) { profile(id: $id) { displayName } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(resp["data"]["profile"]["displayName"], "Ann Lee");

        let resp = app
        .gql(Some(&reader), "mutation { createProfile(input: { kind: INDIVIDUAL, firstName: \"Eve\" }) { profile { id } } }", json!({}))
        .await;
        assert_eq!(code(&resp), "FORBIDDEN");
        let resp = app
        .gql(Some(&reader), "mutation($id: ID!) { updateProfile(id: $id, input: { firstName: \"Eve\" }) { profile { id } } }", json!({ "id": id }))
        .await;
        assert_eq!(code(&resp), "FORBIDDEN");
        let check = app
            .gql(
                Some(&admin),
                "query($id: ID!) { profile(id: $id) { firstName } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(
            check["data"]["profile"]["firstName"], "Ann",
            "a refused mutation changes nothing"
        );
    }
);

both!(
    credential_metadata_needs_its_right_on_every_path,
    |app| async move {
        let admin = app.admin().await;
        let reader = app.staff_with("reader", &[]).await;
        let org_id = app.create_profile(&admin, org("Acme", None)).await;
        let id = app
            .create_profile(
                &admin,
                json!({ "kind": "INDIVIDUAL", "firstName": "Ann", "parentId": org_id }),
            )
            .await;
        {
            use sea_orm::ConnectionTrait;
            let sql = format!(
                "INSERT INTO portal_credentials (profile_id, username, username_key, must_change_password, failed_login_count, created_at, updated_at) \
             VALUES ({id}, 'ann', 'ann', false, 0, '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')"
            );
            app.app.services.db.execute_unprepared(&sql).await.unwrap();
        }
        let paths = [
            (
                "query($id: ID!) { profile(id: $id) { displayName portalCredential { username } } }",
                json!({ "id": id }),
            ),
            (
                "query($id: ID!) { profile(id: $id) { relatedProfiles { edges { node { displayName portalCredential { username } } } } } }",
                json!({ "id": org_id }),
            ),
            (
                "{ profiles(search: \"ann\") { edges { node { displayName portalCredential { username } } } } }",
                json!({}),
            ),
        ];
        for (query, vars) in paths {
            let resp = app.gql(Some(&reader), query, vars.clone()).await;
            assert_eq!(code(&resp), "FORBIDDEN", "{query}: {resp}");
            assert!(
                resp.to_string().contains("Ann"),
                "other fields still resolve: {resp}"
            );
            assert!(
                !resp["data"].to_string().contains("\"ann\""),
                "username leaked: {resp}"
            );
            let ok = app.gql(Some(&admin), query, vars).await;
            assert!(ok["errors"].is_null(), "{ok}");
            assert!(ok["data"].to_string().contains("\"ann\""), "{ok}");
        }
    }
);
