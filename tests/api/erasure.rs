//! `eraseProfile`: a person erased at their request leaves nothing that names them, can
//! never sign in again (portal, API or connected site), is never mailed again, and a
//! suppressed address stays suppressed. Guarded alike over HTTP and the WebSocket, behind a
//! fresh step-up. Retention (`MEMBERKEY_RETAIN_*_DAYS`) forgets old deliveries and deletes
//! old audit rows in bounded batches.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use memberkey::domain::Right;

use crate::helpers::{
    Backend, TestApp, both, code, org, per_backend, person, spawn_app_with_clock_and,
};
use crate::mass::{SEND, create_ok, view, wait_done};
use crate::member_login::member_login;
use crate::member_pages::{PASSWORD, Visitor, member};
use crate::oidc::{forum, register};
use crate::oidc_lifecycle::{ended, site_tokens};
use crate::oidc_refusals::signed_in;
use crate::ws::WsClient;

const ERASE: &str = "mutation($p: ID!, $all: Boolean) { eraseProfile(profileId: $p, includePeople: $all) { erasedProfileId erasedPeopleIds } }";
const RESET: &str = "mutation($p: ID!) { sendPasswordResetEmail(profileId: $p) { sentTo } }";

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.sql_value(&format!("SELECT COUNT(*) AS n FROM {sql}"), "n")
        .await
}

