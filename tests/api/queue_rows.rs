//! What the delivery queue's rows promise its indexes (issue 35): only a row a worker still
//! has to deal with (QUEUED or SENDING) has a due time, so PostgreSQL's due index holds
//! exactly those rows; and no PostgreSQL index names the status, so that leasing a row to a
//! worker changes no indexed column and writes no index entry.

use serde_json::json;

use crate::helpers::{Backend, TestApp, both, per_backend, person, spawn_app};
use crate::mass::{SEND, create_ok, wait_done};
use crate::mass_pause::CANCEL;

async fn rows(app: &TestApp, condition: &str) -> i64 {
    app.sql_value(
        &format!("SELECT COUNT(*) AS n FROM outbound_emails WHERE {condition}"),
        "n",
    )
    .await
}

async fn queue(app: &TestApp, admin: &str) -> String {
    let id = create_ok(
        app,
        admin,
        json!({
            "subject": "Your portal login",
            "html": "<p>Dear {{first_name}},</p>{{portal_login_credentials_link}}",
            "recipients": { "filter": { "kind": "INDIVIDUAL" } },
        }),
    )
    .await;
    let resp = app.gql(Some(admin), SEND, json!({ "id": id })).await;
    assert!(resp["errors"].is_null(), "{resp}");
    id
}

both!(only_rows_still_to_send_have_a_due_time, |app| async move {
    let admin = app.admin().await;
    for (first, email) in [
        ("Ann", Some("ann@queue.example")),
        ("Bo", Some("bo@queue.example")),
        ("Cy", None),
    ] {
        app.create_profile(&admin, person(first, "Queue", email))
            .await;
    }
    // Delivered: two sent, one skipped for want of an address.
    let sent = queue(&app, &admin).await;
    let done = wait_done(&app, &admin, &sent).await;
    assert_eq!(done["counts"]["sent"], 2, "{done}");
    assert_eq!(done["counts"]["skipped"], 1, "{done}");
    assert_eq!(rows(&app, "next_attempt_at IS NOT NULL").await, 0);

    // Queued while delivery is held: due, and then cancelled, no longer due.
    app.sql_exec("INSERT INTO delivery_pause (id, paused_since, reason) VALUES (1, CURRENT_TIMESTAMP, 'held by the test')").await;
    let held = queue(&app, &admin).await;
    let waiting = "status IN ('QUEUED', 'SENDING')";
    assert!(rows(&app, waiting).await >= 2);
    assert_eq!(
        rows(&app, &format!("{waiting} AND next_attempt_at IS NULL")).await,
        0
    );
    assert_eq!(
        rows(
            &app,
            &format!("NOT ({waiting}) AND next_attempt_at IS NOT NULL")
        )
        .await,
        0
    );
    let resp = app.gql(Some(&admin), CANCEL, json!({ "id": held })).await;
    assert_eq!(
        resp["data"]["cancelMassCommunication"]["massCommunication"]["status"], "CANCELLED",
        "{resp}"
    );
    assert!(rows(&app, "status = 'CANCELLED'").await >= 2);
    assert_eq!(rows(&app, "next_attempt_at IS NOT NULL").await, 0);
});

async fn no_index_names_the_status(backend: Backend) {
    let app = spawn_app(backend).await;
    let indexes = "SELECT COUNT(*) AS n FROM pg_indexes WHERE tablename = 'outbound_emails'";
    let status = format!("{indexes} AND indexdef LIKE '%status%'");
    match backend {
        Backend::Postgres => {
            // The due index and the others are there; none of them names the status.
            assert!(app.sql_value::<i64>(indexes, "n").await >= 4);
            assert_eq!(app.sql_value::<i64>(&status, "n").await, 0);
        }
        // SQLite has no heap-only updates to keep: its due index still leads with the
        // status, the order its planner needs.
        Backend::Sqlite => {
            let due = "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'index' \
                       AND name = 'idx_outbound_emails_due' AND sql LIKE '%status%'";
            assert_eq!(app.sql_value::<i64>(due, "n").await, 1);
        }
    }
}
per_backend!(
    no_postgres_queue_index_names_the_status,
    super::no_index_names_the_status
);
