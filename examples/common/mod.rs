//! What the benchmarks share: an app on a throwaway SQLite file, and the tests' GraphQL
//! client.
//! Each benchmark includes it with `mod common;` and may use only part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;

use memberkey::config::{Config, MailSettings};

/// Settings for a benchmark: a SQLite file and an outbox in `dir`, a port the system picks,
/// warnings only.
pub fn config(dir: &Path) -> Config {
    Config {
        database_url: format!("sqlite://{}?mode=rwc", dir.join("bench.db").display()),
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        log_filter: "warn".into(),
        mail: MailSettings {
            outbox_dir: dir.join("outbox"),
            ..Default::default()
        },
        ..Config::default()
    }
}

#[path = "../../tests/support/client.rs"]
mod client;
// Each benchmark uses part of the client.
#[allow(unused_imports)]
pub use client::{gql, staff_token};

/// The value after `name` on the command line, or `default`.
pub fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Makes the staff user `operator` with every right, and `n` members `bench0…` (email
/// `bench0@example.org`…) with `password` set; returns the operator's token.
pub async fn operator_and_members(
    app: &memberkey::RunningApp,
    http: &reqwest::Client,
    n: usize,
    password: &str,
) -> String {
    use serde_json::json;
    let url = app.url("/graphql");
    memberkey::services::staff::create(
        &app.services,
        None,
        &memberkey::services::RequestMeta::default(),
        "operator",
        None,
        password,
        &memberkey::domain::Right::ALL,
    )
    .await
    .unwrap();
    let staff = staff_token(http, &url, "operator", password).await;
    for i in 0..n {
        let p = gql(http, &url, Some(&staff), "mutation($i: CreateProfileInput!) { createProfile(input: $i) { profile { id } } }",
            json!({ "i": { "kind": "INDIVIDUAL", "firstName": "Bench", "lastName": format!("Member{i}"), "email": format!("bench{i}@example.org") } })).await;
        let id = p["data"]["createProfile"]["profile"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{p}"))
            .to_owned();
        let r = gql(http, &url, Some(&staff), "mutation($i: SetPortalCredentialsInput!) { setPortalCredentials(input: $i) { credential { username } } }",
            json!({ "i": { "profileId": id, "username": format!("bench{i}"), "password": password } })).await;
        assert!(r["errors"].is_null(), "{r}");
    }
    staff
}
