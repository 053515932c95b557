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

/// The text after `name` on the command line, if given.
pub fn text_arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

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

/// The process's peak resident memory so far (VmHWM), in MiB.
pub fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// A PostgreSQL database made for one benchmark through the server `admin_url` names, and
/// dropped by `drop`.
pub struct FreshPostgres {
    admin: sea_orm::DatabaseConnection,
    name: String,
    /// Where the benchmark connects.
    pub url: String,
}

impl FreshPostgres {
    /// Makes `name` afresh (dropping one left by an interrupted run).
    pub async fn create(admin_url: &str, name: &str) -> Self {
        use sea_orm::ConnectionTrait;
        let admin = sea_orm::Database::connect(admin_url)
            .await
            .expect("PostgreSQL");
        for sql in [
            format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
            format!("CREATE DATABASE \"{name}\""),
        ] {
            admin.execute_unprepared(&sql).await.expect(&sql);
        }
        let url = match admin_url.rfind('/') {
            Some(at) if at > "postgres://".len() => format!("{}/{name}", &admin_url[..at]),
            _ => format!("{admin_url}/{name}"),
        };
        Self {
            admin,
            name: name.to_owned(),
            url,
        }
    }

    pub async fn drop(self) {
        use sea_orm::ConnectionTrait;
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        self.admin.execute_unprepared(&sql).await.expect(&sql);
    }
}
