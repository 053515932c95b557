//! Mass-communication benchmarks behind BENCHMARKS.md. Run with:
//!
//!     cargo run --release --example bench_mass -- [--recipients N] [--rate R] [--moto PATH]
//!         [--filter JSON] [--concurrency N] [--postgres-url
//!         postgres://postgres@127.0.0.1:5432/postgres [--postgres-only]]
//!
//! 1. Queue N recipients (default 100,000): the time `sendMassCommunication` takes to resolve
//!    them and write one delivery row each (SQLite, GraphQL over HTTP). `--filter` replaces the
//!    recipient filter (default `{"kind":"INDIVIDUAL"}`), e.g. with the campaign filters
//!    `{"kind":"INDIVIDUAL","hasPassword":false,"signedIn":false,"memberStatuses":["ACTIVE"]}`.
//!    Then a reminder to the same N, chosen by `fromCommunication` (links still UNUSED).
//! 2. Delivery rate into a no-op transport with no rate limit and `--concurrency` sends in
//!    flight (MEMBERKEY_SEND_CONCURRENCY, default 32) on SQLite, and the process's
//!    peak RSS (VmHWM) after the send. Meanwhile a staff client sends a cheap query
//!    (`{ viewer { username } }`) every 10 ms: its p99 while sending against its p99 idle.
//! 3. With MEMBERKEY_MAX_SEND_RATE = R (default 200): the rate achieved over R × 15 messages
//!    and the most sends seen in any one-second window.
//! 4. With `--moto PATH` (moto_server): the delivery rate into the SES v2 emulator for 2,000
//!    recipients.
//! 5. With `--postgres-url` (a server where it may create databases): N recipients delivered
//!    into a no-op transport on PostgreSQL by one process and then by two (this program
//!    again, with `--deliver`), each time on a fresh database; runs first, and alone with
//!    `--postgres-only`. Each run prints, per message, the WAL records and
//!    bytes (pg_walinspect over the whole cluster's WAL) of queueing (no worker running yet) and of
//!    delivery, the SQL statements issued (counted by the processes, since
//!    `pg_stat_statements` needs a server restart to load), and how the queue's and the
//!    links' rows changed (`pg_stat_user_tables`: inserts, updates, HOT updates).

mod common;

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use memberkey::config::MailSettings;
use memberkey::domain::{Right, SystemClock};
use memberkey::mail::{Envelope, MailTransport, OutgoingEmail, SendError};
use memberkey::services::{self, RequestMeta};
use memberkey::{App, Config, RunningApp};
use serde_json::{Value, json};

const PW: &str = "benchmark staff passphrase";

fn arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Accepts every message at once and notes when.
#[derive(Default)]
struct Noop {
    times: Mutex<Vec<Instant>>,
}

impl Noop {
    /// How many messages it has been handed.
    fn handed(&self) -> usize {
        self.times.lock().unwrap().len()
    }
}

#[async_trait::async_trait]
impl MailTransport for Noop {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, SendError> {
        self.times.lock().unwrap().push(Instant::now());
        Ok(format!("noop-{}", email.outbound_id))
    }
}

use common::peak_rss_mib;

