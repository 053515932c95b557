//! Per-communication senders: staff choose who a mass communication comes from (the name on
//! From and the Reply-To) among the senders the settings allow; anything else is refused, and
//! a draft whose sender the settings have since dropped cannot be sent.

use memberkey::domain::{EmailAddress, MailSender};
use serde_json::json;

use crate::helpers::{Backend, TestApp, code, per_backend, person, spawn_app_with};
use crate::mass::{SEND, create, create_ok, wait_done};

/// The sender the tests allow besides the default one.
pub fn events() -> MailSender {
    MailSender {
        name: "Harbour Chamber Events".into(),
        reply_to: EmailAddress::parse("events@chamber.example").unwrap(),
    }
}

const SENDERS: &str = "{ mailSenders { id name replyTo } }";
const SENDER_OF: &str =
    "query($id: ID!) { massCommunication(id: $id) { sender { id name replyTo } } }";
const UPDATE: &str = "mutation($i: UpdateMassCommunicationInput!) { updateMassCommunication(input: $i) { massCommunication { sender { id } } } }";

/// Updates a draft with `changes` and returns the id of its sender afterwards.
async fn sender_after_update(app: &TestApp, admin: &str, changes: serde_json::Value) -> String {
    let resp = app.gql(Some(admin), UPDATE, json!({ "i": changes })).await;
    resp["data"]["updateMassCommunication"]["massCommunication"]["sender"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{resp}"))
        .to_owned()
}

async fn app_with_senders(backend: Backend) -> TestApp {
    spawn_app_with(backend, |c| {
        c.mail.reply_to = Some("office@chamber.example".into());
        c.mail.senders = vec![
            events(),
            MailSender {
                name: "Membership Desk".into(),
                reply_to: EmailAddress::parse("members@chamber.example").unwrap(),
            },
        ];
    })
    .await
}

async fn senders_are_chosen_from_the_allowed_list(backend: Backend) {
    let app = app_with_senders(backend).await;
    let admin = app.admin().await;

    // The choices, default first, over HTTP and the same over the WebSocket.
    let resp = app.gql(Some(&admin), SENDERS, json!({})).await;
    let choices = json!([
        { "id": "default", "name": "Harbour Chamber", "replyTo": "office@chamber.example" },
        { "id": "events@chamber.example", "name": "Harbour Chamber Events", "replyTo": "events@chamber.example" },
        { "id": "members@chamber.example", "name": "Membership Desk", "replyTo": "members@chamber.example" },
    ]);
    assert_eq!(resp["data"]["mailSenders"], choices, "{resp}");
    let mut ws = crate::ws::WsClient::connect(&app, Some(&admin)).await;
    let over_ws = ws.run(SENDERS, json!({})).await.unwrap();
    assert_eq!(over_ws["data"]["mailSenders"], choices, "{over_ws}");
    // Only those who may send mass mail see them.
    let clerk = app.staff_with("clerk", &[]).await;
    let resp = app.gql(Some(&clerk), SENDERS, json!({})).await;
    assert_eq!(code(&resp), "FORBIDDEN", "{resp}");

    let ann = app
        .create_profile(&admin, person("Ann", "Lee", Some("ann@example.org")))
        .await;
    let input = |sender: &str| json!({ "subject": "Summer fair", "html": "<p>Dear {{first_name}}</p>", "sender": sender, "recipients": { "profileIds": [ann] } });

    // Anything not on the list is refused, whatever it looks like.
    for bad in ["ceo@chamber.example", "Harbour Chamber Events", ""] {
        let resp = create(&app, &admin, input(bad)).await;
        assert_eq!(code(&resp), "BAD_USER_INPUT", "{bad}: {resp}");
        assert_eq!(resp["errors"][0]["extensions"]["field"], "input.sender");
    }

    // A chosen sender is saved with the draft, and kept by an update that leaves it out.
    let id = create_ok(&app, &admin, input("Events@chamber.example")).await;
    let resp = app.gql(Some(&admin), SENDER_OF, json!({ "id": id })).await;
    assert_eq!(
        resp["data"]["massCommunication"]["sender"],
        json!({ "id": "events@chamber.example", "name": "Harbour Chamber Events", "replyTo": "events@chamber.example" })
    );
    let kept = sender_after_update(
        &app,
        &admin,
        json!({ "id": id, "subject": "Summer fair, 4 July" }),
    )
    .await;
    assert_eq!(kept, "events@chamber.example");

    // Each message goes out under it.
    let resp = app.gql(Some(&admin), SEND, json!({ "id": id })).await;
    assert!(resp["errors"].is_null(), "{resp}");
    wait_done(&app, &admin, &id).await;
    let sent = app.mail.sent();
    let mail = sent.iter().find(|m| m.to == "ann@example.org").unwrap();
    assert_eq!(mail.sender, Some(events()));

    // Back to the default sender: a draft without one.
    let other = create_ok(&app, &admin, input("members@chamber.example")).await;
    let back = sender_after_update(&app, &admin, json!({ "id": other, "sender": "default" })).await;
    assert_eq!(back, "default");
}
per_backend!(
    staff_choose_a_sender_from_the_allowed_list,
    super::senders_are_chosen_from_the_allowed_list
);

async fn a_dropped_sender_stops_the_send(backend: Backend) {
    let app = app_with_senders(backend).await;
    let admin = app.admin().await;
    let ann = app
        .create_profile(&admin, person("Ann", "Lee", Some("ann@example.org")))
        .await;
    let id = create_ok(
        &app,
        &admin,
        json!({ "subject": "Summer fair", "html": "<p>Hi</p>", "sender": "events@chamber.example", "recipients": { "profileIds": [ann] } }),
    )
    .await;
    // As if the settings had dropped this sender since the draft was saved.
    app.sql_exec(&format!(
        "UPDATE mass_communications SET sender_reply_to = 'old-events@chamber.example' WHERE id = {id}"
    ))
    .await;
    let resp = app.gql(Some(&admin), SEND, json!({ "id": id })).await;
    assert_eq!(code(&resp), "CONFLICT", "{resp}");
    assert!(app.mail.sent().is_empty());
    let status: String = app
        .sql_value(
            &format!("SELECT status FROM mass_communications WHERE id = {id}"),
            "status",
        )
        .await;
    assert_eq!(status, "DRAFT");
    // Choosing an allowed sender again makes it sendable.
    let chosen = sender_after_update(
        &app,
        &admin,
        json!({ "id": id, "sender": "events@chamber.example" }),
    )
    .await;
    assert_eq!(chosen, "events@chamber.example");
    let resp = app.gql(Some(&admin), SEND, json!({ "id": id })).await;
    assert!(resp["errors"].is_null(), "{resp}");
}
per_backend!(
    a_sender_the_settings_dropped_cannot_send,
    super::a_dropped_sender_stops_the_send
);
