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
