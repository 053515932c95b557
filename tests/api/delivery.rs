//! The durable mail queue: the default outbox transport, retries on throttling, and
//! permanent failures recorded per message.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration as StdDuration;

use chrono::Duration;
use memberkey::domain::{ManualClock, SystemClock};
use memberkey::mail::{MailTransport, OutgoingEmail, SendError};
use serde_json::json;

use crate::helpers::{Backend, Mail, TestApp, eventually, per_backend, person, spawn_full};
use crate::resets::send_reset;

/// Waits (up to 20 s) until `sql` (a single `n` column) reads `want`; what it read last.
async fn wait_for_count(app: &TestApp, sql: &str, want: i64) -> i64 {
    let reached = eventually(StdDuration::from_secs(20), move || async move {
        (app.sql_value::<i64>(sql, "n").await == want).then_some(want)
    })
    .await;
    match reached {
        Some(n) => n,
        None => app.sql_value::<i64>(sql, "n").await,
    }
}

async fn outbox_is_the_default(backend: Backend) {
    let app = spawn_full(backend, |_| {}, Arc::new(SystemClock), Mail::Configured).await;
    let admin = app.admin().await;
    let id = app
        .create_profile(
            &admin,
            person("Maria", "Jensen", Some("maria@harbour.example")),
        )
        .await;
    send_reset(&app, &admin, &id).await;
    let sent = wait_for_count(
        &app,
        "SELECT COUNT(*) AS n FROM outbound_emails WHERE status = 'SENT'",
        1,
    )
    .await;
    assert_eq!(sent, 1);
    let file: String = app
        .sql_value(
            "SELECT provider_message_id FROM outbound_emails",
            "provider_message_id",
        )
        .await;
    let dir = app.app.services.config.mail.outbox_dir.clone();
    let raw = std::fs::read_to_string(dir.join(&file)).expect("the .eml file");
    assert!(raw.contains("\r\nTo: maria@harbour.example\r\n"), "{raw}");
    assert!(
        raw.contains("From: \"Harbour Chamber\" <no-reply@chamber.example>")
            || raw.contains("From: Harbour Chamber <no-reply@chamber.example>"),
        "{raw}"
    );
    assert!(raw.contains("multipart/alternative"), "{raw}");
    assert!(
        raw.contains("text/plain") && raw.contains("text/html"),
        "{raw}"
    );
    assert!(raw.contains("Message-ID: <"), "{raw}");
    assert!(raw.contains("set-password#token="), "{raw}");
    // The queue holds only the token's digest: the raw token is in the mail alone.
    let token_hash: String = app
        .sql_value("SELECT token_hash FROM credential_tokens", "token_hash")
        .await;
    // The token's creation time (12 hex digits, milliseconds), then its SHA-256 (64).
    assert_eq!(token_hash.len(), 76);
    assert!(!raw.contains(&token_hash[12..]));
    let minted_ms = i64::from_str_radix(&token_hash[..12], 16).expect("hex time");
    let age_ms = chrono::Utc::now().timestamp_millis() - minted_ms;
    assert!((0..600_000).contains(&age_ms), "minted {age_ms} ms ago");
}
per_backend!(
    the_outbox_writes_an_eml_file_per_message,
    super::outbox_is_the_default
);

/// Answers TooManyRequests a set number of times, then accepts.
struct Throttling {
    refusals_left: AtomicUsize,
    calls: AtomicUsize,
}

#[async_trait::async_trait]
impl MailTransport for Throttling {
    async fn send(&self, _email: &OutgoingEmail) -> Result<String, SendError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self
            .refusals_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(SendError::Throttled(
                "TooManyRequestsException: Maximum sending rate exceeded".into(),
            ));
        }
        Ok("accepted-1".into())
    }
}

