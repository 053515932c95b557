//! Crash safety of a mass send: the real binary is killed with SIGKILL in the middle of a
//! 10,000-recipient send and started again. Every recipient must end sent or failed, none
//! lost; a recipient may get the message twice only if it was in flight at the crash (at most
//! the send concurrency), and such deliveries are marked as possible duplicates. The lease is
//! the default one: the dead process's messages are taken over when it runs out.

mod support;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sea_orm::ConnectionTrait;
use serde_json::json;
use support::{Server, eventually, gql, staff_token};

const RECIPIENTS: usize = 10_000;
const CONCURRENCY: usize = 8;
const STAFF_PW: &str = "crash test staff passphrase";

fn command(dir: &Path) -> Command {
    let mut cmd = support::memberkey(dir);
    cmd.env("MEMBERKEY_PUBLIC_URL", "https://members.example.org")
        .env("MEMBERKEY_MAX_SEND_RATE", "1500")
        .env("MEMBERKEY_SEND_CONCURRENCY", CONCURRENCY.to_string())
        .env("MEMBERKEY_REVEAL_ASSIGNED_PASSWORDS", "false")
        .env("MEMBERKEY_LOG", "warn,memberkey=info");
    cmd
}

/// Outbound IDs of every message the outbox holds, with how many copies of each.
fn outbox_copies(dir: &Path) -> HashMap<i64, usize> {
    let mut copies = HashMap::new();
    if let Ok(entries) = std::fs::read_dir(dir.join("outbox")) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !name.ends_with(".eml") {
                continue;
            }
            if let Some(id) = name.split('-').next().and_then(|n| n.parse::<i64>().ok()) {
                *copies.entry(id).or_default() += 1;
            }
        }
    }
    copies
}

