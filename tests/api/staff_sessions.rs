//! A staff user's session list on both databases: each session with where it was opened
//! from, ending one of one's own (never someone else's), and MANAGE_STAFF ending all of
//! another user's, over HTTP and the WebSocket.

use serde_json::{Value, json};

use memberkey::domain::Right;

use crate::helpers::{Backend, TestApp, code, per_backend, spawn_app};
use crate::ws::WsClient;

const PASSWORD: &str = "correct horse battery staple";
const SESSIONS: &str = "{ staffSessions { id createdAt lastUsedAt clientIp userAgent current } }";
const REVOKE: &str = "mutation($id: ID!) { revokeStaffSession(id: $id) { revokedSessionId } }";
const REVOKE_ALL: &str =
    "mutation($id: ID!) { revokeAllStaffSessions(staffUserId: $id) { revokedCount } }";

/// Signs in from a client that names itself `agent`.
async fn sign_in_as(app: &TestApp, username: &str, agent: &str) -> String {
    let client = reqwest::Client::builder()
        .user_agent(agent)
        .build()
        .unwrap();
    crate::support::staff_token(&client, &app.url("/graphql"), username, PASSWORD).await
}

fn sessions(resp: &Value) -> Vec<Value> {
    resp["data"]["staffSessions"]
        .as_array()
        .unwrap_or_else(|| panic!("{resp}"))
        .clone()
}

async fn session_list(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    app.staff_with("clerk", &[Right::ManageProfiles]).await;
    let office = sign_in_as(&app, "clerk", "Office browser").await;
    let laptop = sign_in_as(&app, "clerk", "Home laptop").await;

    let list = sessions(&app.gql(Some(&office), SESSIONS, json!({})).await);
    // staff_with signed in once too, without a User-Agent.
    assert_eq!(list.len(), 3, "{list:?}");
    let current: Vec<&Value> = list.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["userAgent"], "Office browser");
    assert_eq!(current[0]["clientIp"], "127.0.0.1");
    let home = list
        .iter()
        .find(|s| s["userAgent"] == "Home laptop")
        .unwrap()["id"]
        .clone();
    // Over the WebSocket the same list.
    let mut ws = WsClient::connect(&app, Some(&office)).await;
    let over_ws = ws.run(SESSIONS, json!({})).await.unwrap();
    assert_eq!(sessions(&over_ws).len(), 3);

    // End the laptop's session from the office: the laptop is signed out, and its open
    // socket closes at its next operation.
    let mut laptop_ws = WsClient::connect(&app, Some(&laptop)).await;
    let ended = app.gql(Some(&office), REVOKE, json!({ "id": home })).await;
    assert_eq!(
        ended["data"]["revokeStaffSession"]["revokedSessionId"], home,
        "{ended}"
    );
    assert_eq!(
        code(&app.gql(Some(&laptop), SESSIONS, json!({})).await),
        "UNAUTHENTICATED"
    );
    let closed = laptop_ws.run(SESSIONS, json!({})).await;
    assert_eq!(closed.map_err(|c| c.code), Err(4401));
    assert_eq!(
        sessions(&app.gql(Some(&office), SESSIONS, json!({})).await).len(),
        2
    );
    // Someone else's session, or one already ended, is not the caller's to end.
    let admin_session =
        sessions(&app.gql(Some(&admin), SESSIONS, json!({})).await)[0]["id"].clone();
    assert_eq!(
        code(
            &app.gql(Some(&office), REVOKE, json!({ "id": admin_session }))
                .await
        ),
        "NOT_FOUND"
    );
    assert_eq!(
        code(&app.gql(Some(&office), REVOKE, json!({ "id": home })).await),
        "NOT_FOUND"
    );
    assert_eq!(
        code(&app.gql(Some(&office), REVOKE, json!({ "id": "x" })).await),
        "BAD_USER_INPUT"
    );

    // MANAGE_STAFF ends all of the clerk's sessions; the clerk cannot do it to the admin.
    let users = app
        .gql(Some(&admin), "{ staffUsers { id username } }", json!({}))
        .await;
    let id_of = |name: &str| {
        users["data"]["staffUsers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == name)
            .unwrap()["id"]
            .clone()
    };
    let forbidden = app
        .gql(Some(&office), REVOKE_ALL, json!({ "id": id_of("admin") }))
        .await;
    assert_eq!(code(&forbidden), "FORBIDDEN");
    let mut ws = WsClient::connect(&app, Some(&office)).await;
    assert_eq!(
        code(
            &ws.run(REVOKE_ALL, json!({ "id": id_of("admin") }))
                .await
                .unwrap()
        ),
        "FORBIDDEN"
    );
    let all = app
        .gql(Some(&admin), REVOKE_ALL, json!({ "id": id_of("clerk") }))
        .await;
    assert_eq!(
        all["data"]["revokeAllStaffSessions"]["revokedCount"], 2,
        "{all}"
    );
    assert_eq!(
        code(&app.gql(Some(&office), SESSIONS, json!({})).await),
        "UNAUTHENTICATED"
    );
    // Both ends are in the audit log.
    for action in ["STAFF_SESSION_REVOKED", "STAFF_SESSIONS_REVOKED"] {
        let resp = app
            .gql(
                Some(&admin),
                "query($a: String) { auditEvents(action: $a) { totalCount } }",
                json!({ "a": action }),
            )
            .await;
        assert_eq!(
            resp["data"]["auditEvents"]["totalCount"], 1,
            "{action}: {resp}"
        );
    }
}
per_backend!(staff_see_their_sessions_and_end_them, super::session_list);