both!(
    an_erased_person_leaves_no_trace_and_never_signs_in_again,
    |app| async move {
        let (admin, id) = member(&app, false).await;
        // Signed in on the portal and, through it, at a connected site.
        let (client_id, secret) = register(&app, forum()).await;
        let client = (client_id, secret.unwrap());
        let mut browser = signed_in(&app).await;
        let tokens = site_tokens(&app, &mut browser, &client).await;
        // A failed sign-in leaves lockout counters about her.
        member_login(&app, "mariaj", "not her password at all").await;
        // A reset waits in the queue (delivery is held), and her address bounced since.
        app.sql_exec("INSERT INTO delivery_pause (id, paused_since, reason) VALUES (1, CURRENT_TIMESTAMP, 'held by the test')").await;
        let queued = app.gql(Some(&admin), RESET, json!({ "p": id })).await;
        assert!(queued["errors"].is_null(), "{queued}");
        app.sql_exec(
            "INSERT INTO email_suppressions (address_key, address, reason, detail, created_at) \
             VALUES ('maria@harbour.example', 'Maria@Harbour.example', 'BOUNCE', \
             '550 <maria@harbour.example> unknown', CURRENT_TIMESTAMP)",
        )
        .await;

        // Erasing needs the right and a fresh step-up.
        let officer = app
            .staff_with(
                "officer",
                &[Right::ManagePersonalData, Right::ManageProfiles],
            )
            .await;
        let vars = json!({ "p": id });
        assert_eq!(
            code(&app.gql(Some(&officer), ERASE, vars.clone()).await),
            "STEP_UP_REQUIRED"
        );
        app.step_up(&officer, None).await;
        let resp = app.gql(Some(&officer), ERASE, vars.clone()).await;
        assert!(resp["errors"].is_null(), "{resp}");
        assert_eq!(resp["data"]["eraseProfile"]["erasedProfileId"], id.as_str());
        assert_eq!(resp["data"]["eraseProfile"]["erasedPeopleIds"], json!([]));

        // She can never sign in again: not on the portal, not over the API, not at the site.
        ended(&app, &client, &tokens, "an erasure").await;
        let account = browser.get("/portal/account").await;
        assert_eq!(account.status, StatusCode::SEE_OTHER);
        assert!(account.location().starts_with("/portal/sign-in"));
        let mut fresh = Visitor::new(&app);
        assert_ne!(
            fresh.sign_in("mariaj", PASSWORD).await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            code(&member_login(&app, "mariaj", PASSWORD).await),
            "INVALID_LOGIN"
        );
        assert_eq!(
            code(
                &app.gql(
                    Some(&officer),
                    "query($p: ID!) { profile(id: $p) { id } }",
                    vars.clone()
                )
                .await
            ),
            "NOT_FOUND"
        );
        let search = app
            .gql(
                Some(&officer),
                "{ profiles(search: \"Jensen\") { totalCount } }",
                json!({}),
            )
            .await;
        assert_eq!(search["data"]["profiles"]["totalCount"], 0, "{search}");

        // Nothing that stays names her.
        for who in ["maria", "jensen", "mariaj"] {
            let like = format!("'%{who}%'");
            assert_eq!(
                count(
                    &app,
                    &format!("audit_events WHERE lower(coalesce(detail, '')) LIKE {like}")
                )
                .await,
                0,
                "{who} in the audit log"
            );
            assert_eq!(
                count(&app, &format!("outbound_emails WHERE lower(coalesce(to_address, '')) LIKE {like} OR lower(coalesce(payload, '')) LIKE {like}")).await,
                0,
                "{who} in the deliveries"
            );
            assert_eq!(
                count(&app, &format!("email_suppressions WHERE lower(address_key) LIKE {like} OR lower(address) LIKE {like} OR lower(coalesce(detail, '')) LIKE {like}")).await,
                0,
                "{who} in the suppression list"
            );
        }
        assert_eq!(
            count(
                &app,
                &format!("audit_events WHERE actor_profile_id = {id} AND client_ip IS NOT NULL")
            )
            .await,
            0
        );
        assert_eq!(
            count(
                &app,
                &format!("rate_limit_buckets WHERE bucket_key LIKE 'lock:m:{id}%'")
            )
            .await,
            0
        );
        for table in [
            "member_sessions",
            "credential_tokens",
            "outbound_emails",
            "oidc_grants",
            "oidc_subjects",
            "portal_credentials",
        ] {
            assert_eq!(
                count(&app, &format!("{table} WHERE profile_id = {id}")).await,
                0,
                "{table}"
            );
        }
        // What happened stays on record: the actions and when, and that she was erased.
        assert!(
            count(
                &app,
                &format!("audit_events WHERE profile_id = {id} AND action = 'MEMBER_LOGIN'")
            )
            .await
                >= 1
        );
        assert_eq!(app.audited("PERSONAL_DATA_ERASED").await, 1);
        // The queued reset will never go out; the row stays, without the address.
        let skipped: String = app
            .sql_value(
                "SELECT skip_reason FROM outbound_emails WHERE kind = 'SET_PASSWORD_LINKS'",
                "skip_reason",
            )
            .await;
        assert_eq!(skipped, "PROFILE_REMOVED");
        assert_eq!(
            count(&app, "outbound_emails WHERE status = 'SKIPPED'").await,
            1
        );

        // Her bounced address stays suppressed for anyone who gets it next...
        assert_eq!(count(&app, "email_suppressions").await, 1);
        let again = app
            .create_profile(
                &admin,
                person("Mia", "Jensen", Some("MARIA@harbour.example")),
            )
            .await;
        assert_eq!(
            code(&app.gql(Some(&admin), RESET, json!({ "p": again })).await),
            "ADDRESS_SUPPRESSED"
        );
        // ...until staff clear it by the address, as for any other.
        let cleared = app
            .gql(
                Some(&admin),
                "mutation { clearEmailSuppression(address: \"maria@harbour.example\") { suppression { reason } } }",
                json!({}),
            )
            .await;
        assert_eq!(
            cleared["data"]["clearEmailSuppression"]["suppression"]["reason"], "BOUNCE",
            "{cleared}"
        );
        assert_eq!(count(&app, "email_suppressions").await, 0);

        // Erased is gone: a second erasure finds nothing.
        assert_eq!(
            code(&app.gql(Some(&officer), ERASE, vars).await),
            "NOT_FOUND"
        );
    }
);

