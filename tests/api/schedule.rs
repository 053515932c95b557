//! Scheduled sends: a draft given a time is sent by the server then, on behalf of whoever
//! scheduled it; it stays an editable draft until it starts; a send that came due while the
//! server was down starts when it is back; one that cannot start says why. The manual clock
//! decides what is due, and `start_due` is called directly where a test must know that
//! nothing started.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use memberkey::app::App;
use memberkey::domain::{Clock, ManualClock, Right};
use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, code, eventually, per_backend, person, spawn_app_with_clock_and,
};
use crate::ws::WsClient;

const SCHEDULE: &str = "mutation($i: ScheduleMassCommunicationInput!) { scheduleMassCommunication(input: $i) { massCommunication { id status sendAt scheduleProblem } } }";
const READ: &str = "query($id: ID!) { massCommunication(id: $id) { status sendAt scheduleProblem subject counts { total } } }";

fn at(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An app on the manual clock whose scheduler looks often, with two recipients and a draft
/// to them. Returns the app, its clock, an administrator's token and the draft's ID.
async fn with_draft(
    backend: Backend,
    check_every: StdDuration,
) -> (TestApp, ManualClock, String, String) {
    let (app, clock) = spawn_app_with_clock_and(backend, |c| {
        c.mail.schedule_check_every = check_every;
        // The staff sessions outlast the hours the clock is moved on.
        c.staff_session_idle = Duration::days(30);
        c.staff_session_ttl = Duration::days(30);
    })
    .await;
    let admin = app.admin().await;
    let a = app
        .create_profile(
            &admin,
            person("Jens", "Hansen", Some("jens@harbour.example")),
        )
        .await;
    let b = app
        .create_profile(&admin, person("Tom", "Berg", Some("tom@harbour.example")))
        .await;
    let id = crate::mass::create_ok(
        &app,
        &admin,
        json!({ "subject": "Annual meeting", "html": "<p>Dear {{first_name}}</p>", "recipients": { "profileIds": [a, b] } }),
    )
    .await;
    (app, clock, admin, id)
}

async fn read(app: &TestApp, token: &str, id: &str) -> Value {
    let resp = app.gql(Some(token), READ, json!({ "id": id })).await;
    assert!(resp["errors"].is_null(), "{resp}");
    resp["data"]["massCommunication"].clone()
}

/// Waits (on the real clock) until a server started the draft, then until it is done.
async fn started_and_done(app: &TestApp, token: &str, id: &str) -> Value {
    let left = eventually(StdDuration::from_secs(20), || async {
        let s = read(app, token, id).await["status"].clone();
        (s != "DRAFT").then_some(s)
    })
    .await;
    assert!(left.is_some(), "no server started it");
    crate::mass::wait_done(app, token, id).await
}

async fn start_due(app: &TestApp) -> usize {
    memberkey::services::mass::start_due(&app.app.services)
        .await
        .expect("start due drafts")
}

/// Scheduled over HTTP, read back over the WebSocket alike; nothing starts before its time;
/// at its time it is sent as if its scheduler pressed Send, exactly once.
async fn starts_on_time(backend: Backend) {
    // The background loop stays out of the way: this test starts what is due itself.
    let (app, clock, admin, id) = with_draft(backend, StdDuration::from_secs(3600)).await;
    let when = clock.now() + Duration::hours(2);
    let resp = app
        .gql(
            Some(&admin),
            SCHEDULE,
            json!({ "i": { "id": id, "sendAt": at(when) } }),
        )
        .await;
    let comm = &resp["data"]["scheduleMassCommunication"]["massCommunication"];
    assert_eq!(comm["status"], "DRAFT", "{resp}");
    let stored: DateTime<Utc> = comm["sendAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(stored, when);
    let mut socket = WsClient::connect(&app, Some(&admin)).await;
    let ws = socket.run(READ, json!({ "id": id })).await.unwrap();
    assert_eq!(
        ws["data"]["massCommunication"],
        read(&app, &admin, &id).await
    );
    assert_eq!(app.audited("MASS_COMMUNICATION_SCHEDULED").await, 1);

    // Still a draft, so still editable.
    let edit = app
        .gql(
            Some(&admin),
            "mutation($i: UpdateMassCommunicationInput!) { updateMassCommunication(input: $i) { massCommunication { subject sendAt } } }",
            json!({ "i": { "id": id, "subject": "Annual meeting, 12 March" } }),
        )
        .await;
    assert_eq!(
        edit["data"]["updateMassCommunication"]["massCommunication"]["sendAt"], comm["sendAt"],
        "{edit}"
    );

    clock.advance(Duration::minutes(119));
    assert_eq!(start_due(&app).await, 0, "a minute early is too early");
    assert_eq!(read(&app, &admin, &id).await["status"], "DRAFT");
    clock.advance(Duration::minutes(1));
    assert_eq!(start_due(&app).await, 1);
    assert_eq!(start_due(&app).await, 0, "started once");
    let sent = crate::mass::wait_done(&app, &admin, &id).await;
    assert_eq!(sent["status"], "SENT", "{sent}");
    assert_eq!(sent["counts"]["sent"], 2, "{sent}");
    let subjects: Vec<String> = app.mail.sent().iter().map(|m| m.subject.clone()).collect();
    assert_eq!(
        subjects,
        ["Annual meeting, 12 March", "Annual meeting, 12 March"],
        "the draft as edited after scheduling"
    );
    // Sent on behalf of the administrator who scheduled it.
    let actor: i64 = app
        .sql_value(
            "SELECT actor_staff_id AS n FROM audit_events WHERE action = 'MASS_COMMUNICATION_SENT'",
            "n",
        )
        .await;
    let scheduler: i64 = app
        .sql_value(
            "SELECT actor_staff_id AS n FROM audit_events WHERE action = 'MASS_COMMUNICATION_SCHEDULED'",
            "n",
        )
        .await;
    assert_eq!(actor, scheduler);
    let after = read(&app, &admin, &id).await;
    assert_eq!(after["sendAt"], comm["sendAt"], "kept as when it was due");
}
per_backend!(
    a_scheduled_draft_is_sent_at_its_time_once,
    super::starts_on_time
);

/// What cannot be scheduled, alike over HTTP and the WebSocket; and a schedule removed.
async fn refusals_and_unscheduling(backend: Backend) {
    let (app, clock, admin, id) = with_draft(backend, StdDuration::from_secs(3600)).await;
    let mut socket = WsClient::connect(&app, Some(&admin)).await;
    for (send_at, why) in [
        (
            clock.now() + Duration::seconds(30),
            "less than a minute ahead",
        ),
        (clock.now() - Duration::hours(1), "in the past"),
        (clock.now() + Duration::days(400), "more than a year ahead"),
    ] {
        let vars = json!({ "i": { "id": id, "sendAt": at(send_at) } });
        let http = app.gql(Some(&admin), SCHEDULE, vars.clone()).await;
        assert_eq!(code(&http), "BAD_USER_INPUT", "{why}: {http}");
        assert_eq!(
            http["errors"][0]["extensions"]["field"], "input.sendAt",
            "{why}: {http}"
        );
        let ws = socket.run(SCHEDULE, vars).await.unwrap();
        assert_eq!(ws["errors"], http["errors"], "{why}: {ws}");
    }

    let clerk = app.staff_with("clerk", &[Right::ManageProfiles]).await;
    let vars = json!({ "i": { "id": id, "sendAt": at(clock.now() + Duration::hours(1)) } });
    let http = app.gql(Some(&clerk), SCHEDULE, vars.clone()).await;
    assert_eq!(code(&http), "FORBIDDEN", "{http}");
    let mut clerk_socket = WsClient::connect(&app, Some(&clerk)).await;
    let ws = clerk_socket.run(SCHEDULE, vars.clone()).await.unwrap();
    assert_eq!(ws["errors"][0]["extensions"]["code"], "FORBIDDEN", "{ws}");

    // Scheduled over the WebSocket, then unscheduled over HTTP: it stays a draft.
    let ws = socket.run(SCHEDULE, vars).await.unwrap();
    assert!(
        ws["data"]["scheduleMassCommunication"]["massCommunication"]["sendAt"].is_string(),
        "{ws}"
    );
    let off = app
        .gql(
            Some(&admin),
            SCHEDULE,
            json!({ "i": { "id": id, "sendAt": null } }),
        )
        .await;
    let comm = &off["data"]["scheduleMassCommunication"]["massCommunication"];
    assert_eq!(comm["sendAt"], Value::Null, "{off}");
    assert_eq!(comm["status"], "DRAFT");
    clock.advance(Duration::days(2));
    assert_eq!(start_due(&app).await, 0, "an unscheduled draft stays put");

    // A communication that was sent has no schedule to set.
    let sent = app
        .gql(Some(&admin), crate::mass::SEND, json!({ "id": id }))
        .await;
    assert!(sent["errors"].is_null(), "{sent}");
    let late = app
        .gql(
            Some(&admin),
            SCHEDULE,
            json!({ "i": { "id": id, "sendAt": at(clock.now() + Duration::hours(1)) } }),
        )
        .await;
    assert_eq!(code(&late), "CONFLICT", "{late}");
}
per_backend!(
    scheduling_refuses_what_cannot_be_and_can_be_removed,
    super::refusals_and_unscheduling
);

/// A send that came due while the server was down starts as soon as a server is back: the
/// scheduler looks once at start, then every interval.
async fn after_a_restart(backend: Backend) {
    let (app, clock, admin, id) = with_draft(backend, StdDuration::from_secs(3600)).await;
    let resp = app
        .gql(
            Some(&admin),
            SCHEDULE,
            json!({ "i": { "id": id, "sendAt": at(clock.now() + Duration::hours(1)) } }),
        )
        .await;
    assert!(resp["errors"].is_null(), "{resp}");
    // Down over the due time: nobody looked when it came due.
    clock.advance(Duration::hours(3));
    assert_eq!(read(&app, &admin, &id).await["status"], "DRAFT");
    let config = (*app.app.services.config).clone();
    let listen = config.listen;
    let restarted = App::build_with(config, Arc::new(clock.clone()), Some(app.mail.clone()))
        .await
        .expect("build the restarted server")
        .spawn(listen)
        .await
        .expect("serve");
    started_and_done(&app, &admin, &id).await;
    assert_eq!(app.mail.sent().len(), 2);
    restarted.shutdown().await;
}
per_backend!(
    a_send_due_while_the_server_was_down_starts_when_it_is_back,
    super::after_a_restart
);

/// The running server's own loop starts a draft once its time comes.
async fn by_the_running_server(backend: Backend) {
    let (app, clock, admin, id) = with_draft(backend, StdDuration::from_millis(50)).await;
    let resp = app
        .gql(
            Some(&admin),
            SCHEDULE,
            json!({ "i": { "id": id, "sendAt": at(clock.now() + Duration::minutes(5)) } }),
        )
        .await;
    assert!(resp["errors"].is_null(), "{resp}");
    clock.advance(Duration::minutes(5));
    let done = started_and_done(&app, &admin, &id).await;
    assert_eq!(done["status"], "SENT", "{done}");
}
per_backend!(
    the_server_starts_a_scheduled_draft_by_itself,
    super::by_the_running_server
);

/// A start that cannot happen (its scheduler lost the right meanwhile) leaves a draft
/// without a time that says why, audited as the server's act.
async fn a_start_that_cannot_happen(backend: Backend) {
    let (app, clock, admin, id) = with_draft(backend, StdDuration::from_secs(3600)).await;
    let sender = app
        .staff_with("sender", &[Right::SendMassCommunications])
        .await;
    let resp = app
        .gql(
            Some(&sender),
            SCHEDULE,
            json!({ "i": { "id": id, "sendAt": at(clock.now() + Duration::hours(1)) } }),
        )
        .await;
    assert!(resp["errors"].is_null(), "{resp}");
    let sender_id = app.staff_id(&admin, "sender").await;
    app.step_up(&admin, None).await;
    let rights = app
        .gql(
            Some(&admin),
            "mutation($id: ID!) { setStaffRights(staffUserId: $id, rights: [MANAGE_PROFILES]) { staffUser { rights } } }",
            json!({ "id": sender_id }),
        )
        .await;
    assert!(rights["errors"].is_null(), "{rights}");
    clock.advance(Duration::hours(2));
    assert_eq!(start_due(&app).await, 0);
    let comm = read(&app, &admin, &id).await;
    assert_eq!(comm["status"], "DRAFT", "{comm}");
    assert_eq!(comm["sendAt"], Value::Null, "{comm}");
    let problem = comm["scheduleProblem"].as_str().unwrap();
    assert!(
        problem.contains("sender"),
        "names who lost the right: {problem}"
    );
    assert_eq!(app.audited("MASS_COMMUNICATION_SCHEDULE_FAILED").await, 1);
    assert_eq!(start_due(&app).await, 0, "and it is not tried again");
    assert!(app.mail.sent().is_empty());
    // Scheduling it again clears the problem.
    let again = app
        .gql(
            Some(&admin),
            SCHEDULE,
            json!({ "i": { "id": id, "sendAt": at(clock.now() + Duration::hours(1)) } }),
        )
        .await;
    assert_eq!(
        again["data"]["scheduleMassCommunication"]["massCommunication"]["scheduleProblem"],
        Value::Null,
        "{again}"
    );
}
per_backend!(
    a_scheduled_start_that_cannot_happen_says_why,
    super::a_start_that_cannot_happen
);
