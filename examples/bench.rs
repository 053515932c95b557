//! Benchmarks behind BENCHMARKS.md. Run with:
//!
//!     cargo run --release --example bench -- [--profiles N] [--postgres-url URL] [--skip-search] [--skip-http]
//!
//! - Quick search over N generated profiles (default 1,000,000) through the GraphQL endpoint,
//!   p50/p95 for selective and common terms, beside the same terms as a `LIKE '%term%'` scan.
//! - `{ __typename }` throughput of memberkey beside a plain axum handler and the stock
//!   async-graphql-axum service, with `wrk` (1 thread, 32 connections, 10 s each), in the
//!   same run; it prints each one's ratio to the plain handler.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use memberkey::config::Argon2Settings;
use memberkey::domain::{Right, search_key};
use memberkey::services::{self, RequestMeta};
use memberkey::{App, Config};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, Value as DbValue};
use serde_json::json;

const FIRST: &[&str] = &[
    "Anna", "Johan", "Maria", "Erik", "Karin", "Lars", "Eva", "Anders", "Sofia", "Per", "Emma",
    "Nils", "Ingrid", "Olof", "Hanna", "Mikael", "Sara", "Jonas", "Elin", "Peter", "Linda",
    "Thomas", "Julia", "Daniel", "Ida", "Fredrik", "Amanda", "Magnus", "Lena", "Henrik", "Annika",
    "Stefan", "Camilla", "Mats", "Jenny", "Patrik", "Emelie", "Björn", "Frida", "Ola", "Ann",
    "Marianne", "Sven", "Birgitta", "Gustav", "Kristina", "Oskar", "Helena", "Viktor", "Malin",
    "Priya", "Chen", "Fatima", "Samuel", "Olivia", "Noah", "Lucas", "Aisha", "Kenji", "Mateo",
];
const LAST: &[&str] = &[
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Svensson",
    "Gustafsson",
    "Pettersson",
    "Jonsson",
    "Jansson",
    "Hansson",
    "Bengtsson",
    "Jönsson",
    "Lindberg",
    "Jakobsson",
    "Magnusson",
    "Lindström",
    "Olofsson",
    "Lindqvist",
    "Lindgren",
    "Berg",
    "Axelsson",
    "Bergström",
    "Lundberg",
    "Lind",
    "Lundgren",
    "Lundqvist",
    "Mattsson",
    "Berglund",
    "Fredriksson",
    "Sandberg",
    "Henriksson",
    "Forsberg",
    "Sjöberg",
    "Wallin",
    "Engström",
    "Eklund",
    "Danielsson",
    "Lundin",
    "Håkansson",
    "Björk",
    "Bergman",
    "Gunnarsson",
    "Holm",
    "Wikström",
    "Samuelsson",
    "Isaksson",
    "Fransson",
    "Bergqvist",
    "Nyström",
    "Holmberg",
    "Arvidsson",
    "Löfgren",
    "Söderberg",
    "Nyberg",
    "Blomqvist",
    "Claesson",
    "Smith",
    "Garcia",
    "Müller",
    "Rossi",
    "Nakamura",
    "Okafor",
    "Haddad",
    "Kowalski",
    "Novak",
    "Dubois",
];
const ORG_A: &[&str] = &[
    "Nordic",
    "Harbour",
    "Riverside",
    "Northgate",
    "Summit",
    "Baltic",
    "Granite",
    "Silver",
    "Pine",
    "Lakeside",
    "Crown",
    "Meridian",
    "Atlas",
    "Beacon",
    "Cedar",
    "Falcon",
    "Horizon",
    "Juniper",
    "Keystone",
    "Liberty",
];
const ORG_B: &[&str] = &[
    "Bakery",
    "Dental",
    "Logistics",
    "Consulting",
    "Engineering",
    "Partners",
    "Holdings",
    "Realty",
    "Solutions",
    "Studio",
    "Foods",
    "Motors",
    "Pharmacy",
    "Print",
    "Builders",
    "Legal",
    "Finance",
    "Design",
    "Travel",
    "Energy",
];
const RARE_SURNAME: &str = "Quenneville";

