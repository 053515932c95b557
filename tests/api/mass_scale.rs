//! Mass sends across processes and through the SES emulator.

use std::collections::HashSet;
use std::sync::Arc;

use memberkey::domain::SystemClock;
use memberkey::mail::memory::MemoryTransport;
use serde_json::json;

use crate::helpers::{Backend, Mail, postgres_enabled, spawn_full};
use crate::mass::{SEND, create_ok, wait_done};
use crate::resets::token_of;
use crate::ses::{Moto, unfold_qp};

/// Recipients of the two-process send: more than one worker holds at once (at 200 a second
/// a batch is 500 rows, and a worker claims the next batch as it starts sending one), so the
/// other process always finds rows to claim. With 1000, the process that was woken by the
/// send could hold every row before the other's first poll, and the test failed about one run
/// in three once claims got quicker.
const TWO_PROCESS_RECIPIENTS: usize = 1500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_deliver_one_send_without_duplicates() {
    if !postgres_enabled() {
        return;
    }
    let app = spawn_full(
        Backend::Postgres,
        |c| c.mail.max_send_rate = 200.0,
        Arc::new(SystemClock),
        Mail::Memory,
    )
    .await;
    let other_mail = Arc::new(MemoryTransport::new());
    let other = app.sibling(other_mail.clone()).await;
    let token = app.admin().await;
    app.bulk_people(TWO_PROCESS_RECIPIENTS, "two").await;
    let id = create_ok(
        &app,
        &token,
        json!({
            "subject": "S", "html": "<p>{{first_name}}</p>{{portal_login_credentials_link}}",
            "recipients": { "filter": { "kind": "INDIVIDUAL" } },
        }),
    )
    .await;
    app.gql(Some(&token), SEND, json!({ "id": id })).await;
    let done = wait_done(&app, &token, &id).await;
    assert_eq!(
        done["counts"]["sent"], TWO_PROCESS_RECIPIENTS,
        "{}",
        done["counts"]
    );
    let a = app.mail.sent();
    let b = other_mail.sent();
    assert!(
        !a.is_empty() && !b.is_empty(),
        "both processes sent: {} and {}",
        a.len(),
        b.len()
    );
    let mut ids = HashSet::new();
    for m in a.iter().chain(b.iter()) {
        assert!(
            ids.insert(m.outbound_id),
            "delivery {} went out twice",
            m.outbound_id
        );
    }
    assert_eq!(ids.len(), TWO_PROCESS_RECIPIENTS);
    other.shutdown().await;
}

async fn mass_through_ses(backend: Backend) {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let transport = Arc::new(moto.transport().await);
    let app = spawn_full(
        backend,
        |_| {},
        Arc::new(SystemClock),
        Mail::Custom(transport),
    )
    .await;
    let token = app.admin().await;
    app.bulk_people(3, "ses").await;
    let id = create_ok(
        &app,
        &token,
        json!({
            "subject": "Portal access for {{first_name}}",
            "html": "<p>Dear {{first_name}},</p>[[PORTALLOGINLINK]]",
            "recipients": { "filter": { "kind": "INDIVIDUAL" } },
        }),
    )
    .await;
    app.gql(Some(&token), SEND, json!({ "id": id })).await;
    let done = wait_done(&app, &token, &id).await;
    assert_eq!(done["counts"]["sent"], 3, "{done}");
    let sent = moto.wait_for(3).await;
    assert_eq!(sent.len(), 3);
    let mut links = HashSet::new();
    for m in &sent {
        let raw = unfold_qp(m["raw_data"].as_str().unwrap());
        let to = m["destinations"][0].as_str().unwrap();
        let first = to.split('@').next().unwrap();
        assert!(
            raw.contains(&format!("Subject: Portal access for {first}")),
            "{raw}"
        );
        let at = raw.find("#token=").expect("a link");
        links.insert(token_of(&raw[at..at + 50]));
    }
    assert_eq!(links.len(), 3, "each recipient has their own link");
    let ids: HashSet<String> = sent
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    let v = app
        .gql(Some(&token), "query($id: ID!) { massCommunication(id: $id) { deliveries { edges { node { providerMessageId } } } } }", json!({ "id": id }))
        .await;
    for e in v["data"]["massCommunication"]["deliveries"]["edges"]
        .as_array()
        .unwrap()
    {
        assert!(
            ids.contains(e["node"]["providerMessageId"].as_str().unwrap()),
            "{v}"
        );
    }
}
crate::helpers::per_backend!(a_small_mass_send_goes_through_ses, super::mass_through_ses);
