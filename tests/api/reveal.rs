//! The view-passwords right: only a staff-assigned password still in force can be shown.

use memberkey::domain::Right;
use serde_json::json;

use crate::credentials::set;
use crate::helpers::{Backend, TestApp, both, code, per_backend, person, spawn_app_with};
use crate::member_login::member_login;

const ASSIGNED: &str = "violet tram under the bridge";
const SHOW: &str =
    "query($id: ID!) { profile(id: $id) { portalCredential { username password } } }";

async fn sealed_column(app: &TestApp) -> Option<String> {
    app.sql_value(
        "SELECT sealed_password FROM portal_credentials",
        "sealed_password",
    )
    .await
}

both!(
    assigned_passwords_are_shown_until_the_member_chooses_one,
    |app| async move {
        let admin = app.admin().await;
        let clerk = app
            .staff_with("clerk", &[Right::ManagePortalCredentials])
            .await;
        let id = app.create_profile(&admin, person("Ann", "Lee", None)).await;

        let saved = app
        .gql(
            Some(&admin),
            "mutation($i: SetPortalCredentialsInput!) { setPortalCredentials(input: $i) { credential { password passwordIsSet } } }",
            json!({ "i": { "profileId": id, "username": "annlee", "password": ASSIGNED } }),
        )
        .await;
        assert!(
            saved["data"]["setPortalCredentials"]["credential"]["password"].is_null(),
            "blank after saving: {saved}"
        );
        assert!(!saved.to_string().contains(ASSIGNED));

        let shown = app.gql(Some(&admin), SHOW, json!({ "id": id })).await;
        assert_eq!(
            shown["data"]["profile"]["portalCredential"]["password"],
            ASSIGNED
        );
        let sealed = sealed_column(&app).await.expect("sealed copy");
        assert!(!sealed.contains(ASSIGNED) && !sealed.contains("violet"));

        // Without the right: FORBIDDEN on that field only.
        let denied = app.gql(Some(&clerk), SHOW, json!({ "id": id })).await;
        assert_eq!(code(&denied), "FORBIDDEN");
        assert_eq!(
            denied["errors"][0]["path"],
            json!(["profile", "portalCredential", "password"])
        );
        assert_eq!(
            denied["data"]["profile"]["portalCredential"]["username"],
            "annlee"
        );

        // The member chooses their own: the sealed copy is destroyed.
        let token = member_login(&app, "annlee", ASSIGNED).await["data"]["memberLogin"]["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let change = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { changedAt } }";
        assert!(
            app.gql(
                Some(&token),
                change,
                json!({ "c": ASSIGNED, "n": "my own secret phrase" })
            )
            .await["data"]["changePassword"]["changedAt"]
                .is_string()
        );
        let after = app.gql(Some(&admin), SHOW, json!({ "id": id })).await;
        assert!(after["data"]["profile"]["portalCredential"]["password"].is_null());
        assert!(sealed_column(&app).await.is_none());

        let audit = app
            .gql(
                Some(&admin),
                "query($id: ID) { auditEvents(profileId: $id) { edges { node { action } } } }",
                json!({ "id": id }),
            )
            .await;
        let reveals = audit["data"]["auditEvents"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["node"]["action"] == "PASSWORD_REVEALED")
            .count();
        assert_eq!(reveals, 1, "one reveal happened and was audited");
    }
);

async fn reveal_off(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.reveal_assigned_passwords = false).await;
    let admin = app.admin().await;
    let id = app.create_profile(&admin, person("Ann", "Lee", None)).await;
    set(
        &app,
        &admin,
        json!({ "profileId": id, "username": "annlee", "password": ASSIGNED }),
    )
    .await;
    let shown = app.gql(Some(&admin), SHOW, json!({ "id": id })).await;
    assert!(shown["data"]["profile"]["portalCredential"]["password"].is_null());
    assert!(
        sealed_column(&app).await.is_none(),
        "nothing is sealed when revealing is off"
    );
}

per_backend!(reveal_can_be_turned_off, super::reveal_off);