/// A small deterministic generator so every run builds the same data.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

struct Args {
    profiles: u64,
    postgres_url: Option<String>,
    search: bool,
    http: bool,
}

fn args() -> Args {
    let mut a = Args {
        profiles: 1_000_000,
        postgres_url: None,
        search: true,
        http: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--profiles" => {
                a.profiles = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--profiles N")
            }
            "--postgres-url" => a.postgres_url = it.next(),
            "--skip-search" => a.search = false,
            "--skip-http" => a.http = false,
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

fn bench_config(database_url: String) -> Config {
    Config {
        database_url,
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        log_filter: "warn".into(),
        argon2: Argon2Settings::default(),
        ..Config::default()
    }
}

async fn load_profiles(db: &memberkey::store::Db, n: u64) -> Duration {
    let backend = db.get_database_backend();
    let started = Instant::now();
    if backend == DatabaseBackend::Postgres {
        // Building the trigram index once after the load is much faster than row by row.
        db.execute_unprepared("DROP INDEX IF EXISTS idx_profiles_search_trgm")
            .await
            .unwrap();
    }
    let mut rng = SplitMix(42);
    let now = chrono::Utc::now();
    let batch = 500u64;
    let mut id = 0u64;
    let mut org_ids: Vec<u64> = Vec::new();
    while id < n {
        let txn = memberkey::store::begin_write(db).await.unwrap();
        for _ in 0..20 {
            if id >= n {
                break;
            }
            let rows = batch.min(n - id);
            let mut sql = String::from(
                "INSERT INTO profiles (id, kind, first_name, last_name, organization_name, email, member_status, parent_id, \
                 email_opt_out, first_name_key, last_name_key, organization_name_key, email_key, created_at, updated_at) VALUES ",
            );
            let mut values: Vec<DbValue> = Vec::new();
            for r in 0..rows {
                id += 1;
                let is_org = rng.next().is_multiple_of(5);
                let (first, last, org) = if is_org {
                    org_ids.push(id);
                    (
                        None,
                        None,
                        Some(format!("{} {} {}", rng.pick(ORG_A), rng.pick(ORG_B), id)),
                    )
                } else {
                    let last = if id % 100_000 == 7 {
                        RARE_SURNAME
                    } else {
                        rng.pick(LAST)
                    };
                    (
                        Some(rng.pick(FIRST).to_owned()),
                        Some(last.to_owned()),
                        None,
                    )
                };
                let email = match rng.next() % 10 {
                    0 => None,
                    _ => Some(match (&first, &last, &org) {
                        (Some(f), Some(l), _) => format!(
                            "{}.{}{}@mail{}.example",
                            f.to_lowercase(),
                            l.to_lowercase(),
                            id,
                            id % 97
                        ),
                        _ => format!("info{id}@company{}.example", id % 89),
                    }),
                };
                let parent = if !is_org && rng.next().is_multiple_of(2) && !org_ids.is_empty() {
                    Some(org_ids[(rng.next() % org_ids.len() as u64) as usize] as i64)
                } else {
                    None
                };
                if r > 0 {
                    sql.push(',');
                }
                let base = values.len();
                let ph: Vec<String> = (1..=15)
                    .map(|k| {
                        if backend == DatabaseBackend::Postgres {
                            format!("${}", base + k)
                        } else {
                            "?".into()
                        }
                    })
                    .collect();
                sql.push_str(&format!("({})", ph.join(",")));
                let key = |v: &Option<String>| v.as_deref().map(search_key);
                values.extend([
                    DbValue::from(id as i64),
                    DbValue::from(if is_org { "ORGANIZATION" } else { "INDIVIDUAL" }),
                    DbValue::from(first.clone()),
                    DbValue::from(last.clone()),
                    DbValue::from(org.clone()),
                    DbValue::from(email.clone()),
                    DbValue::from("ACTIVE"),
                    DbValue::from(parent),
                    DbValue::from(false),
                    DbValue::from(key(&first)),
                    DbValue::from(key(&last)),
                    DbValue::from(key(&org)),
                    DbValue::from(key(&email)),
                    DbValue::from(now),
                    DbValue::from(now),
                ]);
            }
            txn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
                .await
                .unwrap();
        }
        txn.commit().await.unwrap();
    }
    if backend == DatabaseBackend::Postgres {
        db.execute_unprepared("SELECT setval(pg_get_serial_sequence('profiles', 'id'), (SELECT max(id) FROM profiles))")
            .await
            .unwrap();
        db.execute_unprepared(
            "CREATE INDEX idx_profiles_search_trgm ON profiles USING gin (search_document gin_trgm_ops)",
        )
        .await
        .unwrap();
        db.execute_unprepared("ANALYZE").await.unwrap();
    } else {
        db.execute_unprepared("ANALYZE").await.unwrap();
    }
    started.elapsed()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

async fn time_many<F, Fut>(runs: usize, mut f: F) -> (Duration, Duration)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    f().await; // warm-up
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f().await;
        samples.push(t.elapsed());
    }
    samples.sort();
    (percentile(&samples, 0.5), percentile(&samples, 0.95))
}