async fn seed_profiles(dir: &Path) {
    assert!(command(dir).arg("migrate").status().unwrap().success());
    let url = format!("sqlite://{}?mode=rwc", dir.join("memberkey.db").display());
    let db = sea_orm::Database::connect(&url).await.unwrap();
    memberkey::store::profiles::insert_generated_people(
        &db,
        RECIPIENTS,
        "member",
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    db.close().await.unwrap();
}

/// Creates the staff user `admin` with `cmd` (settings given, the subcommand not yet).
fn create_admin(cmd: &mut Command) {
    let mut create = cmd
        .args(["staff", "create", "--username", "admin", "--all-rights"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut create.stdin.take().unwrap(), STAFF_PW.as_bytes()).unwrap();
    assert!(create.wait().unwrap().success());
}

/// Creates and sends a communication with the credentials link to every person; its ID and
/// recipient count.
async fn send_credentials(client: &reqwest::Client, url: &str, token: &str) -> (String, usize) {
    let created = gql(client, url, Some(token),
        "mutation($i: CreateMassCommunicationInput!) { createMassCommunication(input: $i) { massCommunication { id } } }",
        json!({ "i": { "subject": "Your portal login", "html": "<p>Dear {{first_name}},</p>{{portal_login_credentials_link}}", "recipients": { "filter": { "kind": "INDIVIDUAL" } } } })).await;
    let id = created["data"]["createMassCommunication"]["massCommunication"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned();
    let sent = gql(client, url, Some(token), "mutation($id: ID!) { sendMassCommunication(id: $id) { massCommunication { counts { total } } } }", json!({ "id": id })).await;
    let total = sent["data"]["sendMassCommunication"]["massCommunication"]["counts"]["total"]
        .as_u64()
        .unwrap_or_else(|| panic!("{sent}"));
    (id, total as usize)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_sender_loses_no_recipient() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    seed_profiles(dir).await;
    create_admin(&mut command(dir));

    let mut server = Server::start(command(dir).arg("serve"));
    let url = server.graphql();
    let client = reqwest::Client::new();
    let token = staff_token(&client, &url, "admin", STAFF_PW).await;
    let (id, total) = send_credentials(&client, &url, &token).await;
    assert_eq!(total, RECIPIENTS);

    // Kill it once about 3,000 messages went out. The server is looked at before each wait,
    // not in it: the wait may not borrow the process.
    let going = eventually(Duration::from_secs(300), || {
        let enough = outbox_copies(dir).len() >= 3_000;
        if !enough {
            assert!(
                server.child.try_wait().unwrap().is_none(),
                "the server died on its own"
            );
        }
        async move { enough.then_some(()) }
    })
    .await;
    assert!(going.is_some(), "the send did not get going");
    server.stop("-KILL");
    let at_crash = outbox_copies(dir).len();
    assert!(
        at_crash < RECIPIENTS,
        "the crash came mid-send ({at_crash} sent)"
    );

    let mut server = Server::start(command(dir).arg("serve"));
    let url = server.graphql();
    let token = staff_token(&client, &url, "admin", STAFF_PW).await;
    let view = "query($id: ID!) { massCommunication(id: $id) { status counts { total pending sent failed skipped } } }";
    let started = Instant::now();
    let done = {
        let (client, url, token, id) = (&client, url.as_str(), token.as_str(), id.as_str());
        eventually(Duration::from_secs(300), move || async move {
            let v = gql(client, url, Some(token), view, json!({ "id": id })).await;
            let c = v["data"]["massCommunication"]["counts"].clone();
            if c["pending"] == 0 {
                assert_eq!(v["data"]["massCommunication"]["status"], "SENT", "{v}");
                Some(c)
            } else {
                None
            }
        })
        .await
    };
    let Some(counts) = done else {
        let v = gql(&client, &url, Some(&token), view, json!({ "id": id })).await;
        panic!("the send did not finish after the restart: {v}");
    };
    // How long a restarted process sat waiting for the dead one's leases (BENCHMARKS.md).
    eprintln!(
        "recovery: the send finished {:.1} s after the restart",
        started.elapsed().as_secs_f64()
    );
    server.stop("-TERM");

    assert_eq!(counts["total"], RECIPIENTS);
    assert_eq!(
        counts["sent"].as_i64().unwrap() + counts["failed"].as_i64().unwrap(),
        RECIPIENTS as i64,
        "{counts}"
    );
    let copies = outbox_copies(dir);
    assert_eq!(
        copies.len(),
        RECIPIENTS,
        "every recipient's message is in the outbox"
    );
    let twice: Vec<i64> = copies
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| *id)
        .collect();
    assert!(
        twice.len() <= CONCURRENCY,
        "{} duplicates, more than the {CONCURRENCY} in flight",
        twice.len()
    );
    assert!(copies.values().all(|n| *n <= 2));

    // Each duplicate is marked on its delivery row.
    let db = sea_orm::Database::connect(format!(
        "sqlite://{}?mode=rw",
        dir.join("memberkey.db").display()
    ))
    .await
    .unwrap();
    for id in &twice {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Sqlite,
                format!("SELECT possible_duplicate FROM outbound_emails WHERE id = {id}"),
            ))
            .await
            .unwrap()
            .unwrap();
        assert!(
            row.try_get::<bool>("", "possible_duplicate").unwrap(),
            "delivery {id} went out twice unmarked"
        );
    }
    // And only the newest link of a re-sent recipient works: one live token per recipient.
    let live = db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Sqlite,
            "SELECT COUNT(*) AS n FROM credential_tokens WHERE invalidated_at IS NULL AND used_at IS NULL".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(live.try_get::<i64>("", "n").unwrap(), RECIPIENTS as i64);
}

/// The recipients of the slow send, and how long each (fake) SES call takes.
const SLOW_RECIPIENTS: usize = 24;
const SLOW_SEND: Duration = Duration::from_millis(1500);

