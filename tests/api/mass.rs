//! The Mass Communicator: merge fields, drafts, previews, sending with per-recipient links,
//! skips, rate, cancel, retry, progress.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration as StdDuration, Instant};

use memberkey::domain::{Right, SystemClock};
use memberkey::mail::{MailTransport, OutgoingEmail, SendError};
use serde_json::{Value, json};

use crate::credentials::set;
use crate::helpers::{
    Backend, Mail, TestApp, both, code, eventually, org, per_backend, person, spawn_full,
};
use crate::resets::{NEW_PASSWORD, check, links, set_with_token, token_of};

pub const CREATE: &str = "mutation($i: CreateMassCommunicationInput!) { createMassCommunication(input: $i) { massCommunication { id status html } } }";
pub const SEND: &str = "mutation($id: ID!) { sendMassCommunication(id: $id) { massCommunication { id status counts { total pending sent failed skipped } } } }";
pub const VIEW: &str = "query($id: ID!) { massCommunication(id: $id) { status counts { total pending sent failed skipped cancelled } deliveries(first: 500) { edges { node { profileId email status skipReason error providerMessageId linkState attempts } } } } }";

pub async fn create(app: &TestApp, token: &str, input: Value) -> Value {
    app.gql(Some(token), CREATE, json!({ "i": input })).await
}