async fn search_bench(label: &str, database_url: String, profiles: u64) {
    let config = bench_config(database_url);
    let app = App::build(config.clone()).await.expect("build app");
    let db = app.services().db.clone();
    let existing = {
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM profiles",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap() as u64
    };
    if existing < profiles {
        let took = load_profiles(&db, profiles).await;
        println!(
            "[{label}] loaded {profiles} profiles with their indexes in {:.1} s",
            took.as_secs_f64()
        );
    }
    let password = "benchmark staff password";
    let _ = services::staff::create(
        app.services(),
        None,
        &RequestMeta::default(),
        "operator",
        None,
        password,
        &Right::ALL,
    )
    .await;
    let running = app.spawn(config.listen).await.unwrap();
    let client = reqwest::Client::new();
    let url = running.url("/graphql");
    let token = common::staff_token(&client, &url, "operator", password).await;

    let terms: [(&str, &str); 6] = [
        ("selective", "quennev"),
        ("selective", "lucas.nakamura1"),
        ("selective", "777777"),
        ("common", "son"),
        ("common", "ann"),
        ("common", "berg"),
    ];
    println!(
        "\n[{label}] quick search, first: 20, {profiles} profiles (200 runs each; LIKE scan 20 runs)"
    );
    println!(
        "| term | kind | GraphQL p50 ms | GraphQL p95 ms | LIKE scan p50 ms | LIKE scan p95 ms | hits on page |"
    );
    println!("|---|---|---|---|---|---|---|");
    let query = "query($s: String) { profiles(search: $s, first: 20) { edges { node { id displayName } } } }";
    for (kind, term) in terms {
        let hits = std::cell::Cell::new(0);
        let (p50, p95) = time_many(200, || {
            let req = client
                .post(&url)
                .bearer_auth(&token)
                .json(&json!({ "query": query, "variables": { "s": term } }));
            let hits = &hits;
            async move {
                let v: serde_json::Value = req.send().await.unwrap().json().await.unwrap();
                assert!(v["errors"].is_null(), "{v}");
                hits.set(
                    v["data"]["profiles"]["edges"]
                        .as_array()
                        .map_or(0, Vec::len),
                );
            }
        })
        .await;
        let hits = hits.get();
        let like = format!("%{term}%");
        let backend = db.get_database_backend();
        let scan_sql = match backend {
            DatabaseBackend::Postgres => {
                "SELECT id FROM profiles WHERE first_name_key LIKE $1 OR last_name_key LIKE $1 \
                OR organization_name_key LIKE $1 OR email_key LIKE $1 OR (first_name_key || ' ' || last_name_key) LIKE $1 LIMIT 20"
            }
            _ => {
                "SELECT id FROM profiles WHERE first_name_key LIKE ?1 OR last_name_key LIKE ?1 \
                OR organization_name_key LIKE ?1 OR email_key LIKE ?1 OR (first_name_key || ' ' || last_name_key) LIKE ?1 LIMIT 20"
            }
        };
        let (s50, s95) = time_many(20, || {
            let stmt =
                Statement::from_sql_and_values(backend, scan_sql, [DbValue::from(like.clone())]);
            let db = db.clone();
            async move {
                db.query_all_raw(stmt).await.unwrap();
            }
        })
        .await;
        println!(
            "| `{term}` | {kind} | {} | {} | {} | {} | {hits} |",
            ms(p50),
            ms(p95),
            ms(s50),
            ms(s95)
        );
    }
    running.shutdown().await;
}

