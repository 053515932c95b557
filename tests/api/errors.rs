use serde_json::json;

use crate::helpers::{both, code, person};

both!(malformed_profile_id_names_the_value, |app| async move {
    let token = app.admin().await;
    let resp = app
        .gql(
            Some(&token),
            r#"{ profile(id: "2q289i") { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code(&resp), "INVALID_PROFILE_ID");
    let message = resp["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("\"2q289i\""),
        "message should quote the value: {message}"
    );
});

both!(unknown_profile_id_is_not_found, |app| async move {
    let token = app.admin().await;
    let resp = app
        .gql(
            Some(&token),
            r#"{ profile(id: "999999") { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code(&resp), "NOT_FOUND");
});

both!(bad_input_names_the_field, |app| async move {
    let token = app.admin().await;
    let mutation =
        "mutation($i: CreateProfileInput!) { createProfile(input: $i) { profile { id } } }";
    for (input, field) in [
        (person("Ann", "Lee", Some("not-an-email")), "input.email"),
        (
            json!({ "kind": "INDIVIDUAL", "firstName": "Ann\r\nBcc: x@evil.example" }),
            "input.firstName",
        ),
        (
            json!({ "kind": "INDIVIDUAL", "lastName": "x".repeat(101) }),
            "input.lastName",
        ),
        (
            json!({ "kind": "ORGANIZATION", "email": "a@b.org" }),
            "input.organizationName",
        ),
        (
            json!({ "kind": "INDIVIDUAL", "firstName": "   " }),
            "input.lastName",
        ),
    ] {
        let resp = app.gql(Some(&token), mutation, json!({ "i": input })).await;
        assert_eq!(code(&resp), "BAD_USER_INPUT", "{resp}");
        assert_eq!(resp["errors"][0]["extensions"]["field"], field, "{resp}");
        assert!(resp["data"].is_null());
    }
    // Nothing was written.
    let list = app
        .gql(Some(&token), "{ profiles { totalCount } }", json!({}))
        .await;
    assert_eq!(list["data"]["profiles"]["totalCount"], 0);
});

both!(
    internal_errors_carry_a_correlation_id_and_no_internals,
    |app| async move {
        let token = app.admin().await;
        let id = app.create_profile(&token, person("Ann", "Lee", None)).await;
        // Break the database underneath the app: the credential lookup now fails inside SeaORM.
        {
            use sea_orm::ConnectionTrait;
            app.app
                .services
                .db
                .execute_unprepared("ALTER TABLE portal_credentials RENAME TO gone")
                .await
                .unwrap();
        }
        let resp = app
            .gql(
                Some(&token),
                "query($id: ID!) { profile(id: $id) { portalCredential { username } } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(code(&resp), "INTERNAL_SERVER_ERROR");
        let err = &resp["errors"][0];
        let correlation = err["extensions"]["correlationId"]
            .as_str()
            .expect("correlation id");
        assert!(err["message"].as_str().unwrap().contains(correlation));
        let text = resp.to_string().to_lowercase();
        for leak in [
            "portal_credentials",
            "sqlite",
            "postgres",
            "no such table",
            "does not exist",
            "select",
        ] {
            assert!(!text.contains(leak), "response leaks {leak:?}: {resp}");
        }
    }
);

// Every kind of error a client can get back carries its code, over HTTP and over the
// WebSocket alike, and every error in a response has one.
both!(
    every_error_a_client_can_get_has_a_code_on_both_paths,
    |app| async move {
        let token = app.admin().await;
        let deep = format!(
            "{{ {}__typename{} }}",
            "profiles { edges { node { relatedProfiles { edges { node { ".repeat(3),
            " } } } } } }".repeat(3)
        );
        let aliases: String = (0..200).map(|i| format!("a{i}: __typename ")).collect();
        let cases = [
            (
                json!({ "query": "{ profiles { totalCount " }),
                "GRAPHQL_PARSE_FAILED",
            ),
            (
                json!({ "query": "{ membrs }" }),
                "GRAPHQL_VALIDATION_FAILED",
            ),
            (
                json!({ "query": "{ profiles { edges { node { nosuch } } } }" }),
                "GRAPHQL_VALIDATION_FAILED",
            ),
            (
                json!({ "query": "query A { __typename } query B { __typename }", "operationName": "C" }),
                "GRAPHQL_VALIDATION_FAILED",
            ),
            (
                json!({ "query": "query A { __typename } query B { __typename }" }),
                "GRAPHQL_VALIDATION_FAILED",
            ),
            (json!({ "query": deep }), "QUERY_TOO_COMPLEX"),
            (
                json!({ "query": format!("{{ {aliases} }}") }),
                "QUERY_TOO_COMPLEX",
            ),
            (
                json!({ "query": "{ profiles(first: \"ten\") { totalCount } }" }),
                "BAD_USER_INPUT",
            ),
            (
                json!({ "query": "query($n: Int) { profiles(first: $n) { totalCount } }", "variables": { "n": "ten" } }),
                "BAD_USER_INPUT",
            ),
            (
                json!({ "query": "query($id: ID!) { profile(id: $id) { id } }", "variables": {} }),
                "BAD_USER_INPUT",
            ),
            (
                json!({ "query": "query($n: Int) { profiles(first: $n) { totalCount } }", "variables": { "n": 5000 } }),
                "BAD_USER_INPUT",
            ),
            (
                json!({ "query": "{ profile(id: \"2q289i\") { id } }" }),
                "INVALID_PROFILE_ID",
            ),
            (
                json!({ "query": "{ profile(id: \"99999\") { id } }" }),
                "NOT_FOUND",
            ),
        ];
        let mut ws = crate::ws::WsClient::connect(&app, Some(&token)).await;
        for (payload, expected) in cases {
            let resp = app
                .client
                .post(app.url("/graphql"))
                .bearer_auth(&token)
                .json(&payload)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap();
            let over_ws = ws.run_payload(payload.clone()).await.expect("socket open");
            for (path, resp) in [("HTTP", &resp), ("WebSocket", &over_ws)] {
                let errors = resp["errors"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{path}: expected errors for {payload}: {resp}"));
                assert_eq!(code(resp), expected, "{path}: {payload}: {resp}");
                for e in errors {
                    assert!(
                        e["extensions"]["code"].is_string(),
                        "{path}: every error has a code: {resp}"
                    );
                }
            }
        }
    }
);

// A nullable field refused by its guard is `null` in `data`, with its error at that path; a
// refused non-null field nulls its nearest nullable ancestor, as the spec asks.
both!(
    a_refused_nullable_field_is_null_with_its_error_at_its_path,
    |app| async move {
        let admin = app.admin().await;
        let member = app
            .create_profile(&admin, person("Ann", "Lee", Some("ann@example.org")))
            .await;
        let set = crate::credentials::set(
            &app,
            &admin,
            json!({ "profileId": member, "username": "annlee", "password": "a long and unusual passphrase" }),
        )
        .await;
        assert!(set["errors"].is_null(), "{set}");
        let reader = app.staff_with("reader", &[]).await;

        let query =
            "query($id: ID!) { profile(id: $id) { displayName portalCredential { username } } }";
        let resp = app.gql(Some(&reader), query, json!({ "id": member })).await;
        assert_eq!(code(&resp), "FORBIDDEN", "{resp}");
        assert_eq!(resp["data"]["profile"]["displayName"], "Ann Lee");
        let credential = resp["data"]["profile"]["portalCredential"]
            .as_object()
            .expect("the credential object");
        assert!(
            credential.contains_key("username") && credential["username"].is_null(),
            "{resp}"
        );
        assert_eq!(
            resp["errors"][0]["path"],
            json!(["profile", "portalCredential", "username"]),
            "{resp}"
        );

        // `passwordIsSet: Boolean!` is refused too, so its nullable parent becomes null.
        let query = "query($id: ID!) { profile(id: $id) { displayName portalCredential { username passwordIsSet } } }";
        let resp = app.gql(Some(&reader), query, json!({ "id": member })).await;
        let profile = resp["data"]["profile"].as_object().expect("profile");
        assert_eq!(profile["displayName"], "Ann Lee");
        assert!(
            profile.contains_key("portalCredential") && profile["portalCredential"].is_null(),
            "{resp}"
        );
        let paths: Vec<&serde_json::Value> = resp["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["path"])
            .collect();
        assert!(
            paths.contains(&&json!(["profile", "portalCredential", "passwordIsSet"])),
            "{resp}"
        );
        // The same key selected twice, through a fragment: still null, whichever part failed.
        let twice = "query($id: ID!) { profile(id: $id) { displayName portalCredential { username } ...F } } fragment F on Profile { portalCredential { passwordIsSet } }";
        let resp = app.gql(Some(&reader), twice, json!({ "id": member })).await;
        let profile = resp["data"]["profile"].as_object().expect("profile");
        assert!(profile["portalCredential"].is_null(), "{resp}");
        assert_eq!(profile["displayName"], "Ann Lee");
        // With the right, nothing is refused.
        let ok = app.gql(Some(&admin), query, json!({ "id": member })).await;
        assert!(ok["errors"].is_null(), "{ok}");
        assert_eq!(
            ok["data"]["profile"]["portalCredential"]["username"],
            "annlee"
        );
    }
);
