//! `memberkey profiles import` benchmark behind BENCHMARKS.md. Run with:
//!
//!     cargo run --release --example bench_import -- [--rows N] [--postgres-url URL]
//!
//! Generates N rows (one organisation per 10 people, every person related to one, every
//! third with a username and a bcrypt hash), then on a fresh SQLite file (and, with
//! `--postgres-url`, a fresh PostgreSQL database made through that URL and dropped after):
//! a dry run, the first import, and a second import of the same file (all unchanged).

mod common;

use std::fmt::Write as _;
use std::time::Instant;

use memberkey::App;
use memberkey::services::profile_import::{ImportReport, import_csv};

fn args() -> (usize, Option<String>) {
    (
        common::arg("--rows", 100_000) as usize,
        common::text_arg("--postgres-url"),
    )
}

fn csv(rows: usize) -> String {
    // One real bcrypt hash (cost 4) for all: the import checks a hash's shape, never runs it.
    let hash = bcrypt::hash("an old password", 4).unwrap();
    let mut out = String::from(
        "external_id,kind,organization_name,first_name,last_name,parent_external_id,email,member_status,username,password_hash\n",
    );
    for i in 0..rows {
        if i % 11 == 0 {
            writeln!(
                out,
                "org-{i},ORGANIZATION,Company {i},,,,office{i}@example.org,ACTIVE,,"
            )
            .unwrap();
        } else {
            let org = i - i % 11;
            let (user, pw) = if i % 3 == 0 {
                (format!("member{i}"), hash.as_str())
            } else {
                (String::new(), "")
            };
            writeln!(
                out,
                "p-{i},INDIVIDUAL,,First{i},Last{},org-{org},person{i}@example.org,ACTIVE,{user},{pw}",
                i % 997
            )
            .unwrap();
        }
    }
    out
}

async fn timed(app: &App, file: &str, dry_run: bool) -> (ImportReport, f64) {
    let started = Instant::now();
    let report = import_csv(app.services(), file.as_bytes(), dry_run, &mut |_, _| {})
        .await
        .expect("import");
    assert!(
        report.problems.is_empty(),
        "{:?}",
        &report.problems[..3.min(report.problems.len())]
    );
    (report, started.elapsed().as_secs_f64())
}

async fn run(label: &str, database_url: String, file: &str, rows: usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(dir.path());
    config.database_url = database_url;
    let app = App::build(config).await.expect("app");
    for (what, dry_run) in [
        ("dry run", true),
        ("first import", false),
        ("second import", false),
    ] {
        let (report, secs) = timed(&app, file, dry_run).await;
        println!(
            "{label:10} {what:14} {rows} rows in {secs:6.2} s = {:7.0} rows/s  (created {}, updated {}, unchanged {}, credentials {})",
            rows as f64 / secs,
            report.created,
            report.updated,
            report.unchanged,
            report.credentials_set
        );
    }
}

#[tokio::main]
async fn main() {
    let (rows, postgres) = args();
    let file = csv(rows);
    println!("{rows} rows, {} MB of CSV", file.len() / 1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("import.db").display()
    );
    run("SQLite", sqlite, &file, rows).await;
    if let Some(url) = postgres {
        let name = format!("memberkey_bench_import_{}", std::process::id());
        let db = common::FreshPostgres::create(&url, &name).await;
        run("PostgreSQL", db.url.clone(), &file, rows).await;
        db.drop().await;
    }
}
