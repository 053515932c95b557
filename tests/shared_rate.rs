//! One send rate for all processes (issue 13 part 3): three `memberkey serve` processes on one
//! PostgreSQL database, with MEMBERKEY_MAX_SEND_RATE=30, send 600 messages through the `ses`
//! transport to a local SES v2 endpoint that records when each message arrives. No one-second
//! window of arrivals, wherever it starts, may hold more than 30, and the three together must
//! reach at least 90% of the rate.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use support::{Server, eventually, gql, staff_token};

const RATE: usize = 30;
const MESSAGES: usize = 600;
const PROCESSES: usize = 3;
const STAFF_PW: &str = "shared rate staff passphrase";

fn command(dir: &Path, db_url: &str, ses: &str) -> Command {
    let mut cmd = support::memberkey(dir);
    cmd.env("MEMBERKEY_DATABASE_URL", db_url)
        .env("MEMBERKEY_PUBLIC_URL", "https://members.example.org")
        .env("MEMBERKEY_MAX_SEND_RATE", RATE.to_string())
        .env("MEMBERKEY_MAIL_TRANSPORT", "ses")
        .env("MEMBERKEY_SES_ENDPOINT", ses)
        .env("MEMBERKEY_SES_REGION", "us-east-1")
        .env("MEMBERKEY_MAIL_FROM", "Chamber <no-reply@chamber.example>")
        .env("MEMBERKEY_REVEAL_ASSIGNED_PASSWORDS", "false")
        .env("MEMBERKEY_LOG", "warn,memberkey=info")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    cmd
}

/// A stand-in for SES v2's SendEmail that records each message's arrival.
async fn fake_ses() -> (String, Arc<Mutex<Vec<Instant>>>) {
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let seen = arrivals.clone();
    let router = axum::Router::new().route(
        "/v2/email/outbound-emails",
        axum::routing::post(move || {
            let seen = seen.clone();
            async move {
                let n = {
                    let mut s = seen.lock().unwrap();
                    s.push(Instant::now());
                    s.len()
                };
                axum::Json(json!({ "MessageId": format!("fake-{n}") }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, arrivals)
}

/// The most arrivals inside any one-second window, wherever it starts.
fn busiest_second(times: &[Instant]) -> usize {
    let mut most = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end].duration_since(times[start]) >= Duration::from_secs(1) {
            start += 1;
        }
        most = most.max(end - start + 1);
    }
    most
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_share_one_send_rate() {
    let Some(pg) = support::FreshPostgres::create("rate").await else {
        return;
    };
    let db_url = pg.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let (ses, arrivals) = fake_ses().await;

    assert!(
        command(dir, &db_url, &ses)
            .arg("migrate")
            .status()
            .unwrap()
            .success()
    );
    let db = sea_orm::Database::connect(&db_url).await.unwrap();
    memberkey::store::profiles::insert_generated_people(
        &db,
        MESSAGES,
        "member",
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    db.close().await.unwrap();
    let mut create = command(dir, &db_url, &ses)
        .args(["staff", "create", "--username", "admin", "--all-rights"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut create.stdin.take().unwrap(), STAFF_PW.as_bytes()).unwrap();
    assert!(create.wait().unwrap().success());

    let mut servers: Vec<Server> = (0..PROCESSES)
        .map(|_| Server::start(command(dir, &db_url, &ses).arg("serve")))
        .collect();
    let client = reqwest::Client::new();
    let url = servers[0].graphql();
    let token = staff_token(&client, &url, "admin", STAFF_PW).await;
    let created = gql(
        &client,
        &url,
        Some(&token),
        "mutation($i: CreateMassCommunicationInput!) { createMassCommunication(input: $i) { massCommunication { id } } }",
        json!({ "i": { "subject": "News", "html": "<p>Hello {{first_name}}</p>",
            "recipients": { "filter": { "kind": "INDIVIDUAL" } } } }),
    )
    .await;
    let id = created["data"]["createMassCommunication"]["massCommunication"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned();
    let sent = gql(
        &client,
        &url,
        Some(&token),
        "mutation($id: ID!) { sendMassCommunication(id: $id) { massCommunication { counts { total } } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(
        sent["data"]["sendMassCommunication"]["massCommunication"]["counts"]["total"], MESSAGES,
        "{sent}"
    );

    // 600 at 30/s take 20 s; ninety seconds are ample however loaded the machine is. A send
    // that falls short fails below, once the servers are stopped.
    let arrived = &arrivals;
    eventually(Duration::from_secs(90), move || async move {
        let n = arrived.lock().unwrap().len();
        (n >= MESSAGES).then_some(())
    })
    .await;
    for s in &mut servers {
        s.stop("-TERM");
    }
    let times = arrivals.lock().unwrap().clone();
    assert_eq!(times.len(), MESSAGES, "every message arrived once");
    let busiest = busiest_second(&times);
    let took = times[MESSAGES - 1].duration_since(times[0]).as_secs_f64();
    let achieved = (MESSAGES - 1) as f64 / took;
    eprintln!(
        "{PROCESSES} processes: {MESSAGES} messages in {took:.2} s ({achieved:.1}/s); busiest second held {busiest}"
    );
    assert!(
        busiest <= RATE,
        "a one-second window held {busiest} messages"
    );
    assert!(
        achieved >= 0.9 * RATE as f64,
        "only {achieved:.1}/s of the {RATE}/s allowed"
    );

    pg.drop().await;
}