pub async fn create_ok(app: &TestApp, token: &str, input: Value) -> String {
    let resp = create(app, token, input).await;
    resp["data"]["createMassCommunication"]["massCommunication"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{resp}"))
        .to_owned()
}

pub async fn view(app: &TestApp, token: &str, id: &str) -> Value {
    let resp = app.gql(Some(token), VIEW, json!({ "id": id })).await;
    assert!(resp["errors"].is_null(), "{resp}");
    resp["data"]["massCommunication"].clone()
}

/// Waits (up to 30 s) until nothing is pending and returns the final view.
pub async fn wait_done(app: &TestApp, token: &str, id: &str) -> Value {
    let done = eventually(StdDuration::from_secs(30), move || async move {
        let v = view(app, token, id).await;
        let ended =
            v["counts"]["pending"] == 0 && v["status"] != "QUEUED" && v["status"] != "SENDING";
        ended.then_some(v)
    })
    .await;
    done.unwrap_or_else(|| panic!("mass communication {id} did not finish"))
}

const BODY: &str = "<h1>News</h1><p>Dear {{first_name}} of {{organization_name}},</p>[[PORTALLOGINLINK]]<p>Regards</p>";

both!(special_fields_list_the_credentials_link, |app| async move {
    let token = app.admin().await;
    let resp = app
        .gql(
            Some(&token),
            "{ specialFields { token label description } }",
            json!({}),
        )
        .await;
    let fields = resp["data"]["specialFields"].as_array().unwrap();
    let tokens: Vec<&str> = fields
        .iter()
        .map(|f| f["token"].as_str().unwrap())
        .collect();
    for t in [
        "{{first_name}}",
        "{{last_name}}",
        "{{full_name}}",
        "{{organization_name}}",
        "{{email}}",
        "{{username}}",
        "{{profile_id}}",
        "{{portal_login_credentials_link}}",
    ] {
        assert!(tokens.contains(&t), "{t} missing from {tokens:?}");
    }
    assert!(
        fields
            .iter()
            .any(|f| f["label"] == "Portal Login Credentials Link")
    );
});

both!(templates_are_checked_and_sanitised, |app| async move {
    let token = app.admin().await;
    let id = app
        .create_profile(&token, person("Ann", "Lee", Some("ann@example.org")))
        .await;
    let base = |subject: &str, html: &str| json!({ "subject": subject, "html": html, "recipients": { "profileIds": [id] } });
    let resp = create(&app, &token, base("Hi", "<p>ok</p>\n<p>{{shoe_size}}</p>")).await;
    assert_eq!(code(&resp), "BAD_USER_INPUT");
    assert_eq!(resp["errors"][0]["extensions"]["field"], "input.html");
    let msg = resp["errors"][0]["message"].as_str().unwrap();
    assert!(
        msg.contains("shoe_size") && msg.contains("line 2, column 4"),
        "{msg}"
    );
    // A near miss names the field it was probably meant to be; `reason` is the refusal alone,
    // for a form to show beside the field.
    let resp = create(&app, &token, base("Hi {{fulname}}", "<p>ok</p>")).await;
    let ext = &resp["errors"][0]["extensions"];
    assert_eq!(ext["field"], "input.subject", "{resp}");
    assert_eq!(
        ext["reason"],
        "uses the unknown merge field {{fulname}} at line 1, column 4; did you mean {{full_name}}?"
    );
    let resp = create(&app, &token, base("Hi {{first_name", "<p>ok</p>")).await;
    assert_eq!(resp["errors"][0]["extensions"]["field"], "input.subject");
    let resp = create(
        &app,
        &token,
        base("Hi\r\nBcc: attacker@evil.example", "<p>ok</p>"),
    )
    .await;
    assert_eq!(code(&resp), "BAD_USER_INPUT");
    let resp = create(&app, &token, base("Hi", "<p onclick=\"steal()\">x</p><script>alert(1)</script><a href=\"javascript:alert(1)\">y</a>")).await;
    let html = resp["data"]["createMassCommunication"]["massCommunication"]["html"]
        .as_str()
        .unwrap();
    assert!(
        !html.contains("script") && !html.contains("onclick") && !html.contains("javascript:"),
        "{html}"
    );
    let clerk = app.staff_with("clerk", &[Right::ManageProfiles]).await;
    assert_eq!(
        code(&create(&app, &clerk, base("Hi", "<p>x</p>")).await),
        "FORBIDDEN"
    );
});

both!(each_recipient_gets_their_own_link, |app| async move {
    let token = app.admin().await;
    let company = app
        .create_profile(
            &token,
            org("Harbour <Supplies>", Some("office@harbour.example")),
        )
        .await;
    let ann = app
        .create_profile(&token, json!({ "kind": "INDIVIDUAL", "firstName": "<b>Ann</b>", "lastName": "Lee", "email": "ann@example.org", "parentId": company }))
        .await;
    set(
        &app,
        &token,
        json!({ "profileId": ann, "username": "annlee" }),
    )
    .await;
    let bo = app
        .create_profile(&token, person("Bo", "Ek", Some("bo@example.org")))
        .await;
    let no_email = app.create_profile(&token, person("Cy", "Nil", None)).await;
    let opted_out = app
        .create_profile(&token, json!({ "kind": "INDIVIDUAL", "firstName": "Di", "email": "di@example.org", "emailOptOut": true }))
        .await;
    let id = create_ok(
        &app,
        &token,
        json!({
            "subject": "News for {{first_name}}",
            "html": BODY,
            "recipients": { "profileIds": [company, ann, bo, no_email, opted_out, ann] },
        }),
    )
    .await;

    // The preview is what Ann gets, with a link that grants nothing.
    let preview = app
        .gql(Some(&token), "query($id: ID!, $p: ID) { previewMassCommunication(id: $id, profileId: $p) { subject html text } }", json!({ "id": id, "p": ann }))
        .await;
    let p = &preview["data"]["previewMassCommunication"];
    assert_eq!(p["subject"], "News for <b>Ann</b>");
    let html = p["html"].as_str().unwrap();
    assert!(
        html.contains("Dear &lt;b&gt;Ann&lt;/b&gt; of Harbour &lt;Supplies&gt;"),
        "{html}"
    );
    assert!(html.contains("Username: <strong>annlee</strong>"), "{html}");
    let text = p["text"].as_str().unwrap();
    assert!(
        text.contains("Dear <b>Ann</b> of Harbour <Supplies>,")
            && text.contains("Username: annlee"),
        "{text}"
    );
    let sample = text
        .split_whitespace()
        .find(|w| w.contains("#token="))
        .unwrap();
    assert_eq!(check(&app, &token_of(sample)).await["state"], "INVALID");

    // Before it goes: whom it reaches, and whom it skips and why (what the console's send
    // button says); once sent, the counts say it instead.
    const PLAN: &str = "query($id: ID!) { massCommunication(id: $id) { sendPlan { reach skipped { reason count } } } }";
    let plan = app.gql(Some(&token), PLAN, json!({ "id": id })).await;
    assert_eq!(
        plan["data"]["massCommunication"]["sendPlan"],
        json!({ "reach": 4, "skipped": [{ "reason": "NO_EMAIL_ADDRESS", "count": 1 }] }),
        "{plan}"
    );

    let resp = app.gql(Some(&token), SEND, json!({ "id": id })).await;
    assert!(resp["errors"].is_null(), "{resp}");
    let plan = app.gql(Some(&token), PLAN, json!({ "id": id })).await;
    assert!(
        plan["data"]["massCommunication"]["sendPlan"].is_null(),
        "{plan}"
    );
    let done = wait_done(&app, &token, &id).await;
    assert_eq!(done["status"], "SENT");
    // Credentials go out as a SERVICE communication: the member who left news gets them too.
    assert_eq!(
        done["counts"],
        json!({ "total": 5, "pending": 0, "sent": 4, "failed": 0, "skipped": 1, "cancelled": 0 })
    );
    let reasons: Vec<&str> = done["deliveries"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["node"]["skipReason"].as_str())
        .collect();
    assert_eq!(reasons, ["NO_EMAIL_ADDRESS"]);

    let sent = app.mail.wait_for(4, StdDuration::from_secs(10)).await;
    assert_eq!(sent.len(), 4);
    assert!(sent.iter().any(|m| m.to == "di@example.org"));
    let mut seen = std::collections::HashSet::new();
    for mail in &sent {
        let found = links(mail);
        assert_eq!(found.len(), 1, "{}", mail.text);
        assert!(seen.insert(found[0].clone()), "links are unique");
        assert!(mail.subject.starts_with("News for"));
        assert_eq!(check(&app, &token_of(&found[0])).await["state"], "VALID");
    }
    let ann_mail = sent.iter().find(|m| m.to == "ann@example.org").unwrap();
    assert!(
        ann_mail.text.contains("Username: annlee"),
        "{}",
        ann_mail.text
    );
    let bo_mail = sent.iter().find(|m| m.to == "bo@example.org").unwrap();
    assert!(
        bo_mail.text.contains("Username: bo@example.org"),
        "{}",
        bo_mail.text
    );
    let link_state = check(&app, &token_of(&links(bo_mail)[0])).await;
    let expires: chrono::DateTime<chrono::Utc> =
        link_state["expiresAt"].as_str().unwrap().parse().unwrap();
    assert!(
        expires - chrono::Utc::now() > chrono::Duration::days(6),
        "mass links last 7 days"
    );

    // Bo uses his link; the progress view shows it.
    assert!(
        set_with_token(&app, &token_of(&links(bo_mail)[0]), NEW_PASSWORD).await["data"]["setPasswordWithToken"]["login"]
            .is_string());
    let v = view(&app, &token, &id).await;
    let states: Vec<(&str, &str)> = v["deliveries"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            Some((
                e["node"]["email"].as_str()?,
                e["node"]["linkState"].as_str()?,
            ))
        })
        .collect();
    assert!(states.contains(&("bo@example.org", "USED")), "{states:?}");
    assert!(
        states.contains(&("ann@example.org", "UNUSED")),
        "{states:?}"
    );

    // Sent is sent: no second send, no edits.
    assert_eq!(
        code(&app.gql(Some(&token), SEND, json!({ "id": id })).await),
        "CONFLICT"
    );
    let upd = app.gql(Some(&token), "mutation($i: UpdateMassCommunicationInput!) { updateMassCommunication(input: $i) { massCommunication { id } } }", json!({ "i": { "id": id, "subject": "x" } })).await;
    assert_eq!(code(&upd), "CONFLICT");
});

