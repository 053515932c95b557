//! "View Profile's Portal": IMPERSONATE_MEMBERS opens a read-only member session of at most
//! 15 minutes; it reads `me` with a banner field, cannot change the password, cannot start
//! another view, dies with the staff user's right, and is audited where the member sees it.

use chrono::Duration;
use serde_json::{Value, json};

use memberkey::domain::Right;

use crate::credentials::set;
use crate::helpers::{Backend, TestApp, code, per_backend, person, spawn_app_with_clock};
use crate::ws::WsClient;

const START: &str = "mutation($p: ID!) { startPortalImpersonation(profileId: $p) { impersonation { token expiresAt profile { id displayName } } } }";
const ME: &str =
    "{ me { profile { id } impersonatedBy { username } recentAccess { at staffUsername } } }";
const CHANGE: &str = "mutation { changePassword(currentPassword: \"Harbour-Lantern-Tide-9\", newPassword: \"another long passphrase here\") { changedAt } }";
const PASSWORD: &str = "Harbour-Lantern-Tide-9";

async fn member_with_password(app: &TestApp, admin: &str) -> String {
    let id = app
        .create_profile(
            admin,
            person("Jens", "Hansen", Some("jens@harbour.example")),
        )
        .await;
    let resp = set(
        app,
        admin,
        json!({ "profileId": id, "username": "jens", "password": PASSWORD, "mustChangePassword": false }),
    )
    .await;
    assert!(resp["errors"].is_null(), "{resp}");
    id
}

