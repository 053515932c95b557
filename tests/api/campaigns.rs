//! Campaigns that finish the job: each link's real state (used, unused, expired, replaced),
//! the conversion counts, the ledger filtered by link state, and the list of communications
//! with duplicate and delete.

use chrono::Duration;
use memberkey::domain::Right;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, both, code, per_backend, person, spawn_app_with_clock};
use crate::mass::{SEND, create, create_ok, wait_done};
use crate::resets::{NEW_PASSWORD, links, send_reset, set_with_token, token_of};
use crate::ws::WsClient;

const LEDGER: &str = "query($id: ID!, $link: LinkState) { massCommunication(id: $id) { counts { sent linkUsed linkUnused linkExpired linkReplaced } deliveries(first: 50, linkState: $link) { edges { node { email recipientName linkState } } } } }";

async fn ledger(app: &TestApp, token: &str, id: &str, link: Option<&str>) -> Value {
    let resp = app
        .gql(Some(token), LEDGER, json!({ "id": id, "link": link }))
        .await;
    assert!(resp["errors"].is_null(), "{resp}");
    resp["data"]["massCommunication"].clone()
}

fn counts(v: &Value) -> [i64; 4] {
    let c = &v["counts"];
    ["linkUsed", "linkUnused", "linkExpired", "linkReplaced"].map(|k| c[k].as_i64().unwrap())
}

fn names(v: &Value) -> Vec<String> {
    v["deliveries"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["recipientName"].as_str().unwrap_or("").to_owned())
        .collect()
}

async fn link_states(backend: Backend) {
    let (app, clock) = spawn_app_with_clock(backend).await;
    let admin = app.admin().await;
    let mut ids = Vec::new();
    for (first, email) in [
        ("Ann", "ann@example.org"),
        ("Bo", "bo@example.org"),
        ("Cy", "cy@example.org"),
    ] {
        ids.push(
            app.create_profile(&admin, person(first, "Berg", Some(email)))
                .await,
        );
    }
    let mass = create_ok(
        &app,
        &admin,
        json!({ "subject": "Your portal", "html": "<p>{{portal_login_credentials_link}}</p>", "recipients": { "profileIds": ids } }),
    )
    .await;
    app.gql(Some(&admin), SEND, json!({ "id": mass })).await;
    wait_done(&app, &admin, &mass).await;
    let mail = app.mail.sent();
    let link_of = |to: &str| {
        let m = mail
            .iter()
            .find(|m| m.to == to)
            .expect("a copy for each recipient");
        token_of(&links(m)[0])
    };
    // Ann sets her password with her link; Bo is sent a newer link, which retires his.
    let used = set_with_token(&app, &link_of("ann@example.org"), NEW_PASSWORD).await;
    assert!(used["errors"].is_null(), "{used}");
    assert!(send_reset(&app, &admin, &ids[1]).await["errors"].is_null());
    app.mail
        .wait_for(4, std::time::Duration::from_secs(20))
        .await;
    app.app.drain_mail().await.unwrap();

    let now = ledger(&app, &admin, &mass, None).await;
    assert_eq!(
        counts(&now),
        [1, 1, 0, 1],
        "used, unused, expired, replaced: {now}"
    );
    let replaced = ledger(&app, &admin, &mass, Some("REPLACED")).await;
    assert_eq!(names(&replaced), ["Bo Berg"], "{replaced}");
    assert_eq!(
        replaced["deliveries"]["edges"][0]["node"]["email"],
        "bo@example.org"
    );
    let unused = ledger(&app, &admin, &mass, Some("UNUSED")).await;
    assert_eq!(names(&unused), ["Cy Berg"], "{unused}");

    // A week and a day later Cy's link has run out; the others keep their states.
    clock.advance(Duration::days(8));
    let staff = app
        .staff_with("reader", &[Right::SendMassCommunications])
        .await;
    let later = ledger(&app, &staff, &mass, None).await;
    assert_eq!(counts(&later), [1, 0, 1, 1], "{later}");
    let expired = ledger(&app, &staff, &mass, Some("EXPIRED")).await;
    assert_eq!(names(&expired), ["Cy Berg"], "{expired}");
    assert_eq!(
        names(&ledger(&app, &staff, &mass, Some("USED")).await),
        ["Ann Berg"]
    );
}
per_backend!(each_link_shows_what_became_of_it, super::link_states);