both!(
    filters_related_profiles_and_duplicate_addresses,
    |app| async move {
        let token = app.admin().await;
        let acme = app
            .create_profile(&token, org("Acme", Some("shared@acme.example")))
            .await;
        for name in ["Ulf", "Vera"] {
            app.create_profile(&token, json!({ "kind": "INDIVIDUAL", "firstName": name, "email": "shared@acme.example", "parentId": acme })).await;
        }
        app.create_profile(&token, person("Wim", "Solo", Some("wim@example.org")))
            .await;
        // No credentials field: one message per address.
        let id = create_ok(&app, &token, json!({
        "subject": "Hello {{full_name}}",
        "html": "<p>Hello {{full_name}}</p>",
        "recipients": { "filter": { "kind": "ORGANIZATION", "includeRelatedProfiles": true } },
    }))
    .await;
        app.gql(Some(&token), SEND, json!({ "id": id })).await;
        let done = wait_done(&app, &token, &id).await;
        assert_eq!(
            done["counts"]["total"], 3,
            "Acme and its two people, not Wim: {done}"
        );
        assert_eq!(done["counts"]["sent"], 1);
        assert_eq!(done["counts"]["skipped"], 2);
        assert!(done.to_string().contains("DUPLICATE_ADDRESS"));
    }
);