async fn throttled_mail_is_retried(backend: Backend) {
    use chrono::SubsecRound;
    let clock = ManualClock::new(chrono::Utc::now().trunc_subsecs(0));
    let transport = Arc::new(Throttling {
        refusals_left: AtomicUsize::new(3),
        calls: AtomicUsize::new(0),
    });
    let app = spawn_full(
        backend,
        |_| {},
        Arc::new(clock.clone()),
        Mail::Custom(transport.clone()),
    )
    .await;
    let admin = app.admin().await;
    let id = app
        .create_profile(&admin, person("Ivo", "Falk", Some("ivo@example.org")))
        .await;
    send_reset(&app, &admin, &id).await;
    for attempt in 1..=3 {
        let n = wait_for_count(
            &app,
            &format!("SELECT COUNT(*) AS n FROM outbound_emails WHERE status = 'QUEUED' AND attempts = {attempt}"),
            1,
        )
        .await;
        assert_eq!(
            n, 1,
            "attempt {attempt} was throttled and the row waits, still queued"
        );
        let error: String = app
            .sql_value("SELECT last_error FROM outbound_emails", "last_error")
            .await;
        assert!(error.contains("TooManyRequests"), "{error}");
        // Not before its backoff ends: a drain finds nothing due.
        app.app.drain_mail().await.unwrap();
        assert_eq!(transport.calls.load(Ordering::SeqCst), attempt);
        clock.advance(Duration::minutes(11));
    }
    let sent = wait_for_count(
        &app,
        "SELECT COUNT(*) AS n FROM outbound_emails WHERE status = 'SENT' AND attempts = 4",
        1,
    )
    .await;
    assert_eq!(
        sent, 1,
        "the message went out on the fourth attempt and was never dropped"
    );
    assert_eq!(transport.calls.load(Ordering::SeqCst), 4);
}
per_backend!(
    throttled_mail_is_retried_later_and_never_lost,
    super::throttled_mail_is_retried
);

struct Rejecting;

#[async_trait::async_trait]
impl MailTransport for Rejecting {
    async fn send(&self, _email: &OutgoingEmail) -> Result<String, SendError> {
        Err(SendError::Permanent(
            "MessageRejected: address is on the suppression list".into(),
        ))
    }
}

async fn permanent_failures_are_recorded(backend: Backend) {
    let app = spawn_full(
        backend,
        |_| {},
        Arc::new(SystemClock),
        Mail::Custom(Arc::new(Rejecting)),
    )
    .await;
    let admin = app.admin().await;
    let id = app
        .create_profile(&admin, person("Una", "Dahl", Some("una@example.org")))
        .await;
    let resp = send_reset(&app, &admin, &id).await;
    // The request never waits on the provider, so it succeeds.
    assert_eq!(
        resp["data"]["sendPasswordResetEmail"]["sentTo"],
        json!("una@example.org")
    );
    let failed = wait_for_count(
        &app,
        "SELECT COUNT(*) AS n FROM outbound_emails WHERE status = 'FAILED'",
        1,
    )
    .await;
    assert_eq!(failed, 1);
    let error: String = app
        .sql_value("SELECT last_error FROM outbound_emails", "last_error")
        .await;
    assert!(error.contains("suppression"), "{error}");
    let attempts: i32 = app
        .sql_value("SELECT attempts FROM outbound_emails", "attempts")
        .await;
    assert_eq!(attempts, 1, "a permanent failure is not retried");
}
per_backend!(
    permanent_failures_are_recorded_per_message,
    super::permanent_failures_are_recorded
);

/// Gives no answer the first time (as a timeout after sending would), then accepts.
struct SilentOnce {
    calls: AtomicUsize,
}

#[async_trait::async_trait]
impl MailTransport for SilentOnce {
    async fn send(&self, _email: &OutgoingEmail) -> Result<String, SendError> {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            return Err(SendError::Uncertain(
                "operation timed out after the request was sent".into(),
            ));
        }
        Ok("accepted-after-timeout".into())
    }
}

async fn uncertain_sends_are_marked(backend: Backend) {
    use chrono::SubsecRound;
    let clock = ManualClock::new(chrono::Utc::now().trunc_subsecs(0));
    let transport = Arc::new(SilentOnce {
        calls: AtomicUsize::new(0),
    });
    let app = spawn_full(
        backend,
        |_| {},
        Arc::new(clock.clone()),
        Mail::Custom(transport.clone()),
    )
    .await;
    let admin = app.admin().await;
    let id = app
        .create_profile(&admin, person("Ola", "Vik", Some("ola@example.org")))
        .await;
    send_reset(&app, &admin, &id).await;
    let waiting = wait_for_count(
        &app,
        "SELECT COUNT(*) AS n FROM outbound_emails WHERE status = 'QUEUED' AND attempts = 1",
        1,
    )
    .await;
    assert_eq!(waiting, 1);
    clock.advance(Duration::minutes(11));
    let sent = wait_for_count(
        &app,
        "SELECT COUNT(*) AS n FROM outbound_emails WHERE status = 'SENT' AND attempts = 2",
        1,
    )
    .await;
    assert_eq!(sent, 1, "retried after the backoff and sent");
    let marked: bool = app
        .sql_value(
            "SELECT possible_duplicate FROM outbound_emails",
            "possible_duplicate",
        )
        .await;
    assert!(
        marked,
        "a send that may have gone out is marked a possible duplicate"
    );
    assert_eq!(transport.calls.load(Ordering::SeqCst), 2);
}
per_backend!(
    a_send_without_an_answer_is_retried_and_marked,
    super::uncertain_sends_are_marked
);