/// A stand-in for SES v2's SendEmail that takes `SLOW_SEND` to answer, so the sender always
/// holds leased messages while it waits; counts the calls.
async fn slow_ses() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let router = axum::Router::new().route(
        "/v2/email/outbound-emails",
        axum::routing::post(move || {
            let seen = seen.clone();
            async move {
                let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::time::sleep(SLOW_SEND).await;
                axum::Json(json!({ "MessageId": format!("slow-{n}") }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, calls)
}

fn slow_command(dir: &Path, db_url: &str, ses: &str) -> Command {
    let mut cmd = support::memberkey(dir);
    cmd.env("MEMBERKEY_DATABASE_URL", db_url)
        .env("MEMBERKEY_PUBLIC_URL", "https://members.example.org")
        .env("MEMBERKEY_MAIL_TRANSPORT", "ses")
        .env("MEMBERKEY_SES_ENDPOINT", ses)
        .env("MEMBERKEY_SES_REGION", "us-east-1")
        .env("MEMBERKEY_MAIL_FROM", "Chamber <no-reply@chamber.example>")
        .env("MEMBERKEY_SEND_CONCURRENCY", "4")
        .env("MEMBERKEY_MAX_SEND_RATE", "100")
        .env("MEMBERKEY_DELIVERY_LEASE_SECONDS", "10")
        .env("MEMBERKEY_REVEAL_ASSIGNED_PASSWORDS", "false")
        .env("MEMBERKEY_LOG", "warn,memberkey=info")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    cmd
}

/// Rows of the send a worker holds (leased, not yet ended).
async fn held(db_url: &str) -> i64 {
    let db = sea_orm::Database::connect(db_url).await.unwrap();
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM outbound_emails WHERE status = 'SENDING'".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    let n = row.try_get::<i64>("", "n").unwrap();
    db.close().await.unwrap();
    n
}

/// A sender killed while it certainly holds leased messages (its provider is slow): a new
/// process takes them over when the lease runs out and finishes the send within a minute of
/// its start. Logs say when the send started and finished.
async fn killed_with_messages_in_hand(db_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let (ses, calls) = slow_ses().await;
    assert!(
        slow_command(dir, db_url, &ses)
            .arg("migrate")
            .status()
            .unwrap()
            .success()
    );
    {
        let db = sea_orm::Database::connect(db_url).await.unwrap();
        memberkey::store::profiles::insert_generated_people(
            &db,
            SLOW_RECIPIENTS,
            "member",
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        db.close().await.unwrap();
    }
    create_admin(&mut slow_command(dir, db_url, &ses));

    let mut server = Server::start(slow_command(dir, db_url, &ses).arg("serve"));
    let url = server.graphql();
    let client = reqwest::Client::new();
    let token = staff_token(&client, &url, "admin", STAFF_PW).await;
    let (id, total) = send_credentials(&client, &url, &token).await;
    assert_eq!(total, SLOW_RECIPIENTS);
    // The provider has calls open: the worker holds those messages under its lease.
    let calls_ref = &calls;
    let sending = eventually(Duration::from_secs(60), move || async move {
        (calls_ref.load(std::sync::atomic::Ordering::SeqCst) > 0).then_some(())
    })
    .await;
    assert!(sending.is_some(), "the send did not start");
    server.stop("-KILL");
    assert!(
        held(db_url).await > 0,
        "the killed sender held leased messages"
    );
    // Everything it logged, up to its death (the pipe's reader ends at its close).
    let log = server.log.iter().collect::<Vec<_>>().join("\n");
    assert!(log.contains("mass communication send started"), "{log}");

    let restarted = Instant::now();
    let mut server = Server::start(slow_command(dir, db_url, &ses).arg("serve"));
    let url = server.graphql();
    let token = staff_token(&client, &url, "admin", STAFF_PW).await;
    let view = "query($id: ID!) { massCommunication(id: $id) { status counts { total pending sent failed } } }";
    // Sixty seconds from the restart, as before the wait: starting and signing in count.
    let left = Duration::from_secs(60).saturating_sub(restarted.elapsed());
    let done = {
        let (client, url, token, id) = (&client, url.as_str(), token.as_str(), id.as_str());
        eventually(left, move || async move {
            let v = gql(client, url, Some(token), view, json!({ "id": id })).await;
            let c = v["data"]["massCommunication"]["counts"].clone();
            (c["pending"] == 0 && v["data"]["massCommunication"]["status"] == "SENT").then_some(c)
        })
        .await
    };
    let Some(counts) = done else {
        let v = gql(&client, &url, Some(&token), view, json!({ "id": id })).await;
        panic!("the send did not finish within 60 s of the restart: {v}");
    };
    assert_eq!(counts["sent"], SLOW_RECIPIENTS, "{counts}");
    // The finish is logged at info level, for the operator who watched the crash.
    let finished = Instant::now();
    let mut log = String::new();
    while !log.contains("mass communication finished") {
        match server.log.recv_timeout(Duration::from_secs(5)) {
            Ok(line) => log.push_str(&line),
            Err(_) => panic!("no 'finished' log line: {log}"),
        }
        assert!(finished.elapsed() < Duration::from_secs(10));
    }
    server.stop("-TERM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_killed_holding_leased_messages_is_taken_over_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("slow.db").display());
    killed_with_messages_in_hand(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_killed_holding_leased_messages_is_taken_over_on_postgres() {
    let Some(pg) = support::FreshPostgres::create("crash").await else {
        return;
    };
    killed_with_messages_in_hand(&pg.url).await;
    pg.drop().await;
}
