//! `exportProfileData`: everything memberkey holds about a person in one document, never a
//! secret; guarded alike over HTTP and the WebSocket, and audited.

use serde_json::{Value, json};

use memberkey::domain::Right;

use crate::credentials::set;
use crate::helpers::{both, code, org, person};
use crate::member_login::member_login;
use crate::ws::WsClient;

const EXPORT: &str = "mutation($p: ID!) { exportProfileData(profileId: $p) { document } }";
const ASSIGNED: &str = "violet tram under the bridge";

both!(
    a_persons_data_is_exported_without_secrets,
    |app| async move {
        let admin = app.admin().await;
        let company = app
            .create_profile(
                &admin,
                org("Harbour Shipping", Some("office@shipping.example")),
            )
            .await;
        let mut maria = person("Maria", "Jensen", Some("maria@harbour.example"));
        maria["parentId"] = json!(company);
        let id = app.create_profile(&admin, maria).await;
        let resp = set(
        &app,
        &admin,
        json!({ "profileId": id, "username": "mariaj", "password": ASSIGNED, "mustChangePassword": false }),
    )
    .await;
        assert!(resp["errors"].is_null(), "{resp}");
        let token = member_login(&app, "mariaj", ASSIGNED).await["data"]["memberLogin"]["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let sent = app
            .gql(
                Some(&admin),
                "mutation($p: ID!) { sendPasswordResetEmail(profileId: $p) { sentTo } }",
                json!({ "p": id }),
            )
            .await;
        assert!(sent["errors"].is_null(), "{sent}");
        let mail = app.mail.clone();
        crate::helpers::eventually(std::time::Duration::from_secs(20), move || {
            let mail = mail.clone();
            async move { (mail.sent().len() == 1).then_some(()) }
        })
        .await
        .expect("the reset is sent");

        let resp = app.gql(Some(&admin), EXPORT, json!({ "p": id })).await;
        assert!(resp["errors"].is_null(), "{resp}");
        let raw = resp["data"]["exportProfileData"]["document"]
            .as_str()
            .unwrap();
        let doc: Value = serde_json::from_str(raw).unwrap();
        assert_eq!(doc["format"], "memberkey.profile-export.v1");
        assert_eq!(doc["profile"]["email"], "maria@harbour.example");
        assert_eq!(doc["organisation"]["name"], "Harbour Shipping");
        assert_eq!(doc["portalCredential"]["username"], "mariaj");
        assert_eq!(doc["portalCredential"]["passwordIsSet"], true);
        assert_eq!(doc["portalCredential"]["passwordSetBy"], "STAFF");
        assert_eq!(doc["sessions"].as_array().unwrap().len(), 1, "{doc}");
        let messages = doc["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 1, "{doc}");
        assert_eq!(messages[0]["address"], "maria@harbour.example");
        assert_eq!(messages[0]["status"], "SENT");
        assert_eq!(messages[0]["linkState"], "UNUSED");
        let actions: Vec<&str> = doc["auditEvents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for action in [
            "PROFILE_CREATED",
            "CREDENTIALS_SET",
            "MEMBER_LOGIN",
            "RESET_EMAIL_QUEUED",
        ] {
            assert!(actions.contains(&action), "{action}: {actions:?}");
        }
        // No secret of any kind: not the password, its hash, its sealed copy, nor a token.
        for secret in [ASSIGNED, "$argon2", token.as_str()] {
            assert!(!raw.contains(secret), "{secret} leaked");
        }
        let sealed: Option<String> = app
            .sql_value(
                &format!("SELECT sealed_password FROM portal_credentials WHERE profile_id = {id}"),
                "sealed_password",
            )
            .await;
        assert!(!raw.contains(&sealed.expect("a sealed password")));
        assert_eq!(app.audited("PERSONAL_DATA_EXPORTED").await, 1);

        // The organisation's export lists its people.
        let resp = app.gql(Some(&admin), EXPORT, json!({ "p": company })).await;
        let doc: Value = serde_json::from_str(
            resp["data"]["exportProfileData"]["document"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(doc["relatedPeople"][0]["name"], "Maria Jensen", "{doc}");
        assert_eq!(doc["portalCredential"], Value::Null);

        // Unknown profile: NOT_FOUND.
        assert_eq!(
            code(
                &app.gql(Some(&admin), EXPORT, json!({ "p": "999999" }))
                    .await
            ),
            "NOT_FOUND"
        );
    }
);

both!(
    exporting_a_persons_data_needs_the_right_on_both_transports,
    |app| async move {
        let admin = app.admin().await;
        let id = app
            .create_profile(&admin, person("Ida", "Lind", Some("ida@harbour.example")))
            .await;
        let clerk = app
            .staff_with("clerk", &[Right::ManageProfiles, Right::ViewAuditLog])
            .await;
        let vars = json!({ "p": id });
        assert_eq!(
            code(&app.gql(Some(&clerk), EXPORT, vars.clone()).await),
            "FORBIDDEN"
        );
        assert_eq!(
            code(&app.gql(None, EXPORT, vars.clone()).await),
            "UNAUTHENTICATED"
        );
        let mut socket = WsClient::connect(&app, Some(&clerk)).await;
        assert_eq!(
            code(&socket.run(EXPORT, vars.clone()).await.unwrap()),
            "FORBIDDEN"
        );
        let mut anonymous = WsClient::connect(&app, None).await;
        assert_eq!(
            code(&anonymous.run(EXPORT, vars.clone()).await.unwrap()),
            "UNAUTHENTICATED"
        );
        assert_eq!(app.audited("PERSONAL_DATA_EXPORTED").await, 0);

        let officer = app
            .staff_with("officer", &[Right::ManagePersonalData])
            .await;
        let mut socket = WsClient::connect(&app, Some(&officer)).await;
        let resp = socket.run(EXPORT, vars).await.unwrap();
        let doc: Value = serde_json::from_str(
            resp["data"]["exportProfileData"]["document"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(doc["profile"]["firstName"], "Ida");
        assert_eq!(app.audited("PERSONAL_DATA_EXPORTED").await, 1);
    }
);
