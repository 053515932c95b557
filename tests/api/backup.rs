//! `memberkey backup`: a copy made while a mass send runs is a working database. A new server
//! started on it signs a member in with the password they chose, and another with the
//! password staff assigned, which staff may still view (the same sealing key).

use serde_json::json;

use memberkey::config::Config;

use crate::credentials::set;
use crate::helpers::{Backend, STAFF_PASSWORD, person, spawn_app_with};
use crate::mass::{SEND, create_ok, view};
use crate::member_login::member_login;

const CHOSEN: &str = "seven quiet gulls over the pier";
const ASSIGNED: &str = "violet tram under the bridge";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_made_during_a_mass_send_serves_and_signs_in() {
    // Slow enough that the send is still running when the copy is made.
    let app = spawn_app_with(Backend::Sqlite, |c| c.mail.max_send_rate = 40.0).await;
    let admin = app.admin().await;
    let maria = app
        .create_profile(
            &admin,
            person("Maria", "Jensen", Some("maria@harbour.example")),
        )
        .await;
    let jens = app
        .create_profile(
            &admin,
            person("Jens", "Hansen", Some("jens@harbour.example")),
        )
        .await;
    // Maria's password is her own (she changed the one staff gave her); Jens's was assigned.
    for (id, username) in [(&maria, "mariaj"), (&jens, "jensh")] {
        let resp = set(
            &app,
            &admin,
            json!({ "profileId": id, "username": username, "password": ASSIGNED, "mustChangePassword": true }),
        )
        .await;
        assert!(resp["errors"].is_null(), "{resp}");
    }
    let token = member_login(&app, "mariaj", ASSIGNED).await["data"]["memberLogin"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let changed = app
        .gql(
            Some(&token),
            "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { changedAt } }",
            json!({ "c": ASSIGNED, "n": CHOSEN }),
        )
        .await;
    assert!(changed["errors"].is_null(), "{changed}");

    app.bulk_people(300, "backup").await;
    let id = create_ok(
        &app,
        &admin,
        json!({
            "subject": "Your login",
            "html": "<p>Dear {{first_name}},</p>{{portal_login_credentials_link}}",
            "recipients": { "filter": { "kind": "INDIVIDUAL" } },
        }),
    )
    .await;
    let sent = app.gql(Some(&admin), SEND, json!({ "id": id })).await;
    assert!(sent["errors"].is_null(), "{sent}");

    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    let copied = memberkey::backup::run(&app.app.services.config, &copy)
        .await
        .expect("backup");
    let during = view(&app, &admin, &id).await;
    assert_ne!(
        during["status"], "SENT",
        "the copy was made during the send: {during}"
    );
    assert!(copied.bytes > 0);
    assert_eq!(copied.key, "MEMBERKEY_SEALING_KEY");

    // The same file again is refused: no backup is ever overwritten.
    let again = memberkey::backup::run(&app.app.services.config, &copy).await;
    assert!(
        matches!(again, Err(memberkey::backup::BackupError::Exists(_))),
        "{again:?}"
    );

    // A new server on the copy, with the same sealing key (the tests' fixed one).
    let url = format!("sqlite://{}?mode=rw", copy.display());
    let restored = spawn_app_with(Backend::Sqlite, move |c: &mut Config| {
        c.database_url = url;
    })
    .await;
    let resp = member_login(&restored, "mariaj", CHOSEN).await;
    assert_eq!(
        resp["data"]["memberLogin"]["profile"]["id"], maria,
        "{resp}"
    );
    let resp = member_login(&restored, "jensh", ASSIGNED).await;
    assert_eq!(resp["data"]["memberLogin"]["profile"]["id"], jens, "{resp}");
    let staff = restored.login("admin", STAFF_PASSWORD).await;
    let shown = restored
        .gql(
            Some(&staff),
            "query($id: ID!) { profile(id: $id) { portalCredential { password } } }",
            json!({ "id": jens }),
        )
        .await;
    assert_eq!(
        shown["data"]["profile"]["portalCredential"]["password"], ASSIGNED,
        "{shown}"
    );
    let hidden = restored
        .gql(
            Some(&staff),
            "query($id: ID!) { profile(id: $id) { portalCredential { password } } }",
            json!({ "id": maria }),
        )
        .await;
    assert_eq!(
        hidden["data"]["profile"]["portalCredential"]["password"],
        json!(null),
        "a chosen password is never shown"
    );
}
