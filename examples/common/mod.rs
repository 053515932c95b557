//! What the benchmarks share: an app on a throwaway SQLite file, and one GraphQL client.
//! Each benchmark includes it with `mod common;` and may use only part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;

use memberkey::config::{Config, MailSettings};
use serde_json::{Value, json};

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

/// One GraphQL request over HTTP; returns the parsed body.
pub async fn gql(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut req = client
        .post(url)
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send()
        .await
        .expect("request sent")
        .json()
        .await
        .expect("JSON body")
}

/// Signs a staff user in and returns the bearer token.
pub async fn staff_token(
    client: &reqwest::Client,
    url: &str,
    username: &str,
    password: &str,
) -> String {
    let resp = gql(
        client,
        url,
        None,
        "mutation($u: String!, $p: String!) { staffLogin(username: $u, password: $p) { token } }",
        json!({ "u": username, "p": password }),
    )
    .await;
    resp["data"]["staffLogin"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("staff sign-in failed: {resp}"))
        .to_owned()
}