both!(
    a_test_copy_uses_a_sample_link_and_counts_nowhere,
    |app| async move {
        let token = app.admin().await;
        let ann = app
            .create_profile(&token, person("Ann", "Lee", Some("ann@example.org")))
            .await;
        let id = create_ok(
            &app,
            &token,
            json!({ "subject": "S", "html": BODY, "recipients": { "profileIds": [ann] } }),
        )
        .await;
        let resp = app
        .gql(Some(&token), "mutation($id: ID!) { sendTestMassCommunication(id: $id, email: \"editor@chamber.example\") { sentTo } }", json!({ "id": id }))
        .await;
        assert_eq!(
            resp["data"]["sendTestMassCommunication"]["sentTo"], "editor@chamber.example",
            "{resp}"
        );
        let mail = &app.mail.wait_for(1, StdDuration::from_secs(10)).await[0];
        assert_eq!(mail.to, "editor@chamber.example");
        assert_eq!(
            check(&app, &token_of(&links(mail)[0])).await["state"],
            "INVALID"
        );
        let v = view(&app, &token, &id).await;
        assert_eq!(v["status"], "DRAFT");
        assert_eq!(v["counts"]["total"], 0);
    }
);

async fn rate_and_cancel(backend: Backend) {
    let app = spawn_full(
        backend,
        |c| c.mail.max_send_rate = 5.0,
        Arc::new(SystemClock),
        Mail::Memory,
    )
    .await;
    let token = app.admin().await;
    let mut ids = Vec::new();
    for i in 0..40 {
        ids.push(
            app.create_profile(
                &token,
                person("R", &format!("Cpt{i}"), Some(&format!("r{i}@example.org"))),
            )
            .await,
        );
    }
    let id = create_ok(
        &app,
        &token,
        json!({ "subject": "S", "html": BODY, "recipients": { "profileIds": ids } }),
    )
    .await;
    app.gql(Some(&token), SEND, json!({ "id": id })).await;
    // Let about a dozen go, then stop it.
    app.mail.wait_for(12, StdDuration::from_secs(20)).await;
    let resp = app
        .gql(Some(&token), "mutation($id: ID!) { cancelMassCommunication(id: $id) { massCommunication { status counts { cancelled } } } }", json!({ "id": id }))
        .await;
    let sent_when_cancelled = app.mail.sent().len();
    assert_eq!(
        resp["data"]["cancelMassCommunication"]["massCommunication"]["status"], "CANCELLED",
        "{resp}"
    );
    let done = wait_done(&app, &token, &id).await;
    let c = &done["counts"];
    assert!(c["cancelled"].as_i64().unwrap() > 0, "{c}");
    assert_eq!(
        c["sent"].as_i64().unwrap() + c["cancelled"].as_i64().unwrap(),
        40,
        "{c}"
    );
    // Everything that was going to be sent has been once the queue drains.
    app.app.drain_mail().await.unwrap();
    assert_eq!(
        app.mail.sent().len() as i64,
        c["sent"].as_i64().unwrap(),
        "nothing goes out after cancelling"
    );
    // The batch in hand (25 at this rate) and the one claimed ahead are checked again before
    // each send: after the cancel, only messages already in the provider's hands (one per
    // sending slot) may still have gone out.
    let after = app.mail.sent().len() - sent_when_cancelled;
    let slots = app.app.services.config.mail.send_concurrency;
    assert!(
        after <= slots,
        "{after} messages went out after the cancel (at most {slots} were in flight)"
    );
    // Never more than 5 in any one-second window.
    let times: Vec<Instant> = app.mail.times();
    for (i, t) in times.iter().enumerate() {
        let window = times[i..]
            .iter()
            .filter(|u| u.duration_since(*t) < StdDuration::from_secs(1))
            .count();
        assert!(window <= 5, "{window} sends within one second");
    }
}
per_backend!(
    send_rate_holds_and_cancel_stops_the_rest,
    super::rate_and_cancel
);

