//! The worker claims and prepares the next batch while the current one sends (issue 13, part
//! 5). A batch held ahead is checked again before it goes out, and so is each message of the
//! batch in hand right before its send: a communication cancelled meanwhile is not sent beyond
//! the messages already at the provider, a pause of all delivery puts it back in the queue, and a worker that
//! stops puts it back too, unsent and not flagged as a possible duplicate.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use memberkey::domain::SystemClock;
use memberkey::mail::memory::MemoryTransport;
use memberkey::mail::{MailTransport, OutgoingEmail, SendError};
use memberkey::{App, RunningApp};
use serde_json::json;

use crate::helpers::{Backend, Mail, TestApp, eventually, per_backend, spawn_full};
use crate::mass::{SEND, create_ok};

/// More than one batch: the first claim takes 500 (the most a round takes), the claim ahead
/// the other 100.
const RECIPIENTS: i64 = 600;

/// The sending process's concurrency: how many messages are at the provider at once.
const SLOTS: usize = 4;

/// A provider that holds every message until the test opens it, or refuses the account.
struct Gate {
    open: tokio::sync::watch::Sender<bool>,
    refuse: bool,
    inner: MemoryTransport,
    /// Messages handed to the provider so far (held at the gate or through it).
    entered: std::sync::atomic::AtomicUsize,
}

impl Gate {
    fn new(refuse: bool) -> Arc<Self> {
        Arc::new(Self {
            open: tokio::sync::watch::channel(false).0,
            refuse,
            inner: MemoryTransport::new(),
            entered: Default::default(),
        })
    }

    fn open(&self) {
        self.open.send_replace(true);
    }
}

#[async_trait::async_trait]
impl MailTransport for Gate {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, SendError> {
        if self.refuse {
            return Err(SendError::AccountRefused(
                "AccountSuspendedException: sending is suspended for this account".into(),
            ));
        }
        self.entered
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let mut open = self.open.subscribe();
        let _ = open.wait_for(|o| *o).await;
        self.inner.send(email).await
    }
}

/// An app whose own worker is off, and a second process on its database whose worker sends
/// through `gate` with no rate limit; a communication to all `RECIPIENTS` is sent, and the
/// test goes on once both batches are held.
async fn held_ahead(backend: Backend, gate: Arc<Gate>) -> (TestApp, RunningApp, String, String) {
    let app = spawn_full(
        backend,
        |c| c.mail.worker = false,
        Arc::new(SystemClock),
        Mail::Memory,
    )
    .await;
    let mut config = (*app.app.services.config).clone();
    config.mail.worker = true;
    config.mail.max_send_rate = 1e9;
    config.mail.send_concurrency = SLOTS;
    let worker = App::build_with(config.clone(), Arc::new(SystemClock), Some(gate))
        .await
        .expect("build the sending process")
        .spawn(config.listen)
        .await
        .expect("spawn the sending process");
    let admin = app.admin().await;
    app.bulk_people(RECIPIENTS as usize, "ahead").await;
    let mass = create_ok(
        &app,
        &admin,
        json!({
            "subject": "News", "html": "<p>{{first_name}}</p>{{portal_login_credentials_link}}",
            "recipients": { "filter": { "kind": "INDIVIDUAL" } },
        }),
    )
    .await;
    let resp = app.gql(Some(&admin), SEND, json!({ "id": mass })).await;
    assert!(resp["errors"].is_null(), "{resp}");
    (app, worker, admin, mass)
}

async fn count(app: &TestApp, status: &str) -> i64 {
    app.sql_value(
        &format!("SELECT COUNT(*) AS n FROM outbound_emails WHERE status = '{status}'"),
        "n",
    )
    .await
}

/// Waits until `n` rows are in `status`, for at most 30 s.
async fn until(app: &TestApp, what: &str, status: &str, n: i64) {
    let reached = eventually(StdDuration::from_secs(30), move || async move {
        (count(app, status).await == n).then_some(())
    })
    .await;
    if reached.is_none() {
        panic!("{what}: {} rows {status}", count(app, status).await);
    }
}