both!(
    erasing_is_guarded_alike_and_an_organisation_needs_its_people_included,
    |app| async move {
        let admin = app.admin().await;
        let company = app
            .create_profile(
                &admin,
                org("Harbour Shipping", Some("office@shipping.example")),
            )
            .await;
        let mut ida = person("Ida", "Lind", Some("ida@harbour.example"));
        ida["parentId"] = json!(company);
        let ida = app.create_profile(&admin, ida).await;
        let vars = json!({ "p": company });

        let clerk = app
            .staff_with("clerk", &[Right::ManageProfiles, Right::ViewAuditLog])
            .await;
        let r = app.gql(Some(&clerk), ERASE, vars.clone()).await;
        assert_eq!(code(&r), "FORBIDDEN", "{r}");
        assert_eq!(
            code(&app.gql(None, ERASE, vars.clone()).await),
            "UNAUTHENTICATED"
        );
        let mut socket = WsClient::connect(&app, Some(&clerk)).await;
        assert_eq!(
            code(&socket.run(ERASE, vars.clone()).await.unwrap()),
            "FORBIDDEN"
        );
        let mut anonymous = WsClient::connect(&app, None).await;
        assert_eq!(
            code(&anonymous.run(ERASE, vars.clone()).await.unwrap()),
            "UNAUTHENTICATED"
        );
        let officer = app
            .staff_with("officer", &[Right::ManagePersonalData])
            .await;
        let mut socket = WsClient::connect(&app, Some(&officer)).await;
        assert_eq!(
            code(&socket.run(ERASE, vars.clone()).await.unwrap()),
            "STEP_UP_REQUIRED"
        );
        assert_eq!(app.audited("PERSONAL_DATA_ERASED").await, 0);

        // Stepped up, the organisation with a person is refused until she is included.
        app.step_up(&officer, None).await;
        let mut socket = WsClient::connect(&app, Some(&officer)).await;
        assert_eq!(
            code(&socket.run(ERASE, vars.clone()).await.unwrap()),
            "CONFLICT"
        );
        let resp = socket
            .run(ERASE, json!({ "p": company, "all": true }))
            .await
            .unwrap();
        assert!(resp["errors"].is_null(), "{resp}");
        assert_eq!(
            resp["data"]["eraseProfile"]["erasedProfileId"],
            company.as_str()
        );
        assert_eq!(
            resp["data"]["eraseProfile"]["erasedPeopleIds"],
            json!([ida])
        );
        assert_eq!(count(&app, "profiles").await, 0);
        assert_eq!(app.audited("PERSONAL_DATA_ERASED").await, 1);
        let detail: String = app
            .sql_value(
                "SELECT detail FROM audit_events WHERE action = 'PERSONAL_DATA_ERASED'",
                "detail",
            )
            .await;
        let detail: Value = serde_json::from_str(&detail).unwrap();
        assert_eq!(detail["profilesErased"], 2, "{detail}");
        for name in ["Harbour", "Ida", "Lind", "shipping"] {
            assert!(!detail.to_string().contains(name), "{detail}");
        }
    }
);