async fn plain_handler() -> ([(axum::http::HeaderName, &'static str); 1], &'static str) {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        r#"{"data":{"__typename":"QueryRoot"}}"#,
    )
}

fn wrk(url: &str) -> Option<f64> {
    let script = std::env::temp_dir().join("memberkey-bench-post.lua");
    std::fs::write(
        &script,
        "wrk.method = \"POST\"\nwrk.body = '{\"query\":\"{ __typename }\"}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n",
    )
    .ok()?;
    let out = std::process::Command::new("wrk")
        .args(["-t1", "-c32", "-d10s", "-s"])
        .arg(&script)
        .arg(url)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find(|l| l.starts_with("Requests/sec:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Serves `router` on a free port and returns its `/graphql` URL.
async fn serve_on_free_port(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}/graphql")
}

/// Three servers answering `{ __typename }`, measured one after another in one run: a plain
/// axum handler returning the same bytes, the stock async-graphql-axum service on memberkey's
/// schema with no middleware, and memberkey itself with every protection on.
async fn http_bench() {
    // Logging as the binary sets it up, at its default filter: request spans are live.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            Config::default().log_filter,
        ))
        .with_writer(std::io::sink)
        .try_init();
    let dir = tempfile::tempdir().unwrap();
    let config = bench_config(format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("http.db").display()
    ));
    let app = App::build(config.clone())
        .await
        .unwrap()
        .spawn(config.listen)
        .await
        .unwrap();
    let plain = serve_on_free_port(
        axum::Router::new().route("/graphql", axum::routing::post(plain_handler)),
    )
    .await;
    let stock_schema = memberkey::graphql::schema_builder().finish();
    let stock = serve_on_free_port(
        axum::Router::new()
            .route_service("/graphql", async_graphql_axum::GraphQL::new(stock_schema)),
    )
    .await;
    let servers = [
        ("a plain axum handler returning the same JSON", plain),
        ("stock async-graphql-axum 7.2, no middleware", stock),
        ("memberkey", app.url("/graphql")),
    ];
    let mut results = Vec::new();
    for (name, url) in servers {
        let Some(rps) = tokio::task::spawn_blocking(move || wrk(&url))
            .await
            .unwrap()
        else {
            println!(
                "\n`wrk` is not installed (apt-get install wrk); skipped the __typename throughput run."
            );
            return;
        };
        results.push((name, rps));
    }
    println!("\n`{{ __typename }}` over POST /graphql, wrk -t1 -c32 -d10s, one after another");
    println!("| server | requests/s | vs plain axum |");
    println!("|---|---|---|");
    let base = results[0].1;
    for (name, rps) in &results {
        println!("| {name} | {rps:.0} | {:.2} |", rps / base);
    }
    app.shutdown().await;
}

#[tokio::main]
async fn main() {
    let a = args();
    if a.search {
        let dir = std::env::var("MEMBERKEY_BENCH_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|_| std::env::temp_dir());
        let path = dir.join(format!("memberkey-bench-{}.db", a.profiles));
        search_bench(
            "SQLite",
            format!("sqlite://{}?mode=rwc", path.display()),
            a.profiles,
        )
        .await;
        if let Some(url) = &a.postgres_url {
            search_bench("PostgreSQL", url.clone(), a.profiles).await;
        }
    }
    if a.http {
        http_bench().await;
    }
}