async fn cancelled_while_held_ahead(backend: Backend) {
    let gate = Gate::new(false);
    let (app, worker, admin, mass) = held_ahead(backend, gate.clone()).await;
    // The first batch waits at the provider (one message per sending slot); the second is
    // claimed and prepared meanwhile.
    until(&app, "both batches held", "SENDING", RECIPIENTS).await;
    let at_the_gate = eventually(StdDuration::from_secs(30), || async {
        (gate.entered.load(std::sync::atomic::Ordering::SeqCst) == SLOTS).then_some(())
    })
    .await;
    assert!(at_the_gate.is_some(), "every slot hands a message over");
    let resp = app
        .gql(
            Some(&admin),
            crate::mass_pause::CANCEL,
            json!({ "id": mass }),
        )
        .await;
    assert_eq!(
        resp["data"]["cancelMassCommunication"]["massCommunication"]["status"], "CANCELLED",
        "{resp}"
    );
    gate.open();
    until(&app, "the held batch ended", "SENDING", 0).await;
    // The messages already at the provider went out; the rest of the batch in hand and the
    // batch held ahead did not.
    assert_eq!(count(&app, "SENT").await, SLOTS as i64);
    assert_eq!(count(&app, "CANCELLED").await, RECIPIENTS - SLOTS as i64);
    assert_eq!(gate.inner.sent().len(), SLOTS);
    worker.shutdown().await;
}
per_backend!(
    a_batch_claimed_ahead_is_not_sent_after_its_communication_is_cancelled,
    super::cancelled_while_held_ahead
);

async fn paused_while_held_ahead(backend: Backend) {
    let gate = Gate::new(true);
    let (app, worker, _admin, _mass) = held_ahead(backend, gate.clone()).await;
    // The provider refuses the account at the first message: delivery pauses, the first
    // batch goes back to the queue, and so does the batch claimed ahead.
    let paused = "SELECT COUNT(*) AS n FROM delivery_pause";
    let app_ref = &app;
    let pause = eventually(StdDuration::from_secs(30), move || async move {
        (app_ref.sql_value::<i64>(paused, "n").await == 1).then_some(())
    })
    .await;
    assert!(pause.is_some(), "delivery paused");
    until(&app, "both batches back in the queue", "SENDING", 0).await;
    assert_eq!(count(&app, "QUEUED").await, RECIPIENTS);
    for status in ["SENT", "FAILED"] {
        assert_eq!(count(&app, status).await, 0, "{status}");
    }
    let flagged: i64 = app
        .sql_value(
            "SELECT COUNT(*) AS n FROM outbound_emails WHERE possible_duplicate = true",
            "n",
        )
        .await;
    assert_eq!(flagged, 0);
    worker.shutdown().await;
}
per_backend!(
    a_batch_claimed_ahead_goes_back_to_the_queue_when_delivery_pauses,
    super::paused_while_held_ahead
);

async fn stopped_while_held_ahead(backend: Backend) {
    let gate = Gate::new(false);
    let (app, worker, _admin, _mass) = held_ahead(backend, gate.clone()).await;
    until(&app, "both batches held", "SENDING", RECIPIENTS).await;
    // SIGTERM: the worker finishes the batch in hand and puts the one held ahead back. The
    // stop is asked for (the first poll of `shutdown`) before the provider answers.
    tokio::join!(worker.shutdown(), async { gate.open() });
    assert_eq!(count(&app, "SENT").await, 500);
    assert_eq!(count(&app, "QUEUED").await, RECIPIENTS - 500);
    assert_eq!(count(&app, "SENDING").await, 0);
    let flagged: i64 = app
        .sql_value(
            "SELECT COUNT(*) AS n FROM outbound_emails WHERE possible_duplicate = true",
            "n",
        )
        .await;
    assert_eq!(flagged, 0);
    assert_eq!(gate.inner.sent().len(), 500);
}
per_backend!(
    a_stopping_worker_puts_the_batch_claimed_ahead_back,
    super::stopped_while_held_ahead
);