fn token(resp: &Value) -> String {
    resp["data"]["startPortalImpersonation"]["impersonation"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{resp}"))
        .to_owned()
}

async fn read_only_view(backend: Backend) {
    let (app, clock) = spawn_app_with_clock(backend).await;
    let admin = app.admin().await;
    let id = member_with_password(&app, &admin).await;
    let helper = app
        .staff_with("helpdesk", &[Right::ImpersonateMembers])
        .await;
    let clerk = app.staff_with("clerk", &[Right::ManageProfiles]).await;

    // Only the right opens a view.
    assert_eq!(
        code(&app.gql(Some(&clerk), START, json!({ "p": id })).await),
        "FORBIDDEN"
    );
    assert_eq!(
        code(
            &app.gql(Some(&helper), START, json!({ "p": "999999" }))
                .await
        ),
        "NOT_FOUND"
    );
    let started = app.gql(Some(&helper), START, json!({ "p": id })).await;
    let view = token(&started);
    let expires: chrono::DateTime<chrono::Utc> =
        started["data"]["startPortalImpersonation"]["impersonation"]["expiresAt"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
    assert!(
        expires - clock_now(&clock) <= Duration::minutes(15),
        "{started}"
    );

    // It reads what the member sees, with the banner field, over HTTP and the WebSocket.
    let me = app.gql(Some(&view), ME, json!({})).await;
    assert_eq!(me["data"]["me"]["profile"]["id"], id, "{me}");
    assert_eq!(me["data"]["me"]["impersonatedBy"]["username"], "helpdesk");
    let mut ws = WsClient::connect(&app, Some(&view)).await;
    let over_ws = ws.run(ME, json!({})).await.unwrap();
    assert_eq!(
        over_ws["data"]["me"]["impersonatedBy"]["username"],
        "helpdesk"
    );

    // It changes nothing and cannot start another view, on either transport.
    assert_eq!(
        code(&app.gql(Some(&view), CHANGE, json!({})).await),
        "READ_ONLY_SESSION"
    );
    assert_eq!(
        code(&ws.run(CHANGE, json!({})).await.unwrap()),
        "READ_ONLY_SESSION"
    );
    assert_eq!(
        code(&app.gql(Some(&view), START, json!({ "p": id })).await),
        "FORBIDDEN"
    );

    // The member's own session has no banner, and sees the visit.
    let own = crate::member_login::member_login(&app, "jens", PASSWORD).await;
    let own = own["data"]["memberLogin"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = app.gql(Some(&own), ME, json!({})).await;
    assert_eq!(me["data"]["me"]["impersonatedBy"], Value::Null, "{me}");
    let visits = me["data"]["me"]["recentAccess"].as_array().unwrap();
    assert_eq!(visits.len(), 1, "{me}");
    assert_eq!(visits[0]["staffUsername"], "helpdesk");

    // Signing out of the view is audited as its end.
    let out = app
        .gql(
            Some(&view),
            "mutation { memberLogout { signedOut } }",
            json!({}),
        )
        .await;
    assert_eq!(out["data"]["memberLogout"]["signedOut"], true, "{out}");
    let actions = app
        .gql(
            Some(&admin),
            "query($p: ID!) { auditEvents(profileId: $p) { edges { node { action actorUsername } } } }",
            json!({ "p": id }),
        )
        .await;
    let actions: Vec<(String, String)> = actions["data"]["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["node"]["action"]
                .as_str()
                .unwrap()
                .starts_with("PORTAL_IMPERSONATION")
        })
        .map(|e| {
            (
                e["node"]["action"].as_str().unwrap().to_owned(),
                e["node"]["actorUsername"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            (
                "PORTAL_IMPERSONATION_ENDED".to_owned(),
                "helpdesk".to_owned()
            ),
            (
                "PORTAL_IMPERSONATION_STARTED".to_owned(),
                "helpdesk".to_owned()
            ),
        ]
    );

    // The member's password is as it was: the view changed nothing.
    assert!(app.gql(Some(&own), CHANGE, json!({})).await["errors"].is_null());

    // A new view ends after 15 minutes at most.
    let later = token(&app.gql(Some(&helper), START, json!({ "p": id })).await);
    clock.advance(Duration::minutes(14));
    assert!(app.gql(Some(&later), ME, json!({})).await["errors"].is_null());
    clock.advance(Duration::minutes(2));
    assert_eq!(
        code(&app.gql(Some(&later), ME, json!({})).await),
        "UNAUTHENTICATED"
    );
}
per_backend!(
    a_view_as_the_member_is_read_only_and_audited,
    super::read_only_view
);

/// Taking the right away (or deactivating the staff user) ends their open views at once.
async fn ends_with_the_right(backend: Backend) {
    let (app, _clock) = spawn_app_with_clock(backend).await;
    let admin = app.admin().await;
    let id = member_with_password(&app, &admin).await;
    let helper = app
        .staff_with("helpdesk", &[Right::ImpersonateMembers])
        .await;
    let view = token(&app.gql(Some(&helper), START, json!({ "p": id })).await);
    assert!(app.gql(Some(&view), ME, json!({})).await["errors"].is_null());
    let helper_id = app
        .sql_value::<i64>(
            "SELECT id FROM staff_users WHERE username = 'helpdesk'",
            "id",
        )
        .await;
    let set_rights = app
        .gql(
            Some(&admin),
            "mutation($id: ID!) { setStaffRights(staffUserId: $id, rights: [MANAGE_PROFILES]) { staffUser { rights } } }",
            json!({ "id": helper_id.to_string() }),
        )
        .await;
    assert!(set_rights["errors"].is_null(), "{set_rights}");
    assert_eq!(
        code(&app.gql(Some(&view), ME, json!({})).await),
        "UNAUTHENTICATED"
    );
}
per_backend!(
    a_view_ends_when_the_right_is_taken_away,
    super::ends_with_the_right
);

fn clock_now(clock: &memberkey::domain::ManualClock) -> chrono::DateTime<chrono::Utc> {
    use memberkey::domain::Clock;
    clock.now()
}

async fn a_view_ends_with_its_staff_session(backend: Backend) {
    let (app, _clock) = spawn_app_with_clock(backend).await;
    let admin = app.admin().await;
    let id = member_with_password(&app, &admin).await;
    let helper = app
        .staff_with("helpdesk", &[Right::ImpersonateMembers])
        .await;
    let view = token(&app.gql(Some(&helper), START, json!({ "p": id })).await);
    let me = app.gql(Some(&view), ME, json!({})).await;
    assert_eq!(me["data"]["me"]["profile"]["id"], id, "{me}");
    let mut ws = WsClient::connect(&app, Some(&view)).await;
    // The staff user signs out: the view they opened ends with that session, on every
    // transport, though its own 15 minutes have not run out.
    let out = app
        .gql(
            Some(&helper),
            "mutation { staffLogout { signedOut } }",
            json!({}),
        )
        .await;
    assert!(out["errors"].is_null(), "{out}");
    let me = app.gql(Some(&view), ME, json!({})).await;
    assert_eq!(code(&me), "UNAUTHENTICATED", "{me}");
    match ws.run(ME, json!({})).await {
        Ok(resp) => assert_eq!(code(&resp), "UNAUTHENTICATED", "{resp}"),
        Err(closed) => assert_eq!(closed.code, 4401, "{closed:?}"),
    }
    // A view from a session that lives on is unaffected by another session ending.
    let helper_again = app.login("helpdesk", crate::helpers::STAFF_PASSWORD).await;
    let other = app.login("helpdesk", crate::helpers::STAFF_PASSWORD).await;
    let view = token(
        &app.gql(Some(&helper_again), START, json!({ "p": id }))
            .await,
    );
    app.gql(
        Some(&other),
        "mutation { staffLogout { signedOut } }",
        json!({}),
    )
    .await;
    let me = app.gql(Some(&view), ME, json!({})).await;
    assert_eq!(me["data"]["me"]["profile"]["id"], id, "{me}");
}
per_backend!(
    a_portal_view_ends_with_the_staff_session_that_started_it,
    super::a_view_ends_with_its_staff_session
);