struct Bench {
    app: RunningApp,
    url: String,
    token: String,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn start(mail: MailSettings, transport: Arc<dyn MailTransport>, recipients: usize) -> Bench {
    start_on(None, mail, transport, recipients).await
}

/// As `start`, on `database` instead of a fresh SQLite file when it is given.
async fn start_on(
    database: Option<&str>,
    mail: MailSettings,
    transport: Arc<dyn MailTransport>,
    recipients: usize,
) -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        public_url: "https://members.example.org".into(),
        mail,
        ..common::config(dir.path())
    };
    if let Some(url) = database {
        config.database_url = url.to_owned();
    }
    let app = App::build_with(config, Arc::new(SystemClock), Some(transport))
        .await
        .unwrap();
    let db = app.services().db.clone();
    memberkey::store::profiles::insert_generated_people(
        &db,
        recipients,
        "member",
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    services::staff::create(
        app.services(),
        None,
        &RequestMeta::default(),
        "operator",
        None,
        PW,
        &Right::ALL,
    )
    .await
    .unwrap();
    let app = app
        .spawn(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let url = app.url("/graphql");
    let client = reqwest::Client::new();
    let token = common::staff_token(&client, &url, "operator", PW).await;
    Bench {
        app,
        url,
        token,
        client,
        _dir: dir,
    }
}

impl Bench {
    /// Creates and sends one communication to everyone `filter` matches; returns (id, queue
    /// time).
    async fn send(&self, filter: &Value) -> (String, Duration) {
        let created = common::gql(&self.client, &self.url, Some(&self.token),
            "mutation($i: CreateMassCommunicationInput!) { createMassCommunication(input: $i) { massCommunication { id } } }",
            json!({ "i": { "subject": "Portal access for {{first_name}}", "html": "<p>Dear {{first_name}},</p>{{portal_login_credentials_link}}", "recipients": { "filter": filter } } })).await;
        let id = created["data"]["createMassCommunication"]["massCommunication"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let t = Instant::now();
        let sent = common::gql(
            &self.client,
            &self.url,
            Some(&self.token),
            "mutation($id: ID!) { sendMassCommunication(id: $id) { massCommunication { id } } }",
            json!({ "id": id }),
        )
        .await;
        assert!(sent["errors"].is_null(), "{sent}");
        (id, t.elapsed())
    }

    /// Waits until nothing is pending; returns the time since `from` and the counts. With a
    /// no-op transport the counts are read as often as the staff console's progress
    /// subscription reads them (every 500 ms) while messages are still being handed over, and
    /// every 10 ms once all `expect` have been, for the last outcomes to be recorded: reading
    /// the counts of 100,000 deliveries takes about 15 ms, and reading them ten times a
    /// second measured the reader as much as the sender.
    async fn finish(
        &self,
        id: &str,
        from: Instant,
        noop: Option<(&Noop, usize)>,
    ) -> (Duration, Value) {
        let mut read_at = Instant::now();
        loop {
            let handed_all = noop.is_none_or(|(t, expect)| t.handed() >= expect);
            if handed_all || read_at.elapsed() >= Duration::from_millis(500) {
                read_at = Instant::now();
                let v = common::gql(&self.client, &self.url, Some(&self.token), "query($id: ID!) { massCommunication(id: $id) { counts { total pending sent failed } } }", json!({ "id": id })).await;
                let c = v["data"]["massCommunication"]["counts"].clone();
                if c["pending"] == 0 {
                    return (from.elapsed(), c);
                }
            }
            let pause = if noop.is_some() { 10 } else { 100 };
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
    }
}

fn p99(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get((v.len() * 99 / 100).min(v.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default()
}

/// Latencies of the cheap staff query, one every 10 ms until `stop` is set.
async fn cheap_queries(
    client: reqwest::Client,
    url: String,
    token: String,
    stop: Arc<std::sync::atomic::AtomicBool>,
    at_most: usize,
) -> Vec<Duration> {
    let mut out = Vec::new();
    while !stop.load(std::sync::atomic::Ordering::Relaxed) && out.len() < at_most {
        let t = Instant::now();
        let v = common::gql(
            &client,
            &url,
            Some(&token),
            "{ viewer { username } }",
            json!({}),
        )
        .await;
        out.push(t.elapsed());
        assert!(v["errors"].is_null(), "{v}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    out
}

fn max_in_any_second(times: &[Instant]) -> usize {
    let mut best = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end].duration_since(times[start]) >= Duration::from_secs(1) {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

fn main() {
    // As the memberkey binary does, before any thread starts.
    memberkey::app::tune_allocator();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let deliver: String = arg("--deliver", String::new());
    if deliver.is_empty() {
        runtime.block_on(run());
    } else {
        runtime.block_on(deliver_until_stdin_closes(&deliver));
    }
}

/// Delivery settings of the no-op runs: no rate limit, `--concurrency` messages in flight
/// (default 32).
fn unlimited() -> MailSettings {
    MailSettings {
        max_send_rate: 1e9,
        send_concurrency: arg("--concurrency", 32),
        ..MailSettings::default()
    }
}

/// A delivering process of the PostgreSQL runs (`--deliver URL`): an app on that database
/// whose delivery worker sends into a no-op transport. It says `ready` on standard output once
/// it runs, and stops when its standard input closes.
async fn deliver_until_stdin_closes(database: &str) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        database_url: database.to_owned(),
        public_url: "https://members.example.org".into(),
        mail: MailSettings {
            // Another process queues the mail, so no bell rings here: look often.
            poll: Duration::from_millis(20),
            ..unlimited()
        },
        ..common::config(dir.path())
    };
    let app = App::build_with(
        config,
        Arc::new(SystemClock),
        Some(Arc::new(Noop::default())),
    )
    .await
    .unwrap()
    .spawn(SocketAddr::from(([127, 0, 0, 1], 0)))
    .await
    .unwrap();
    println!("ready");
    let _ = tokio::task::spawn_blocking(|| {
        let mut rest = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut rest)
    })
    .await;
    // For the statements per message (pg_stat_statements needs a server restart to load).
    println!("statements {}", app.sql_statements());
    app.shutdown().await;
}

/// A position in the WAL, and the records between two of them (pg_walinspect, a contrib
/// extension of PostgreSQL 15 that needs no restart; the bench creates it in its database).
#[derive(Clone)]
struct Wal(String);

impl Wal {
    async fn now(db: &impl sea_orm::ConnectionTrait) -> Wal {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT pg_current_wal_flush_lsn()::text AS lsn",
            ))
            .await
            .unwrap()
            .unwrap();
        Wal(row.try_get("", "lsn").unwrap())
    }

    /// The records since `before`, per message of `n`: the total, the bytes, and the kinds
    /// that make up most of it.
    async fn per_message(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        before: &Wal,
        n: usize,
    ) -> String {
        let rows = db
            .query_all_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                format!(
                    "SELECT \"resource_manager/record_type\" AS kind, count, combined_size \
                     FROM pg_get_wal_stats('{}', '{}', true) WHERE count > 0 ORDER BY count DESC",
                    before.0, self.0
                ),
            ))
            .await
            .unwrap();
        let n = n as f64;
        let mut records = 0i64;
        let mut bytes = 0i64;
        let mut kinds = Vec::new();
        for r in &rows {
            let count: i64 = r.try_get("", "count").unwrap();
            records += count;
            bytes += r.try_get::<i64>("", "combined_size").unwrap();
            if count as f64 / n >= 0.05 {
                kinds.push(format!(
                    "{} {:.2}",
                    r.try_get::<String>("", "kind").unwrap(),
                    count as f64 / n
                ));
            }
        }
        format!(
            "{:.2} WAL records, {:.0} bytes [{}]",
            records as f64 / n,
            bytes as f64 / n,
            kinds.join(", ")
        )
    }
}

/// How the rows of the queue and the link tables changed (`pg_stat_user_tables`), read after
/// the statistics of every backend have been flushed (at exit, and a moment later they show).
async fn row_changes(db: &impl sea_orm::ConnectionTrait) -> String {
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del FROM pg_stat_user_tables \
             WHERE relname IN ('outbound_emails', 'credential_tokens') ORDER BY relname",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            let v = |c: &str| r.try_get::<i64>("", c).unwrap();
            format!(
                "{}: {} inserted, {} updated ({} HOT), {} deleted",
                r.try_get::<String>("", "relname").unwrap(),
                v("n_tup_ins"),
                v("n_tup_upd"),
                v("n_tup_hot_upd"),
                v("n_tup_del")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Part 5: delivery on PostgreSQL by one process and by two, each time into a fresh database
/// of `n` recipients. The delivering processes are this program again (`--deliver`); this
/// one only queues the communication and reads its counts, as staff would.
async fn postgres(base: &str, n: usize, filter: &Value) {
    use sea_orm::ConnectionTrait;
    use tokio::io::AsyncBufReadExt;
    let mut rates = Vec::new();
    for processes in [1usize, 2] {
        let name = format!("mk_bench_mass_{}_{processes}", std::process::id());
        let fresh = common::FreshPostgres::create(base, &name).await;
        let url = fresh.url.clone();
        let api_only = MailSettings {
            worker: false,
            ..unlimited()
        };
        let b = start_on(Some(&url), api_only, Arc::new(Noop::default()), n).await;
        let db = sea_orm::Database::connect(&url).await.unwrap();
        db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
            .await
            .unwrap();
        // Queueing first, with no worker running, so its WAL is its own.
        let (wal_start, statements_start) = (Wal::now(&db).await, b.app.sql_statements());
        let (id, _) = b.send(filter).await;
        let wal_queued = Wal::now(&db).await;
        let queue_statements = b.app.sql_statements() - statements_start;
        let from = Instant::now();
        let mut children = Vec::new();
        for _ in 0..processes {
            let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
                .args(["--deliver", &url])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
            while lines.next_line().await.unwrap().as_deref() != Some("ready") {}
            children.push((child, lines));
        }
        let (took, counts) = b.finish(&id, from, None).await;
        let wal_delivered = Wal::now(&db).await;
        let rate = n as f64 / took.as_secs_f64();
        println!(
            "Delivery into a no-op transport, PostgreSQL, {processes} process(es): {n} in {:.2} s = {rate:.0}/s, after the queueing (counts {counts})",
            took.as_secs_f64()
        );
        rates.push(rate);
        let mut delivery_statements = 0u64;
        for (mut child, mut lines) in children {
            drop(child.stdin.take());
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(k) = line.strip_prefix("statements ") {
                    delivery_statements += k.parse::<u64>().unwrap();
                }
            }
            let _ = child.wait().await;
        }
        // The cluster's WAL, so a run wants a server nothing else writes to.
        println!(
            "  per message, queueing: {}; {:.2} statements",
            wal_queued.per_message(&db, &wal_start, n).await,
            queue_statements as f64 / n as f64
        );
        println!(
            "  per message, delivery: {}; {:.2} statements (the delivering processes', polls included)",
            wal_delivered.per_message(&db, &wal_queued, n).await,
            delivery_statements as f64 / n as f64
        );
        println!(
            "  per message, both:     {}",
            wal_delivered.per_message(&db, &wal_start, n).await
        );
        // Read once every backend that wrote has ended: an idle one flushes its statistics
        // only every ten seconds.
        b.app.shutdown().await;
        println!("  rows: {}", row_changes(&db).await);
        db.close().await.unwrap();
        fresh.drop().await;
    }
    println!(
        "PostgreSQL: two processes deliver {:.2}x what one does",
        rates[1] / rates[0]
    );
}

async fn run() {
    let n: usize = arg("--recipients", 100_000);
    let rate: f64 = arg("--rate", 200.0);
    let moto: String = arg("--moto", String::new());
    let filter: Value =
        serde_json::from_str(&arg("--filter", r#"{"kind":"INDIVIDUAL"}"#.to_owned()))
            .expect("--filter is a RecipientFilterInput as JSON");

    let postgres_url: String = arg("--postgres-url", String::new());
    if !postgres_url.is_empty() {
        postgres(&postgres_url, n, &filter).await;
        if std::env::args().any(|a| a == "--postgres-only") {
            return;
        }
    }

    // 1 and 2: queue N, deliver into a no-op transport without a rate limit.
    let noop = Arc::new(Noop::default());
    let b = start(unlimited(), noop.clone(), n).await;
    let rss_before = peak_rss_mib();
    let never = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let idle =
        p99(cheap_queries(b.client.clone(), b.url.clone(), b.token.clone(), never, 500).await);
    let (id, queued) = b.send(&filter).await;
    let from = Instant::now();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let busy = tokio::spawn(cheap_queries(
        b.client.clone(),
        b.url.clone(),
        b.token.clone(),
        stop.clone(),
        usize::MAX,
    ));
    let (took, counts) = b.finish(&id, from, Some((&noop, n))).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let busy = busy.await.unwrap();
    println!(
        "Queue {n} recipients (sendMassCommunication, filter {filter}): {:.2} s",
        queued.as_secs_f64()
    );
    println!(
        "Delivery into a no-op transport, SQLite: {n} in {:.2} s = {:.0}/s (counts {counts})",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64()
    );
    let busy_n = busy.len();
    let busy = p99(busy);
    println!(
        "Cheap staff query p99: {:.2} ms idle, {:.2} ms while sending ({busy_n} queries; {:+.2} ms)",
        idle.as_secs_f64() * 1e3,
        busy.as_secs_f64() * 1e3,
        (busy.as_secs_f64() - idle.as_secs_f64()) * 1e3
    );
    println!(
        "Peak RSS (VmHWM): {:.0} MiB before the send, {:.0} MiB after",
        rss_before,
        peak_rss_mib()
    );
    // The reminder: everyone from that communication whose link is still unused.
    let reminder = json!({ "fromCommunication": { "id": id, "linkStates": ["UNUSED"] } });
    let (_, queued) = b.send(&reminder).await;
    println!(
        "Queue the reminder to the same {n} (fromCommunication, linkStates UNUSED): {:.2} s",
        queued.as_secs_f64()
    );
    b.app.shutdown().await;

    // 3: the configured rate is reached and never exceeded.
    let m = (rate * 15.0) as usize;
    let noop = Arc::new(Noop::default());
    let limited = MailSettings {
        max_send_rate: rate,
        ..MailSettings::default()
    };
    let b = start(limited, noop.clone(), m).await;
    let (id, _) = b.send(&filter).await;
    let (took, _) = b.finish(&id, Instant::now(), Some((&noop, m))).await;
    let times = noop.times.lock().unwrap().clone();
    let span = times.last().unwrap().duration_since(times[0]).as_secs_f64();
    println!(
        "MAX_SEND_RATE {rate}: {m} sent in {:.2} s; rate between first and last send {:.1}/s = {:.1}% of R; most in any one-second window: {}",
        took.as_secs_f64(),
        (m - 1) as f64 / span,
        100.0 * (m - 1) as f64 / span / rate,
        max_in_any_second(&times)
    );
    b.app.shutdown().await;

    // 4: the SES emulator.
    if !moto.is_empty() {
        let mut child = tokio::process::Command::new(&moto)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        use tokio::io::AsyncBufReadExt;
        let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let url = loop {
            let line = lines.next_line().await.unwrap().expect("moto started");
            if let Some(at) = line.find("http://127.0.0.1:") {
                break line[at..].trim().to_owned();
            }
        };
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let settings = MailSettings {
            transport: memberkey::config::MailTransportKind::Ses,
            ses_endpoint: Some(url.clone()),
            from: "Bench <no-reply@bench.example>".into(),
            max_send_rate: 1e9,
            send_concurrency: 16,
            ..MailSettings::default()
        };
        let creds =
            aws_sdk_sesv2::config::Credentials::new("testing", "testing", None, None, "bench");
        let client = aws_sdk_sesv2::Client::from_conf(
            aws_sdk_sesv2::Config::builder()
                .behavior_version(aws_sdk_sesv2::config::BehaviorVersion::latest())
                .region(aws_sdk_sesv2::config::Region::new("us-east-1"))
                .endpoint_url(&url)
                .credentials_provider(creds.clone())
                .build(),
        );
        client
            .create_email_identity()
            .email_identity("no-reply@bench.example")
            .send()
            .await
            .unwrap();
        let envelope = Envelope::new(&settings.from, None).unwrap();
        let ses = Arc::new(
            memberkey::mail::ses::SesTransport::new(&settings, envelope, Some(creds)).await,
        );
        let k = 2_000;
        let b = start(settings, ses, k).await;
        let (id, _) = b.send(&filter).await;
        let (took, counts) = b.finish(&id, Instant::now(), None).await;
        println!(
            "Delivery into the SES v2 emulator (moto): {k} in {:.2} s = {:.0}/s (counts {counts})",
            took.as_secs_f64(),
            k as f64 / took.as_secs_f64()
        );
        b.app.shutdown().await;
    }
}
