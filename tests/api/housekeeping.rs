//! Housekeeping deletes what can never be used again and keeps the records: a mass
//! communication's ledger, its links' states and the audit log.

use chrono::Duration;
use memberkey::domain::Right;
use serde_json::json;

use crate::credentials::set;
use crate::helpers::{Backend, TestApp, per_backend, person, spawn_app_with_clock};
use crate::mass::{SEND, create_ok, view, wait_done};
use crate::member_login::member_login;

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.sql_value(&format!("SELECT COUNT(*) AS n FROM {sql}"), "n")
        .await
}

async fn sweeps(backend: Backend) {
    let (app, clock) = spawn_app_with_clock(backend).await;
    let admin = app.admin().await;
    let id = app
        .create_profile(&admin, person("Lea", "Berg", Some("lea@example.org")))
        .await;
    let resp = set(
        &app,
        &admin,
        json!({ "profileId": id, "username": "lea.berg", "password": "a long enough password" }),
    )
    .await;
    assert!(resp["errors"].is_null(), "{resp}");
    // A member session, and a failed sign-in that leaves a rate-limit bucket.
    assert!(
        member_login(&app, "lea.berg", "a long enough password").await["data"]["memberLogin"]
            .is_object()
    );
    member_login(&app, "lea.berg", "a wrong password entirely").await;
    // A reset email (its link is minted when it is sent) and a link staff pass on.
    let reset = "mutation($p: ID!) { sendPasswordResetEmail(profileId: $p) { sentTo } }";
    assert!(app.gql(Some(&admin), reset, json!({ "p": id })).await["errors"].is_null());
    let issue = "mutation($p: ID!) { issueCredentialsLink(profileId: $p) { url } }";
    assert!(app.gql(Some(&admin), issue, json!({ "p": id })).await["errors"].is_null());
    // And a staff user's set-password link, sent to the administrator's own address.
    let me = app.gql(Some(&admin), "{ viewer { id } }", json!({})).await;
    let me = me["data"]["viewer"]["id"].clone();
    app.step_up(&admin, None).await;
    let addressed = app
        .gql(
            Some(&admin),
            "mutation($id: ID!) { setStaffUserEmail(staffUserId: $id, email: \"admin@example.org\") { staffUser { email } } }",
            json!({ "id": me }),
        )
        .await;
    assert!(addressed["errors"].is_null(), "{addressed}");
    let staff_link = "mutation($id: ID!) { sendStaffPasswordReset(staffUserId: $id) { sentTo } }";
    assert!(app.gql(Some(&admin), staff_link, json!({ "id": me })).await["errors"].is_null());
    app.mail
        .wait_for(2, std::time::Duration::from_secs(20))
        .await;
    // A mass communication with the credentials link: its delivery and link are its ledger.
    let mass = create_ok(
        &app,
        &admin,
        json!({ "subject": "Portal", "html": "<p>{{portal_login_credentials_link}}</p>", "recipients": { "profileIds": [id] } }),
    )
    .await;
    app.gql(Some(&admin), SEND, json!({ "id": mass })).await;
    wait_done(&app, &admin, &mass).await;
    app.app.drain_mail().await.unwrap();

    // Nothing has expired yet: a sweep deletes no session, token or message.
    let early = app.app.sweep().await.unwrap();
    assert_eq!(
        (early.sessions, early.tokens, early.account_mail),
        (0, 0, 0),
        "{early:?}"
    );
    assert!(count(&app, "staff_sessions").await >= 1);
    assert_eq!(count(&app, "member_sessions").await, 1);
    assert_eq!(count(&app, "credential_tokens").await, 3);
    assert_eq!(count(&app, "staff_password_tokens").await, 1);
    assert_eq!(count(&app, "outbound_emails").await, 3);
    assert!(count(&app, "rate_limit_buckets").await >= 1);
    let audit = count(&app, "audit_events").await;

    // Two days on: the sessions are dead, the links expired, but an old link still answers
    // "expired" rather than "unknown" until the retention has passed.
    clock.advance(Duration::days(2));
    let mid = app.app.sweep().await.unwrap();
    assert!(mid.sessions >= 2, "{mid:?}");
    assert_eq!((mid.tokens, mid.account_mail), (0, 0), "{mid:?}");
    assert_eq!(count(&app, "credential_tokens").await, 3);
    assert_eq!(count(&app, "staff_password_tokens").await, 1);

    // Past the 90-day retention of the mail and of the links that expired.
    clock.advance(Duration::days(96));
    let swept = app.app.sweep().await.unwrap();
    assert_eq!(count(&app, "staff_sessions").await, 0);
    assert_eq!(count(&app, "member_sessions").await, 0);
    assert_eq!(
        count(&app, "outbound_emails WHERE mass_communication_id IS NULL").await,
        0,
        "the reset email was queued more than 90 days ago"
    );
    assert_eq!(
        count(
            &app,
            "outbound_emails WHERE mass_communication_id IS NOT NULL"
        )
        .await,
        1,
        "the communication's delivery is its ledger and stays"
    );
    assert_eq!(
        count(&app, "credential_tokens WHERE purpose = 'MASS'").await,
        1,
        "the delivery's link stays, so its state can still be read"
    );
    assert_eq!(count(&app, "credential_tokens").await, 1, "{swept:?}");
    assert_eq!(count(&app, "staff_password_tokens").await, 0);
    assert_eq!(swept.tokens, 3);
    assert_eq!(swept.account_mail, 2);
    assert_eq!(count(&app, "rate_limit_buckets").await, 0);
    assert_eq!(
        count(&app, "audit_events").await,
        audit,
        "the audit log is kept"
    );
    let reader = app
        .staff_with("reader", &[Right::SendMassCommunications])
        .await;
    let ledger = view(&app, &reader, &mass).await;
    assert_eq!(
        ledger["deliveries"]["edges"][0]["node"]["linkState"], "EXPIRED",
        "{ledger}"
    );
    // A second sweep finds nothing more.
    assert_eq!(app.app.sweep().await.unwrap(), Default::default());
}
per_backend!(
    housekeeping_deletes_what_expired_and_keeps_the_records,
    super::sweeps
);
