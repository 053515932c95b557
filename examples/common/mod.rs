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
