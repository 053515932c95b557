//! What every test that talks to memberkey shares: the one launcher of the real binary, the
//! one GraphQL client and the one way to wait for something ([`eventually`]). Included by
//! each test crate (`mod support;`), so a crate may use only part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Duration;

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

/// A PostgreSQL database of a test's own, made on the suite's server.
pub struct FreshPostgres {
    /// The database's URL.
    pub url: String,
    admin_url: String,
    name: String,
}

impl FreshPostgres {
    /// A new, empty database; `None` (a skip, failed under CI) when the suite has no
    /// PostgreSQL.
    pub async fn create(prefix: &str) -> Option<FreshPostgres> {
        use sea_orm::ConnectionTrait;
        let Ok(admin_url) = std::env::var("MEMBERKEY_TEST_POSTGRES_URL") else {
            assert!(
                std::env::var_os("CI").is_none(),
                "MEMBERKEY_TEST_POSTGRES_URL is not set; tests/run-all.sh sets it"
            );
            eprintln!("SKIPPED: no PostgreSQL (MEMBERKEY_TEST_POSTGRES_URL)");
            return None;
        };
        let name = format!("memberkey_{prefix}_{}", uuid::Uuid::new_v4().simple());
        let admin = sea_orm::Database::connect(&admin_url).await.unwrap();
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap();
        admin.close().await.unwrap();
        let base = admin_url.rsplit_once('/').unwrap().0;
        Some(FreshPostgres {
            url: format!("{base}/{name}"),
            admin_url,
            name,
        })
    }

    /// Drops the database, whoever is still connected.
    pub async fn drop(self) {
        use sea_orm::ConnectionTrait;
        let admin = sea_orm::Database::connect(&self.admin_url).await.unwrap();
        let _ = admin
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .await;
    }
}

/// Polls `check` every 20 ms until it gives `Some`, for at most `deadline`; `None` once the
/// deadline has passed. Every test that waits for the worker, the database, a file or a
/// process uses this rather than a fixed sleep, so it waits exactly as long as it must.
pub async fn eventually<T, F, Fut>(deadline: std::time::Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = std::time::Instant::now();
    loop {
        if let Some(found) = check().await {
            return Some(found);
        }
        if start.elapsed() >= deadline {
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

mod client;
// Each test crate uses part of the client.
#[allow(unused_imports)]
pub use client::{gql, gql_text, post_graphql, staff_token};
