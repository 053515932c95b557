//! How fast a hostile query is refused, and whether other requests notice.
//!
//! Sends fragments that each spread the next one twice (16, 24 and 32 deep) and times the
//! refusal; then keeps 8 such requests in flight for a few seconds while measuring
//! `/healthz`. Run: `cargo run --release --example bench_query_cost`. Results: BENCHMARKS.md.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use memberkey::App;
use serde_json::json;

fn doubling_chain(n: usize) -> String {
    let mut q = String::from("{ ...F0 }");
    for i in 0..n {
        q.push_str(&format!(
            " fragment F{i} on QueryRoot {{ ...F{} ...F{} }}",
            i + 1,
            i + 1
        ));
    }
    q.push_str(&format!(" fragment F{n} on QueryRoot {{ __typename }}"));
    q
}

fn percentile(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::config(dir.path());
    let app = App::build(config)
        .await
        .unwrap()
        .spawn(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let url = app.url("/graphql");
    let health = app.url("/healthz");
    let client = reqwest::Client::new();

    for n in [16, 24, 32] {
        let body = json!({ "query": doubling_chain(n) });
        let mut times = Vec::new();
        for _ in 0..50 {
            let start = Instant::now();
            let resp: serde_json::Value = client
                .post(&url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            times.push(start.elapsed());
            assert_eq!(resp["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX");
        }
        println!(
            "{n} doubling fragments ({} bytes): refused in p50 {} / p99 {} (round trip)",
            doubling_chain(n).len(),
            ms(percentile(times.clone(), 0.5)),
            ms(percentile(times, 0.99))
        );
    }

    let idle: Vec<Duration> = {
        let mut v = Vec::new();
        for _ in 0..200 {
            let start = Instant::now();
            client.get(&health).send().await.unwrap();
            v.push(start.elapsed());
        }
        v
    };
    let stop = Instant::now() + Duration::from_secs(5);
    let floods: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            let url = url.clone();
            tokio::spawn(async move {
                let body = json!({ "query": doubling_chain(32) });
                let mut sent = 0u64;
                while Instant::now() < stop {
                    client.post(&url).json(&body).send().await.unwrap();
                    sent += 1;
                }
                sent
            })
        })
        .collect();
    let mut busy = Vec::new();
    while Instant::now() < stop {
        let start = Instant::now();
        client.get(&health).send().await.unwrap();
        busy.push(start.elapsed());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut hostile = 0;
    for f in floods {
        hostile += f.await.unwrap();
    }
    println!(
        "/healthz idle: p50 {} p99 {}; with 8 hostile clients ({hostile} refusals in 5 s): p50 {} p99 {}",
        ms(percentile(idle.clone(), 0.5)),
        ms(percentile(idle, 0.99)),
        ms(percentile(busy.clone(), 0.5)),
        ms(percentile(busy, 0.99)),
    );
}
