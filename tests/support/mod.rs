//! What every test that talks to memberkey shares: the one launcher of the real binary and
//! the one GraphQL client. Included by each test crate (`mod support;`), so a crate may use
//! only part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Duration;

use serde_json::{Value, json};

/// The `memberkey` binary run in `dir` with nothing of the caller's environment but `PATH`,
/// cheap password hashing, and a port the system picks.
pub fn memberkey(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_memberkey"));
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("MEMBERKEY_ARGON2_MEMORY_KIB", "1024")
        .env("MEMBERKEY_ARGON2_ITERATIONS", "1")
        .env("MEMBERKEY_LISTEN", "127.0.0.1:0");
    cmd
}

/// A `memberkey serve` process and what it logged before it served.
pub struct Server {
    pub child: Child,
    /// `http://host:port`.
    pub base: String,
    /// The log lines up to and including the one that names the address.
    pub startup_log: String,
    /// Every later log line, as it comes (a thread drains the pipe so it never blocks).
    pub log: Receiver<String>,
}

impl Server {
    /// Starts `cmd` (with `serve` and its flags already added) and waits until it serves.
    pub fn start(cmd: &mut Command) -> Server {
        let mut child = cmd
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("memberkey starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (tx, log) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut startup_log = String::new();
        let addr = loop {
            let line = log
                .recv_timeout(Duration::from_secs(60))
                .expect("memberkey did not start serving");
            startup_log.push_str(&line);
            startup_log.push('\n');
            if let Some(rest) = line.split("listen=").nth(1) {
                break rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
            }
        };
        Server {
            child,
            base: format!("http://{addr}"),
            startup_log,
            log,
        }
    }

    /// The GraphQL endpoint.
    pub fn graphql(&self) -> String {
        format!("{}/graphql", self.base)
    }

    /// Sends `signal` (e.g. `-TERM`, `-KILL`) and waits for the process to end.
    pub fn stop(&mut self, signal: &str) -> std::process::ExitStatus {
        signal_process(&self.child, signal);
        self.child.wait().expect("memberkey exits")
    }
}

/// Sends a signal to a child process.
pub fn signal_process(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill {signal} failed");
}

/// One GraphQL request over HTTP, as a client sends it (a JSON POST, with the bearer token
/// when given); returns the HTTP status, the parsed body and its text.
pub async fn post_graphql(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> (reqwest::StatusCode, Value, String) {
    let mut req = client
        .post(url)
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("request sent");
    let status = resp.status();
    let text = resp.text().await.expect("body read");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (status, body, text)
}

/// One GraphQL request over HTTP; returns the parsed body and its text.
pub async fn gql_text(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> (Value, String) {
    let (_, body, text) = post_graphql(client, url, token, query, variables).await;
    (body, text)
}

/// One GraphQL request over HTTP; returns the parsed body.
pub async fn gql(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    gql_text(client, url, token, query, variables).await.0
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
