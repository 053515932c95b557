//! Short delivery leases kept alive by a heartbeat (issue 13): a live worker keeps its
//! messages however slow the provider is, and a dead worker's messages are free again after
//! one lease.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use memberkey::domain::SystemClock;
use memberkey::mail::memory::MemoryTransport;
use memberkey::mail::{MailTransport, OutgoingEmail, SendError};

use crate::helpers::{Backend, Mail, eventually, per_backend, person, spawn_full};
use crate::resets::send_reset;

/// A provider that takes `delay` to accept each message.
struct Slow {
    delay: StdDuration,
    inner: MemoryTransport,
}

#[async_trait::async_trait]
impl MailTransport for Slow {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, SendError> {
        tokio::time::sleep(self.delay).await;
        self.inner.send(email).await
    }
}

async fn a_slow_send_keeps_its_lease(backend: Backend) {
    let slow = Arc::new(Slow {
        delay: StdDuration::from_secs(4),
        inner: MemoryTransport::new(),
    });
    let app = spawn_full(
        backend,
        |c| c.mail.lease = Duration::seconds(1),
        Arc::new(SystemClock),
        Mail::Custom(slow.clone()),
    )
    .await;
    let admin = app.admin().await;
    let id = app
        .create_profile(
            &admin,
            person("Maria", "Jensen", Some("maria@harbour.example")),
        )
        .await;
    send_reset(&app, &admin, &id).await;
    // Once the slow worker holds the message, a second process joins on the same database.
    let held = "SELECT COUNT(*) AS n FROM outbound_emails WHERE status = 'SENDING'";
    let app_ref = &app;
    let holding = eventually(StdDuration::from_secs(5), move || async move {
        (app_ref.sql_value::<i64>(held, "n").await == 1).then_some(())
    })
    .await;
    if holding.is_none() {
        panic!(
            "the first worker holds the message: {} rows SENDING",
            app.sql_value::<i64>(held, "n").await
        );
    }
    let other = Arc::new(MemoryTransport::new());
    let sibling = app.sibling(other.clone()).await;

    // The send takes four leases; the heartbeat keeps the lease, so the other worker never
    // takes the message over and it goes out once, unflagged.
    let sent = slow.inner.wait_for(1, StdDuration::from_secs(30)).await;
    assert_eq!(sent.len(), 1);
    app.app.drain_mail().await.unwrap();
    assert!(
        other.sent().is_empty(),
        "the live worker's message was taken over: {:?}",
        other.sent()
    );
    let row = "SELECT COUNT(*) AS n FROM outbound_emails WHERE status = 'SENT' AND possible_duplicate = false AND attempts = 1";
    assert_eq!(app.sql_value::<i64>(row, "n").await, 1);
    sibling.shutdown().await;
}
per_backend!(
    a_slow_send_never_loses_its_lease_while_its_worker_lives,
    super::a_slow_send_keeps_its_lease
);