const LIST: &str = "query($status: MassCommunicationStatus, $search: String, $first: Int = 20, $after: String) { massCommunications(status: $status, search: $search, first: $first, after: $after) { totalCount edges { cursor node { id subject status } } pageInfo { hasNextPage endCursor } } }";

async fn list(app: &TestApp, token: &str, vars: Value) -> Value {
    let resp = app.gql(Some(token), LIST, vars).await;
    assert!(resp["errors"].is_null(), "{resp}");
    resp["data"]["massCommunications"].clone()
}

fn subjects(page: &Value) -> Vec<String> {
    page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["subject"].as_str().unwrap().to_owned())
        .collect()
}

both!(
    communications_are_listed_duplicated_and_deleted,
    |app| async move {
        let token = app.admin().await;
        let id = app
            .create_profile(&token, person("Ann", "Lee", Some("ann@example.org")))
            .await;
        let input = |subject: &str| json!({ "subject": subject, "html": "<p>Hi</p>", "recipients": { "profileIds": [id] } });
        let spring = create_ok(&app, &token, input("Spring news")).await;
        let autumn = create_ok(&app, &token, input("Autumn portal invite")).await;
        app.gql(Some(&token), SEND, json!({ "id": autumn })).await;

        let first = list(&app, &token, json!({ "first": 1 })).await;
        assert_eq!(first["totalCount"], 2);
        assert_eq!(subjects(&first), ["Autumn portal invite"], "newest first");
        assert_eq!(first["pageInfo"]["hasNextPage"], true);
        let next = list(
            &app,
            &token,
            json!({ "first": 1, "after": first["pageInfo"]["endCursor"] }),
        )
        .await;
        assert_eq!(subjects(&next), ["Spring news"]);
        assert_eq!(next["pageInfo"]["hasNextPage"], false);
        let drafts = list(&app, &token, json!({ "status": "DRAFT" })).await;
        assert_eq!(
            (subjects(&drafts), drafts["totalCount"].clone()),
            (vec!["Spring news".to_owned()], json!(1))
        );
        let found = list(&app, &token, json!({ "search": "AUTUMN" })).await;
        assert_eq!(
            subjects(&found),
            ["Autumn portal invite"],
            "search ignores case"
        );
        let none = list(&app, &token, json!({ "search": "100%_" })).await;
        assert_eq!(
            none["totalCount"], 0,
            "wildcards in the term are plain characters"
        );

        // A reminder starts as a copy of what was sent.
        let dup = app
        .gql(Some(&token), "mutation($id: ID!) { duplicateMassCommunication(id: $id) { massCommunication { id subject status html } } }", json!({ "id": autumn }))
        .await;
        let copy = &dup["data"]["duplicateMassCommunication"]["massCommunication"];
        assert_eq!(copy["subject"], "Autumn portal invite", "{dup}");
        assert_eq!(copy["status"], "DRAFT");
        assert_ne!(copy["id"], json!(autumn));

        let delete = "mutation($id: ID!) { deleteMassCommunication(id: $id) { deletedId } }";
        let refused = app.gql(Some(&token), delete, json!({ "id": autumn })).await;
        assert_eq!(
            code(&refused),
            "CONFLICT",
            "a sent communication is a record: {refused}"
        );
        let deleted = app.gql(Some(&token), delete, json!({ "id": spring })).await;
        assert_eq!(
            deleted["data"]["deleteMassCommunication"]["deletedId"],
            json!(spring),
            "{deleted}"
        );
        let gone = app
            .gql(
                Some(&token),
                "query($id: ID!) { massCommunication(id: $id) { id } }",
                json!({ "id": spring }),
            )
            .await;
        assert_eq!(code(&gone), "NOT_FOUND", "{gone}");
        assert_eq!(
            list(&app, &token, json!({})).await["totalCount"],
            2,
            "the sent one and its copy"
        );

        // The right is needed for all of it, over HTTP and over the WebSocket alike.
        let clerk = app.staff_with("clerk", &[Right::ManageProfiles]).await;
        let denied = app.gql(Some(&clerk), LIST, json!({})).await;
        assert_eq!(code(&denied), "FORBIDDEN", "{denied}");
        let mut socket = WsClient::connect(&app, Some(&clerk)).await;
        let denied = socket.run(LIST, json!({})).await.expect("answered");
        assert_eq!(code(&denied), "FORBIDDEN", "{denied}");
        let mut socket = WsClient::connect(&app, Some(&token)).await;
        let listed = socket.run(LIST, json!({})).await.expect("answered");
        assert_eq!(
            listed["data"]["massCommunications"]["totalCount"], 2,
            "{listed}"
        );
    }
);