/// Retention: a finished communication's deliveries lose their person after
/// `MEMBERKEY_RETAIN_DELIVERIES_DAYS` but keep their counts; audit rows go after
/// `MEMBERKEY_RETAIN_AUDIT_DAYS`; each sweep takes a bounded batch.
async fn retention(backend: Backend) {
    let (app, clock) = spawn_app_with_clock_and(backend, |c| {
        c.retain_deliveries = Some(Duration::days(30));
        c.retain_audit = Some(Duration::days(400));
    })
    .await;
    let admin = app.admin().await;
    let mut ids = Vec::new();
    for (first, email) in [("Lea", "lea@example.org"), ("Ole", "ole@example.org")] {
        ids.push(
            app.create_profile(&admin, person(first, "Berg", Some(email)))
                .await,
        );
    }
    let mass = create_ok(
        &app,
        &admin,
        json!({ "subject": "Portal", "html": "<p>{{portal_login_credentials_link}}</p>", "recipients": { "profileIds": ids } }),
    )
    .await;
    app.gql(Some(&admin), SEND, json!({ "id": mass })).await;
    wait_done(&app, &admin, &mass).await;
    app.app.drain_mail().await.unwrap();

    let sent = format!("outbound_emails WHERE mass_communication_id = {mass} AND status = 'SENT'");
    assert_eq!(count(&app, &sent).await, 2);

    // Within the limits nothing is forgotten.
    let early = app.app.sweep().await.unwrap();
    assert_eq!((early.deliveries_forgotten, early.audit_events), (0, 0));
    assert_eq!(
        count(&app, "outbound_emails WHERE to_address IS NOT NULL").await,
        2
    );

    // A month on, the deliveries forget their people (and their spent links) but not their
    // counts; the audit log is still within its limit.
    clock.advance(Duration::days(31));
    let swept = app.app.sweep().await.unwrap();
    assert_eq!(
        (swept.deliveries_forgotten, swept.audit_events),
        (2, 0),
        "{swept:?}"
    );
    assert_eq!(
        count(&app, "outbound_emails WHERE to_address IS NOT NULL OR profile_id IS NOT NULL OR credential_token_id IS NOT NULL").await,
        0
    );
    // The counts stay (staff signed in anew: a month has passed).
    let officer = app
        .staff_with(
            "officer",
            &[Right::ManagePersonalData, Right::SendMassCommunications],
        )
        .await;
    let after = view(&app, &officer, &mass).await;
    assert_eq!(after["counts"]["total"], 2, "{after}");
    assert_eq!(after["counts"]["sent"], 2, "{after}");
    assert_eq!(count(&app, &sent).await, 2);
    let export = app
        .gql(
            Some(&officer),
            "mutation($p: ID!) { exportProfileData(profileId: $p) { document } }",
            json!({ "p": ids[0] }),
        )
        .await;
    let doc: Value = serde_json::from_str(
        export["data"]["exportProfileData"]["document"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(doc["messages"], json!([]), "{doc}");
    assert_eq!(app.app.sweep().await.unwrap().deliveries_forgotten, 0);

    // Past the audit limit, old rows go in bounded batches, oldest first.
    let before = count(&app, "audit_events").await;
    assert!(before > 3, "{before}");
    clock.advance(Duration::days(401));
    let cutoff = clock_now(&app) - Duration::days(400);
    let db = &app.app.services.db;
    assert_eq!(
        memberkey::store::erasure::delete_old_audit(db, cutoff, 2)
            .await
            .unwrap(),
        2
    );
    assert_eq!(count(&app, "audit_events").await, before - 2);
    let swept = app.app.sweep().await.unwrap();
    assert_eq!(swept.audit_events as i64, before - 2, "{swept:?}");
    assert_eq!(count(&app, "audit_events").await, 0);
}
per_backend!(
    retention_forgets_old_deliveries_and_deletes_old_audit_rows,
    super::retention
);

/// A delivery whose link outlives the delivery retention keeps its person and its link until
/// the link no longer works: the member can still set a password with it.
async fn retention_waits_for_live_links(backend: Backend) {
    let (app, clock) = spawn_app_with_clock_and(backend, |c| {
        c.retain_deliveries = Some(Duration::days(30));
    })
    .await;
    let admin = app.admin().await;
    let id = app
        .create_profile(&admin, person("Lea", "Berg", Some("lea@example.org")))
        .await;
    let mass = create_ok(
        &app,
        &admin,
        json!({ "subject": "Portal", "html": "<p>{{portal_login_credentials_link}}</p>",
                "recipients": { "profileIds": [id] }, "linkValidity": 60 * 24 }),
    )
    .await;
    app.gql(Some(&admin), SEND, json!({ "id": mass })).await;
    wait_done(&app, &admin, &mass).await;
    app.app.drain_mail().await.unwrap();
    let remembered = "outbound_emails WHERE to_address IS NOT NULL AND profile_id IS NOT NULL";
    let live_link = "credential_tokens WHERE used_at IS NULL AND invalidated_at IS NULL";

    // Past the retention, within the link's 60 days: nothing is forgotten.
    clock.advance(Duration::days(31));
    let swept = app.app.sweep().await.unwrap();
    assert_eq!(swept.deliveries_forgotten, 0, "{swept:?}");
    assert_eq!(count(&app, remembered).await, 1);
    assert_eq!(count(&app, live_link).await, 1);

    // Once the link has expired, the delivery forgets its person and the link goes.
    clock.advance(Duration::days(30));
    let swept = app.app.sweep().await.unwrap();
    assert_eq!(swept.deliveries_forgotten, 1, "{swept:?}");
    assert_eq!(count(&app, remembered).await, 0);
    assert_eq!(count(&app, "credential_tokens").await, 0);
}
per_backend!(
    retention_keeps_a_delivery_whose_link_still_works,
    super::retention_waits_for_live_links
);

fn clock_now(app: &TestApp) -> chrono::DateTime<chrono::Utc> {
    app.app.services.clock.now()
}
