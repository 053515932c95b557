//! Member sign-in benchmarks behind BENCHMARKS.md. Run with:
//!
//!     cargo run --release --example bench_logins -- [--seconds S] [--clients C]
//!
//! 1. Argon2id hash and verify time at the default parameters (m=19456, t=2, p=1).
//! 2. Login throughput through GraphQL over HTTP (SQLite, default settings, C concurrent
//!    clients for S seconds) against the bound `cores / verify time`, measured in this run.
//! 3. p99 latency of a cheap query (`{ passwordPolicy { minLength } }`) idle, and while the
//!    logins keep the hash pool saturated.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use memberkey::{App, Config};
use serde_json::json;

const PASSWORD: &str = "benchmarks need long passphrases too";
const ACCOUNTS: usize = 64;

/// CPU time this process has used (user + system), from /proc.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat(5); here 11 and 12 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn p99(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * 0.99).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Hash and verify time of one Argon2id evaluation on one core.
fn argon2_times() -> (Duration, Duration) {
    let argon = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19_456, 2, 1, None).unwrap(),
    );
    let phc = argon
        .hash_password(PASSWORD.as_bytes())
        .unwrap()
        .to_string();
    let parsed = PasswordHash::new(&phc).unwrap();
    let mut hashes = Vec::new();
    let mut verifies = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        argon.hash_password(PASSWORD.as_bytes()).unwrap();
        hashes.push(t.elapsed());
        let t = Instant::now();
        Argon2::default()
            .verify_password(PASSWORD.as_bytes(), &parsed)
            .unwrap();
        verifies.push(t.elapsed());
    }
    (median(hashes), median(verifies))
}

/// Verifications per second with `threads` threads verifying at once: what the cores
/// really deliver when every one of them hashes (shared caches and memory bandwidth).
fn parallel_verifies(threads: usize, for_: Duration) -> f64 {
    let argon = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19_456, 2, 1, None).unwrap(),
    );
    let phc = argon
        .hash_password(PASSWORD.as_bytes())
        .unwrap()
        .to_string();
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (phc, done) = (phc.clone(), done.clone());
            std::thread::spawn(move || {
                let parsed = PasswordHash::new(&phc).unwrap();
                while start.elapsed() < for_ {
                    Argon2::default()
                        .verify_password(PASSWORD.as_bytes(), &parsed)
                        .unwrap();
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

const LOGIN: &str =
    "mutation($l: String!, $p: String!) { memberLogin(login: $l, password: $p) { token } }";
const CHEAP: &str = "{ passwordPolicy { minLength } }";

/// Latencies of `n` cheap queries, one after another.
async fn cheap_latencies(client: &reqwest::Client, url: &str, n: usize) -> Vec<Duration> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let v = common::gql(client, url, None, CHEAP, json!({})).await;
        assert!(v["data"]["passwordPolicy"].is_object(), "{v}");
        out.push(t.elapsed());
    }
    out
}

#[tokio::main]
async fn main() {
    let seconds = common::arg("--seconds", 15);
    let clients = common::arg("--clients", 16) as usize;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);

    let (hash, verify) = argon2_times();
    println!(
        "Argon2id m=19456 KiB, t=2, p=1: hash {} (median of 30), verify {}",
        ms(hash),
        ms(verify)
    );
    let bound = cores as f64 / verify.as_secs_f64();
    println!("Bound: {cores} cores / verify time = {bound:.1} logins/s");
    let raw = parallel_verifies(cores, Duration::from_secs(5));
    println!(
        "Raw Argon2id verifies on {cores} threads at once, no server: {raw:.1}/s ({:.0}% of the bound)",
        100.0 * raw / bound
    );

    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        login_ip_limit: i32::MAX,
        ..common::config(dir.path())
    };
    let app = App::build(config)
        .await
        .unwrap()
        .spawn(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let url = app.url("/graphql");
    let client = reqwest::Client::new();

    common::operator_and_members(&app, &client, ACCOUNTS, PASSWORD).await;

    let idle = p99(cheap_latencies(&client, &url, 2_000).await);
    println!("Cheap query p99, idle: {}", ms(idle));

    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, url, stop, ok, failed) = (
            client.clone(),
            url.clone(),
            stop.clone(),
            ok.clone(),
            failed.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut i = c;
            while !stop.load(Ordering::Relaxed) {
                let v = common::gql(
                    &client,
                    &url,
                    None,
                    LOGIN,
                    json!({ "l": format!("bench{}", i % ACCOUNTS), "p": PASSWORD }),
                )
                .await;
                if v["data"]["memberLogin"]["token"].is_string() {
                    ok.fetch_add(1, Ordering::Relaxed);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                i += clients;
            }
        }));
    }
    // Let the pool fill, then count logins with nothing else running.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let start_ok = ok.load(Ordering::Relaxed);
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let elapsed = started.elapsed().as_secs_f64();
    let logins = ok.load(Ordering::Relaxed) - start_ok;
    let cpu = (cpu_seconds() - cpu_before) / elapsed;
    // Then, with the logins still saturating the pool, a cheap query every 10 ms.
    let mut busy = Vec::new();
    let until = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < until {
        busy.extend(cheap_latencies(&client, &url, 1).await);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let rate = logins as f64 / elapsed;
    println!(
        "Logins through GraphQL: {rate:.1}/s with {clients} clients over {elapsed:.0} s = {:.0}% of the bound, {:.0}% of the raw parallel rate ({} failed); process CPU {:.0}%",
        100.0 * rate / bound,
        100.0 * rate / raw,
        failed.load(Ordering::Relaxed),
        cpu * 100.0
    );
    let busy_p99 = p99(busy.clone());
    println!(
        "Cheap query p99 while logins saturate the hash pool: {} over {} queries ({} above idle)",
        ms(busy_p99),
        busy.len(),
        ms(busy_p99.saturating_sub(idle))
    );
    app.shutdown().await;
}
