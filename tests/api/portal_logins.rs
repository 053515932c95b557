//! "Create Portal Logins": usernames from names for every selected profile without
//! credentials, a dry run that changes nothing, profiles with credentials untouched, audited,
//! guarded alike over HTTP and the WebSocket.

use serde_json::{Value, json};

use memberkey::domain::Right;

use crate::credentials::set;
use crate::helpers::{TestApp, both, code, org, person};
use crate::ws::WsClient;

const CREATE: &str = "mutation($i: CreatePortalLoginsInput!) { createPortalLogins(input: $i) { created skipped dryRun examples { profile { id displayName } username } } }";
const CREDENTIAL: &str =
    "query($id: ID!) { profile(id: $id) { portalCredential { username passwordIsSet } } }";

async fn create_logins(app: &TestApp, token: &str, filter: Value, dry_run: bool) -> Value {
    let resp = app
        .gql(
            Some(token),
            CREATE,
            json!({ "i": { "filter": filter, "dryRun": dry_run } }),
        )
        .await;
    assert!(resp["errors"].is_null(), "{resp}");
    resp["data"]["createPortalLogins"].clone()
}

async fn credential(app: &TestApp, token: &str, id: &str) -> Value {
    let resp = app.gql(Some(token), CREDENTIAL, json!({ "id": id })).await;
    resp["data"]["profile"]["portalCredential"].clone()
}

both!(
    staff_create_portal_logins_for_everyone_without,
    |app| async move {
        let admin = app.admin().await;
        let maria = app
            .create_profile(
                &admin,
                person("Maria", "Jensen", Some("maria@harbour.example")),
            )
            .await;
        let other_maria = app
            .create_profile(
                &admin,
                person("María", "Jénsen", Some("mj@harbour.example")),
            )
            .await;
        let soren = app
            .create_profile(&admin, person("Søren", "Ærø", None))
            .await;
        let shipping = app
            .create_profile(
                &admin,
                org("Harbour Shipping A/S", Some("office@shipping.example")),
            )
            .await;
        // Already has a login: untouched. Its username takes the plain form of Maria's.
        let ole = app
            .create_profile(&admin, person("Ole", "Dal", Some("ole@harbour.example")))
            .await;
        let resp = set(
        &app,
        &admin,
        json!({ "profileId": ole, "username": "maria.jensen", "password": "Tidal-Harbour-Lantern-42", "mustChangePassword": false }),
    )
    .await;
        assert!(resp["errors"].is_null(), "{resp}");

        // The dry run says what would happen and changes nothing.
        let everyone = json!({});
        let look = create_logins(&app, &admin, everyone.clone(), true).await;
        assert_eq!(look["created"], 4, "{look}");
        assert_eq!(look["skipped"], 1);
        assert_eq!(look["dryRun"], true);
        let made: Vec<(String, String)> = look["examples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["profile"]["id"].as_str().unwrap().to_owned(),
                    e["username"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            made,
            vec![
                (maria.clone(), "maria.jensen2".to_owned()),
                (other_maria.clone(), "maria.jensen3".to_owned()),
                (soren.clone(), "soren.aero".to_owned()),
                (shipping.clone(), "harbour.shipping.a.s".to_owned()),
            ]
        );
        assert_eq!(credential(&app, &admin, &maria).await, Value::Null);
        assert_eq!(app.audited("PORTAL_LOGINS_CREATED").await, 0);

        // The real run does exactly that: usernames, no passwords, each audited.
        let done = create_logins(&app, &admin, everyone.clone(), false).await;
        assert_eq!(done["examples"], look["examples"]);
        assert_eq!(
            (done["created"].clone(), done["skipped"].clone()),
            (json!(4), json!(1))
        );
        assert_eq!(done["dryRun"], false);
        for (id, username) in &made {
            let c = credential(&app, &admin, id).await;
            assert_eq!(c["username"], username.as_str());
            assert_eq!(c["passwordIsSet"], false);
        }
        assert_eq!(
            credential(&app, &admin, &ole).await["username"],
            "maria.jensen"
        );
        assert_eq!(app.audited("PORTAL_LOGINS_CREATED").await, 1);
        let audited: i64 = app
        .sql_value(
            "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'CREDENTIALS_SET' AND detail LIKE '%CREATE_PORTAL_LOGINS%'",
            "n",
        )
        .await;
        assert_eq!(audited, 4);

        // Again: everyone has a login now.
        let again = create_logins(&app, &admin, everyone, false).await;
        assert_eq!(
            (again["created"].clone(), again["skipped"].clone()),
            (json!(0), json!(5))
        );

        // The members can get their password by link now: the username is their login.
        let link = app
            .gql(
                Some(&admin),
                "mutation($p: ID!) { issueCredentialsLink(profileId: $p) { url } }",
                json!({ "p": soren }),
            )
            .await;
        assert!(link["errors"].is_null(), "{link}");
    }
);

both!(a_filter_narrows_who_gets_a_login, |app| async move {
    let admin = app.admin().await;
    let person_id = app
        .create_profile(&admin, person("Ida", "Lind", Some("ida@harbour.example")))
        .await;
    let org_id = app
        .create_profile(&admin, org("Lind Consulting", Some("lind@harbour.example")))
        .await;
    let done = create_logins(&app, &admin, json!({ "kind": "INDIVIDUAL" }), false).await;
    assert_eq!(done["created"], 1, "{done}");
    assert_eq!(
        credential(&app, &admin, &person_id).await["username"],
        "ida.lind"
    );
    assert_eq!(credential(&app, &admin, &org_id).await, Value::Null);
});

both!(
    creating_portal_logins_needs_the_right_on_both_transports,
    |app| async move {
        let admin = app.admin().await;
        let id = app
            .create_profile(&admin, person("Ida", "Lind", Some("ida@harbour.example")))
            .await;
        let clerk = app.staff_with("clerk", &[Right::ManageProfiles]).await;
        let vars = json!({ "i": { "filter": {}, "dryRun": false } });
        assert_eq!(
            code(&app.gql(Some(&clerk), CREATE, vars.clone()).await),
            "FORBIDDEN"
        );
        assert_eq!(
            code(&app.gql(None, CREATE, vars.clone()).await),
            "UNAUTHENTICATED"
        );
        let mut socket = WsClient::connect(&app, Some(&clerk)).await;
        let resp = socket.run(CREATE, vars.clone()).await.unwrap();
        assert_eq!(code(&resp), "FORBIDDEN", "{resp}");
        let mut anonymous = WsClient::connect(&app, None).await;
        let resp = anonymous.run(CREATE, vars.clone()).await.unwrap();
        assert_eq!(code(&resp), "UNAUTHENTICATED", "{resp}");
        assert_eq!(credential(&app, &admin, &id).await, Value::Null);

        // With the right, over the socket too.
        let manager = app
            .staff_with(
                "manager",
                &[Right::ManagePortalCredentials, Right::ManageProfiles],
            )
            .await;
        let mut socket = WsClient::connect(&app, Some(&manager)).await;
        let resp = socket.run(CREATE, vars).await.unwrap();
        assert_eq!(resp["data"]["createPortalLogins"]["created"], 1, "{resp}");
        assert_eq!(credential(&app, &admin, &id).await["username"], "ida.lind");
    }
);