both!(
    a_reminder_reaches_exactly_those_who_did_not_act,
    |app| async move {
        let admin = app.admin().await;
        let mut ids = Vec::new();
        for i in 0..5 {
            let email = format!("member{i}@example.org");
            ids.push(
                app.create_profile(&admin, person(&format!("M{i}"), "Lund", Some(&email)))
                    .await,
            );
        }
        let first = create_ok(
        &app,
        &admin,
        json!({ "subject": "Your portal", "html": "<p>{{portal_login_credentials_link}}</p>", "recipients": { "profileIds": ids } }),
    )
    .await;
        app.gql(Some(&admin), SEND, json!({ "id": first })).await;
        wait_done(&app, &admin, &first).await;
        // Two of the five set their passwords.
        for to in ["member0@example.org", "member3@example.org"] {
            let mail = app.mail.sent();
            let m = mail.iter().find(|m| m.to == to).expect("a copy each");
            let done = set_with_token(&app, &token_of(&links(m)[0]), NEW_PASSWORD).await;
            assert!(done["errors"].is_null(), "{done}");
        }
        let converted = ledger(&app, &admin, &first, None).await;
        assert_eq!(counts(&converted), [2, 3, 0, 0], "{converted}");

        // The reminder: everyone from the first communication whose link is unused or expired.
        let reminder = create_ok(
        &app,
        &admin,
        json!({ "subject": "Reminder: your portal", "html": "<p>{{portal_login_credentials_link}}</p>",
                "recipients": { "filter": { "fromCommunication": { "id": first, "linkStates": ["UNUSED", "EXPIRED"] } } } }),
    )
    .await;
        let sent = app.gql(Some(&admin), SEND, json!({ "id": reminder })).await;
        assert_eq!(
            sent["data"]["sendMassCommunication"]["massCommunication"]["counts"]["total"], 3,
            "{sent}"
        );
        wait_done(&app, &admin, &reminder).await;
        let mut to: Vec<String> = app
            .mail
            .sent()
            .iter()
            .filter(|m| m.subject.starts_with("Reminder"))
            .map(|m| m.to.clone())
            .collect();
        to.sort();
        assert_eq!(
            to,
            [
                "member1@example.org",
                "member2@example.org",
                "member4@example.org"
            ],
            "exactly the three who did not act"
        );
        // The same people by what their credentials say: no password yet, never signed in.
        let preview = "mutation($i: CreateMassCommunicationInput!) { createMassCommunication(input: $i) { massCommunication { id } } }";
        let by_state = app
        .gql(Some(&admin), preview, json!({ "i": { "subject": "S", "html": "<p>Hi</p>", "recipients": { "filter": { "hasPassword": false, "signedIn": false, "memberStatuses": ["ACTIVE"] } } } }))
        .await;
        let by_state = by_state["data"]["createMassCommunication"]["massCommunication"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let queued = app.gql(Some(&admin), SEND, json!({ "id": by_state })).await;
        assert_eq!(
            queued["data"]["sendMassCommunication"]["massCommunication"]["counts"]["total"], 3,
            "{queued}"
        );
        // A filter naming a communication that does not exist is refused when saved.
        let unknown = create(
        &app,
        &admin,
        json!({ "subject": "S", "html": "<p>Hi</p>", "recipients": { "filter": { "fromCommunication": { "id": "999999" } } } }),
    )
    .await;
        assert_eq!(code(&unknown), "NOT_FOUND", "{unknown}");
    }
);
