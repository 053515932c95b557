//! What the store reads back: a stored spelling this version does not know is an error, never
//! a silent default; and reading a communication never writes it.

use serde_json::json;

use crate::helpers::{Backend, TestApp, both, code, per_backend, person, spawn_app_with};
use crate::mass::{SEND, create_ok};

/// A draft to one person with an address; returns the person's and the draft's IDs.
async fn draft_to_ann(app: &TestApp, token: &str) -> (String, String) {
    let id = app
        .create_profile(token, person("Ann", "Lee", Some("ann@example.org")))
        .await;
    let mass = create_ok(
        app,
        token,
        json!({ "subject": "News", "html": "<p>Hi</p>", "recipients": { "profileIds": [id] } }),
    )
    .await;
    (id, mass)
}

const STATUS: &str = "query($id: ID!) { massCommunication(id: $id) { status finishedAt } }";

both!(
    an_unknown_stored_status_is_an_error_not_a_draft,
    |app| async move {
        let token = app.admin().await;
        let (_, mass) = draft_to_ann(&app, &token).await;
        app.sql_exec(&format!(
            "UPDATE mass_communications SET status = 'ARCHIVED' WHERE id = {mass}"
        ))
        .await;
        let resp = app.gql(Some(&token), STATUS, json!({ "id": mass })).await;
        assert_eq!(code(&resp), "INTERNAL_SERVER_ERROR", "{resp}");
        assert!(
            !resp.to_string().contains("ARCHIVED"),
            "the cause is logged, not sent: {resp}"
        );
    }
);

both!(
    a_saved_filter_with_an_unknown_kind_is_never_widened,
    |app| async move {
        let token = app.admin().await;
        app.create_profile(&token, person("Ann", "Lee", Some("ann@example.org")))
            .await;
        let mass = create_ok(
        &app,
        &token,
        json!({ "subject": "News", "html": "<p>Hi</p>", "recipients": { "filter": { "kind": "INDIVIDUAL" } } }),
    )
    .await;
        app.sql_exec(&format!(
        "UPDATE mass_communications SET recipients = replace(recipients, 'INDIVIDUAL', 'ROBOT') WHERE id = {mass}"
    ))
    .await;
        let resp = app.gql(Some(&token), SEND, json!({ "id": mass })).await;
        assert_eq!(code(&resp), "INTERNAL_SERVER_ERROR", "{resp}");
        let queued: i64 = app
            .sql_value("SELECT COUNT(*) AS n FROM outbound_emails", "n")
            .await;
        assert_eq!(
            queued, 0,
            "nobody was mailed on a filter that lost its kind"
        );
    }
);

/// With no worker running, a finished send is shown as finished but not written; the worker
/// records it.
async fn reading_never_writes(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.mail.worker = false).await;
    let token = app.admin().await;
    let id = app.create_profile(&token, person("No", "Mail", None)).await;
    let mass = create_ok(
        &app,
        &token,
        json!({ "subject": "News", "html": "<p>Hi</p>", "recipients": { "profileIds": [id] } }),
    )
    .await;
    let sent = app.gql(Some(&token), SEND, json!({ "id": mass })).await;
    assert!(sent["errors"].is_null(), "{sent}");
    let status_sql = format!("SELECT status FROM mass_communications WHERE id = {mass}");
    let stored = || app.sql_value::<String>(&status_sql, "status");
    for _ in 0..2 {
        let resp = app.gql(Some(&token), STATUS, json!({ "id": mass })).await;
        let comm = &resp["data"]["massCommunication"];
        assert_eq!(comm["status"], "SENT", "every delivery was skipped: {resp}");
        assert!(comm["finishedAt"].is_null(), "{resp}");
        assert_eq!(stored().await, "QUEUED", "the read wrote nothing");
    }
    app.app.drain_mail().await.unwrap();
    assert_eq!(stored().await, "SENT", "the worker recorded the finish");
    let resp = app.gql(Some(&token), STATUS, json!({ "id": mass })).await;
    assert!(
        resp["data"]["massCommunication"]["finishedAt"].is_string(),
        "{resp}"
    );
}
per_backend!(
    reading_a_communication_never_writes_it,
    super::reading_never_writes
);

/// A communication the worker cannot read fails its own deliveries; the rest of the queue
/// (here a password-reset email) still goes out.
async fn unreadable_rows_fail_alone(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.mail.worker = false).await;
    let token = app.admin().await;
    let (id, mass) = draft_to_ann(&app, &token).await;
    let sent = app.gql(Some(&token), SEND, json!({ "id": mass })).await;
    assert!(sent["errors"].is_null(), "{sent}");
    let reset = "mutation($p: ID!) { sendPasswordResetEmail(profileId: $p) { sentTo } }";
    let queued = app.gql(Some(&token), reset, json!({ "p": id })).await;
    assert!(queued["errors"].is_null(), "{queued}");
    app.sql_exec(&format!(
        "UPDATE mass_communications SET status = 'ARCHIVED' WHERE id = {mass}"
    ))
    .await;
    app.app.drain_mail().await.unwrap();
    let mail = app.mail.sent();
    assert_eq!(mail.len(), 1, "{mail:#?}");
    assert!(
        mail[0].subject.contains("set your portal password"),
        "the reset went out: {mail:#?}"
    );
    let failed: String = app
        .sql_value(
            &format!("SELECT status FROM outbound_emails WHERE mass_communication_id = {mass}"),
            "status",
        )
        .await;
    assert_eq!(
        failed, "FAILED",
        "the unreadable communication's row failed alone"
    );
}
per_backend!(
    an_unreadable_communication_fails_only_its_rows,
    super::unreadable_rows_fail_alone
);
