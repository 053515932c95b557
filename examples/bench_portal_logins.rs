//! Create Portal Logins benchmark behind BENCHMARKS.md. Run with:
//!
//!     cargo run --release --example bench_portal_logins -- [--profiles N] [--postgres-url URL]
//!
//! Imports N profiles (one organisation per 10 people; every fifth person already has a
//! username, so it is skipped; names repeat every 997, so usernames clash and get numbers),
//! then on a fresh SQLite file (and, with `--postgres-url`, a fresh PostgreSQL database made
//! through that URL and dropped after) times the use case as `createPortalLogins` runs it:
//! the dry run, the run, and a second run that finds nothing left to do. Prints the peak RSS.

mod common;

use std::fmt::Write as _;
use std::time::Instant;

use memberkey::App;
use memberkey::domain::{RecipientFilter, Right};
use memberkey::services::{Principal, RequestMeta, portal_logins, profile_import::import_csv};

fn args() -> (usize, Option<String>) {
    (
        common::arg("--profiles", 100_000) as usize,
        common::text_arg("--postgres-url"),
    )
}

fn csv(rows: usize) -> String {
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
            let user = if i % 5 == 0 {
                format!("member{i}")
            } else {
                String::new()
            };
            writeln!(
                out,
                "p-{i},INDIVIDUAL,,Søren{},Ærø{},org-{org},person{i}@example.org,ACTIVE,{user},",
                i % 997,
                i % 13
            )
            .unwrap();
        }
    }
    out
}

async fn run(label: &str, database_url: String, file: &str, rows: usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(dir.path());
    config.database_url = database_url;
    let app = App::build(config).await.expect("app");
    let svc = app.services();
    let started = Instant::now();
    let report = import_csv(svc, file.as_bytes(), false, &mut |_, _| {})
        .await
        .expect("import");
    assert!(report.problems.is_empty());
    println!(
        "{label:10} imported {rows} profiles in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let staff = memberkey::services::staff::create(
        svc,
        None,
        &RequestMeta::default(),
        "operator",
        None,
        "correct horse battery staple",
        &Right::ALL,
    )
    .await
    .expect("staff user");
    let principal = Principal::on_behalf_of(staff);
    for (what, dry_run) in [("dry run", true), ("run", false), ("second run", false)] {
        let started = Instant::now();
        let outcome = portal_logins::create(
            svc,
            &principal,
            &RequestMeta::default(),
            RecipientFilter::default(),
            dry_run,
        )
        .await
        .expect("create portal logins");
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{label:10} {what:11} {rows} profiles in {secs:6.2} s = {:7.0} profiles/s  (created {}, skipped {})",
            rows as f64 / secs,
            outcome.created,
            outcome.skipped
        );
    }
    println!(
        "{label:10} peak RSS so far {:.0} MiB",
        common::peak_rss_mib()
    );
}

#[tokio::main]
async fn main() {
    let (rows, postgres) = args();
    let file = csv(rows);
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("logins.db").display()
    );
    run("SQLite", sqlite, &file, rows).await;
    if let Some(url) = postgres {
        let name = format!("memberkey_bench_logins_{}", std::process::id());
        let db = common::FreshPostgres::create(&url, &name).await;
        run("PostgreSQL", db.url.clone(), &file, rows).await;
        db.drop().await;
    }
}