/// Refuses each address in `bounce` the first time it is tried.
struct BounceOnce {
    bounce: Vec<String>,
    refused: std::sync::Mutex<Vec<String>>,
    calls: AtomicUsize,
}

#[async_trait::async_trait]
impl MailTransport for BounceOnce {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, SendError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut refused = self.refused.lock().unwrap();
        if self.bounce.contains(&email.to) && !refused.contains(&email.to) {
            refused.push(email.to.clone());
            return Err(SendError::Permanent(
                "MessageRejected: mailbox unavailable".into(),
            ));
        }
        Ok(format!("ok-{}", email.outbound_id))
    }
}

async fn retry_failed(backend: Backend) {
    let transport = Arc::new(BounceOnce {
        bounce: vec!["b1@example.org".into(), "b2@example.org".into()],
        refused: Default::default(),
        calls: AtomicUsize::new(0),
    });
    let app = spawn_full(
        backend,
        |_| {},
        Arc::new(SystemClock),
        Mail::Custom(transport.clone()),
    )
    .await;
    let token = app.admin().await;
    let mut ids = Vec::new();
    for name in ["ok1", "ok2", "ok3", "b1", "b2"] {
        ids.push(
            app.create_profile(
                &token,
                person("X", name, Some(&format!("{name}@example.org"))),
            )
            .await,
        );
    }
    let id = create_ok(
        &app,
        &token,
        json!({ "subject": "S", "html": BODY, "recipients": { "profileIds": ids } }),
    )
    .await;
    app.gql(Some(&token), SEND, json!({ "id": id })).await;
    let done = wait_done(&app, &token, &id).await;
    assert_eq!(done["counts"]["failed"], 2, "{done}");
    assert_eq!(done["counts"]["sent"], 3);
    assert!(done.to_string().contains("mailbox unavailable"));
    let resp = app
        .gql(Some(&token), "mutation($id: ID!) { retryFailedDeliveries(id: $id) { massCommunication { status } } }", json!({ "id": id }))
        .await;
    assert!(resp["errors"].is_null(), "{resp}");
    let done = wait_done(&app, &token, &id).await;
    assert_eq!(done["counts"]["sent"], 5, "{done}");
    assert_eq!(done["status"], "SENT");
    assert_eq!(
        transport.calls.load(Ordering::SeqCst),
        7,
        "only the two failed ones were sent again"
    );
}
per_backend!(retry_resends_only_failed_deliveries, super::retry_failed);
