//! The `memberkey` binary itself: schema export, staff creation from standard input, demo
//! seeding and graceful shutdown on SIGTERM.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::Duration;

use support::{eventually, memberkey};

#[test]
fn schema_needs_no_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = memberkey(dir.path())
        .env(
            "MEMBERKEY_DATABASE_URL",
            "postgres://nobody@127.0.0.1:1/none",
        )
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success());
    let sdl = String::from_utf8(out.stdout).unwrap();
    assert!(sdl.contains("type Profile"));
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "no database file was created"
    );
}

#[test]
fn staff_create_reads_the_password_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = memberkey(dir.path())
        .args([
            "staff",
            "create",
            "--username",
            "admin",
            "--email",
            "Admin@Harbour.Example",
            "--right",
            "manage_staff",
            "--right",
            "VIEW_AUDIT_LOG",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long enough password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("MANAGE_STAFF") && text.contains("VIEW_AUDIT_LOG"),
        "{text}"
    );
    assert!(text.contains("email Admin@harbour.example"), "{text}");
    assert!(
        dir.path().join("memberkey.db").exists(),
        "the default database is memberkey.db in the working directory"
    );

    // A second user with the same name is refused with a clear message.
    let mut again = memberkey(dir.path())
        .args(["staff", "create", "--username", "ADMIN", "--all-rights"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    again
        .stdin
        .take()
        .unwrap()
        .write_all(b"another long password\n")
        .unwrap();
    let out = again.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already in use"));

    let out = memberkey(dir.path())
        .args(["staff", "create", "--username", "x1", "--right", "BOGUS"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("MANAGE_PROFILES"),
        "the error lists the valid rights"
    );
}

#[tokio::test]
async fn serve_demo_seeds_once_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..2 {
        let mut child = memberkey(dir.path())
            .args(["serve", "--demo"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        if round == 0 {
            assert!(first.contains("Demo data loaded"), "{first}");
            let mut rest = String::new();
            for _ in 0..4 {
                stdout.read_line(&mut rest).unwrap();
            }
            assert!(
                rest.contains("Member sign-in: ") && rest.contains("/portal/sign-in"),
                "{rest}"
            );
            assert!(
                rest.contains("Staff console:") && rest.contains("/staff/"),
                "{rest}"
            );
            assert!(
                rest.contains("GraphiQL:") && rest.contains("/graphql"),
                "{rest}"
            );
            assert!(rest.contains("username admin  password "), "{rest}");
        } else {
            assert!(first.contains("already has data"), "{first}");
        }
        // Wait until it serves, then ask it to stop.
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        while stderr.read_line(&mut line).unwrap() > 0 && !line.contains("serving GraphQL") {
            line.clear();
        }
        assert!(line.contains("serving GraphQL"), "never started: {line}");
        // The banner says where mail goes: here, the outbox folder, and that nothing is sent.
        let mut mail = String::new();
        while stdout.read_line(&mut mail).unwrap() > 0 && !mail.contains("Mail is") {
            mail.clear();
        }
        assert!(
            mail.contains("written as .eml files to")
                && mail.contains("outbox")
                && mail.contains("not sent"),
            "{mail}"
        );
        support::signal_process(&child, "-TERM");
        let exit = eventually(Duration::from_secs(30), || {
            let status = child.try_wait().unwrap();
            async move { status }
        })
        .await
        .expect("did not stop after SIGTERM");
        assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");
    }
}

#[test]
fn bad_settings_name_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let out = memberkey(dir.path())
        .env("MEMBERKEY_LISTEN", "not-an-address")
        .arg("migrate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("MEMBERKEY_LISTEN"));
}

/// Creates the staff user `boss` (every right) with `memberkey staff create`.
fn create_boss(dir: &std::path::Path) {
    let mut child = memberkey(dir)
        .args(["staff", "create", "--username", "boss", "--all-rights"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a sturdy long passphrase\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
}

/// Runs `sql` on the `memberkey.db` in `dir`; its column `n` of the first row, if any.
fn sql_n(dir: &std::path::Path, sql: &str) -> Option<i64> {
    use sea_orm::ConnectionTrait;
    let url = format!("sqlite://{}?mode=rwc", dir.join("memberkey.db").display());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = sea_orm::Database::connect(&url).await.unwrap();
        let stmt = sea_orm::Statement::from_string(db.get_database_backend(), sql.to_owned());
        let row = db.query_one_raw(stmt).await.unwrap();
        row.map(|r| r.try_get::<i64>("", "n").unwrap())
    })
}

#[test]
fn staff_unlock_clears_the_lock_for_the_last_administrator() {
    let dir = tempfile::tempdir().unwrap();
    create_boss(dir.path());

    // Failed sign-ins from two clients, as the server counts them.
    let count = |sql: &str| sql_n(dir.path(), sql);
    count(
        // Boss is staff user 1: two locked clients, and the second factor's account-wide
        // count; user 12's client counter must stay.
        "INSERT INTO rate_limit_buckets (bucket_key, window_started_at, hits) VALUES ('lock:s:1|203.0.113.1', '2026-01-01 00:00:00+00:00', 10), ('lock:s:1|203.0.113.2', '2026-01-01 00:00:00+00:00', 10), ('lock:f:1', '2026-01-01 00:00:00+00:00', 10), ('lock:s:12|203.0.113.1', '2026-01-01 00:00:00+00:00', 10) RETURNING 1 AS n",
    );

    let out = memberkey(dir.path())
        .args(["staff", "unlock", "--username", "BOSS"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("unlocked staff user boss"));
    assert_eq!(
        count(
            "SELECT COUNT(*) AS n FROM rate_limit_buckets WHERE bucket_key LIKE 'lock:s:1|%' OR bucket_key = 'lock:f:1'"
        ),
        Some(0)
    );
    assert_eq!(
        count("SELECT COUNT(*) AS n FROM rate_limit_buckets"),
        Some(1),
        "another account's counters stay"
    );

    let out = memberkey(dir.path())
        .args(["staff", "unlock", "--username", "nobody"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nobody"));
}

#[test]
fn staff_reset_second_factor_is_the_way_back_for_a_lost_phone() {
    let dir = tempfile::tempdir().unwrap();
    create_boss(dir.path());
    let count = |sql: &str| sql_n(dir.path(), sql);
    // The boss has a second factor (its sealed secret does not matter here) and a session.
    count(
        "INSERT INTO staff_second_factors (staff_user_id, secret, last_step, updated_at) VALUES (1, 'sealed', 1, '2026-01-01 00:00:00+00:00') RETURNING 1 AS n",
    );
    count(
        "INSERT INTO staff_sessions (token_hash, staff_user_id, created_at, expires_at, last_seen_at) VALUES ('h', 1, '2026-01-01 00:00:00+00:00', '2099-01-01 00:00:00+00:00', '2099-01-01 00:00:00+00:00') RETURNING 1 AS n",
    );
    let reset = |name: &str| {
        memberkey(dir.path())
            .args(["staff", "reset-second-factor", "--username", name])
            .output()
            .unwrap()
    };
    let out = reset("Boss");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("removed the second factor of staff user boss")
    );
    assert_eq!(
        count("SELECT COUNT(*) AS n FROM staff_second_factors"),
        Some(0)
    );
    assert_eq!(count("SELECT COUNT(*) AS n FROM staff_sessions"), Some(0));
    assert_eq!(
        count(
            "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'STAFF_SECOND_FACTOR_RESET' AND actor_kind = 'SYSTEM'"
        ),
        Some(1)
    );
    // Nothing left to remove, and an unknown user: both say so and fail.
    let again = reset("boss");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("no second factor"));
    assert!(!reset("nobody").status.success());
}

/// Runs `memberkey staff reset-password` with `password` on standard input.
fn reset_password(dir: &std::path::Path, username: &str, password: &str) -> std::process::Output {
    let mut child = memberkey(dir)
        .args(["staff", "reset-password", "--username", username])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn staff_reset_password_lets_the_last_administrator_back_in() {
    let dir = tempfile::tempdir().unwrap();
    create_boss(dir.path());

    // The policy holds here too: too short, or containing the username.
    for weak in ["short", "boss boss boss boss"] {
        let out = reset_password(dir.path(), "boss", weak);
        assert!(!out.status.success(), "{weak:?} was accepted");
    }
    let out = reset_password(dir.path(), "nobody", "another sturdy passphrase");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nobody"));

    let out = reset_password(dir.path(), "BOSS", "another sturdy passphrase");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("staff user BOSS"));

    // The server takes the new password and refuses the old one.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut server = support::Server::start(
        memberkey(dir.path())
            .env("MEMBERKEY_LOG", "warn,memberkey=info")
            .arg("serve"),
    );
    let url = server.graphql();
    rt.block_on(async {
        let client = reqwest::Client::new();
        support::staff_token(&client, &url, "boss", "another sturdy passphrase").await;
        let old = support::gql(
            &client,
            &url,
            None,
            "mutation { staffLogin(username: \"boss\", password: \"a sturdy long passphrase\") { token } }",
            serde_json::json!({}),
        )
        .await;
        assert_eq!(old["errors"][0]["extensions"]["code"], "INVALID_LOGIN", "{old}");
    });
    server.stop("-TERM");
}

/// `memberkey check` with the given extra settings: its exit success and its lines.
fn check(dir: &std::path::Path, settings: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = memberkey(dir);
    cmd.env(
        "MEMBERKEY_DATABASE_URL",
        format!("sqlite://{}/check.db?mode=rwc", dir.display()),
    );
    for (k, v) in settings {
        cmd.env(k, v);
    }
    let out = cmd.arg("check").output().unwrap();
    (out.status.success(), String::from_utf8(out.stdout).unwrap())
}

#[test]
fn check_passes_a_good_configuration() {
    let dir = tempfile::tempdir().unwrap();
    // Before the first start the database does not exist, and check does not create it.
    let (ok, out) = check(dir.path(), &[]);
    assert!(ok, "{out}");
    assert!(out.contains("does not exist yet"), "{out}");
    assert!(
        !dir.path().join("check.db").exists(),
        "check creates no database"
    );
    assert!(
        !dir.path().join("memberkey.key").exists(),
        "check creates no key"
    );
    assert!(
        !dir.path().join("outbox").exists(),
        "check creates no outbox folder"
    );
    assert!(out.contains("outbox does not exist yet"), "{out}");
    let migrated = memberkey(dir.path())
        .env(
            "MEMBERKEY_DATABASE_URL",
            format!("sqlite://{}/check.db?mode=rwc", dir.path().display()),
        )
        .arg("migrate")
        .output()
        .unwrap();
    assert!(migrated.status.success());
    let (ok, out) = check(dir.path(), &[]);
    assert!(ok, "{out}");
    for what in ["names", "settings", "database", "sealing key", "outbox"] {
        assert!(out.contains(&format!("ok    {what}: ")), "{what}: {out}");
    }
    assert!(out.contains("migrations applied, none pending"), "{out}");
    assert!(!out.contains("FAIL"), "{out}");
}

#[test]
fn check_names_each_broken_setting() {
    let dir = tempfile::tempdir().unwrap();
    // A misspelt name, with the setting it was meant to be.
    let (ok, out) = check(dir.path(), &[("MEMBERKEY_MAX_DEPHT", "3")]);
    assert!(!ok);
    assert!(
        out.contains(
            "FAIL  names: MEMBERKEY_MAX_DEPHT is not a setting; did you mean MEMBERKEY_MAX_DEPTH?"
        ),
        "{out}"
    );
    // A value that does not parse: named, and nothing that depends on it is tried.
    let (ok, out) = check(dir.path(), &[("MEMBERKEY_MAX_DEPTH", "deep")]);
    assert!(!ok);
    assert!(out.contains("FAIL  settings: MEMBERKEY_MAX_DEPTH"), "{out}");
    assert!(!out.contains("database"), "{out}");
    // A database that cannot be opened.
    // A directory, not a database file.
    let url = format!("sqlite://{}?mode=rwc", dir.path().display());
    let (ok, out) = check(dir.path(), &[("MEMBERKEY_DATABASE_URL", &url)]);
    assert!(!ok);
    assert!(out.contains("FAIL  database: cannot connect"), "{out}");
    // A sealing key that others can read.
    let key = dir.path().join("open.key");
    std::fs::write(&key, "A".repeat(43)).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (ok, out) = check(
        dir.path(),
        &[("MEMBERKEY_SEALING_KEY_FILE", key.to_str().unwrap())],
    );
    assert!(!ok);
    assert!(
        out.contains("FAIL  sealing key:") && out.contains("chmod 600"),
        "{out}"
    );
    // An outbox that cannot be written: its path runs through a file.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let (ok, out) = check(
        dir.path(),
        &[(
            "MEMBERKEY_OUTBOX_DIR",
            file.join("outbox").to_str().unwrap(),
        )],
    );
    assert!(!ok);
    assert!(out.contains("FAIL  outbox:"), "{out}");
}

/// SMTP settings that would leak the password or cannot work are refused before anything
/// connects, and no output repeats the password.
#[test]
fn check_refuses_an_smtp_password_without_encryption() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = |url: &str| {
        check(
            dir.path(),
            &[
                ("MEMBERKEY_MAIL_TRANSPORT", "smtp"),
                ("MEMBERKEY_SMTP_URL", url),
            ],
        )
    };
    let (ok, out) = smtp("smtp://relay:hunter2secret@127.0.0.1:2525");
    assert!(!ok);
    assert!(
        out.contains("FAIL  settings: MEMBERKEY_SMTP_URL") && out.contains("unencrypted"),
        "{out}"
    );
    assert!(!out.contains("hunter2secret"), "{out}");
    let (ok, out) = smtp("smtp://relay:hunter2secret@127.0.0.1:2525?tls=maybe");
    assert!(!ok && out.contains("tls=\"maybe\""), "{out}");
    assert!(!out.contains("hunter2secret"), "{out}");
    let (ok, out) = smtp("http://relay.example.org");
    assert!(!ok && out.contains("smtp or smtps"), "{out}");
    let (ok, out) = check(dir.path(), &[("MEMBERKEY_MAIL_TRANSPORT", "smtp")]);
    assert!(
        !ok && out.contains("MEMBERKEY_SMTP_URL: is required"),
        "{out}"
    );
    // Encrypted, but nothing answers: the check fails at the server, still without the
    // password.
    let (ok, out) = smtp("smtps://relay:hunter2secret@127.0.0.1:9");
    assert!(!ok, "{out}");
    assert!(out.contains("FAIL  smtp: 127.0.0.1:9 (TLS)"), "{out}");
    assert!(!out.contains("hunter2secret"), "{out}");
}

#[test]
fn a_misspelt_setting_stops_every_command_before_it_touches_anything() {
    let dir = tempfile::tempdir().unwrap();
    // The outside test's case: the database URL misspelt would have served a new, empty
    // SQLite file with a new sealing key.
    let out = memberkey(dir.path())
        .env(
            "MEMBERKEY_DATABSE_URL",
            "postgres://nobody@127.0.0.1:9/none",
        )
        .arg("migrate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let log = String::from_utf8(out.stderr).unwrap();
    assert!(
        log.contains(
            "MEMBERKEY_DATABSE_URL is not a setting; did you mean MEMBERKEY_DATABASE_URL?"
        ),
        "{log}"
    );
    assert!(log.contains("MEMBERKEY_ALLOW_UNKNOWN_SETTINGS"), "{log}");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        left.is_empty(),
        "no database, key or outbox was made: {left:?}"
    );

    // The escape hatch starts anyway, with a warning.
    let out = memberkey(dir.path())
        .env(
            "MEMBERKEY_DATABASE_URL",
            format!("sqlite://{}/m.db?mode=rwc", dir.path().display()),
        )
        .env("MEMBERKEY_MAX_DEPHT", "3")
        .env("MEMBERKEY_ALLOW_UNKNOWN_SETTINGS", "true")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(out.status.success());
    let log = String::from_utf8(out.stderr).unwrap();
    assert!(
        log.contains(
            "MEMBERKEY_MAX_DEPHT is not a setting and is ignored; did you mean MEMBERKEY_MAX_DEPTH?"
        ),
        "{log}"
    );
}

#[test]
fn version_names_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let out = memberkey(dir.path()).arg("--version").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(&format!("memberkey {} (schema ", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
}

/// `memberkey profiles import`: bad lines named by line and column on standard error, the
/// good ones imported, a summary, and a non-zero exit; then a dry run of the fixed file and
/// the real run, which creates only the line that was missing.
#[test]
fn profiles_import_names_bad_lines_and_runs_again_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("members.csv");
    let good = "external_id,kind,organization_name,first_name,last_name,parent_external_id,email\n\
                org-1,ORGANIZATION,Harbour Traders,,,,office@harbour.example\n\
                p-1,INDIVIDUAL,,Jens,Hansen,org-1,jens@harbour.example\n";
    std::fs::write(
        &csv,
        format!("{good}p-2,INDIVIDUAL,,Tom,Berg,,not-an-address\n"),
    )
    .unwrap();
    let import = |extra: &[&str]| {
        let mut cmd = memberkey(dir.path());
        cmd.args(["profiles", "import", "members.csv"]).args(extra);
        cmd.output().unwrap()
    };

    // A dry run on a database that was never migrated changes nothing, migrations included.
    let out = import(&["--dry-run"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("memberkey migrate"), "{stderr}");

    let out = import(&[]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(!out.status.success(), "a refused line fails the run");
    assert!(stderr.contains("line 4, column email:"), "{stderr}");
    assert!(
        stderr.contains("3 of 3 lines done"),
        "plain progress off a terminal: {stderr}"
    );
    assert!(stdout.contains("created 2"), "{stdout}");

    std::fs::write(
        &csv,
        format!("{good}p-2,INDIVIDUAL,,Tom,Berg,,tom@example.org\n"),
    )
    .unwrap();
    let out = import(&["--dry-run"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("would create 1")
            && stdout.contains("2 unchanged")
            && stdout.contains("dry run"),
        "{stdout}"
    );
    let out = import(&[]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("created 1") && stdout.contains("2 unchanged"),
        "{stdout}"
    );
    let out = import(&[]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("created 0"),
        "idempotent"
    );

    // A misspelt column refuses the whole file and says which one was meant.
    std::fs::write(&csv, "external_id,kind,emial\n").unwrap();
    let out = import(&[]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("did you mean email?"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn backup_copies_a_sqlite_database_and_names_pg_dump_for_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let out = memberkey(dir.path()).arg("migrate").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = memberkey(dir.path())
        .args(["backup", "copy.db"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("Copied the database to") && said.contains("copy.db"),
        "{said}"
    );
    assert!(
        said.contains("memberkey.key"),
        "names the sealing key to keep: {said}"
    );
    assert!(std::fs::metadata(dir.path().join("copy.db")).unwrap().len() > 0);

    // Never over an earlier backup.
    let out = memberkey(dir.path())
        .args(["backup", "copy.db"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));

    // An address with no memberkey database in it is not backed up as if it were one.
    let out = memberkey(dir.path())
        .env("MEMBERKEY_DATABASE_URL", "sqlite://empty.db?mode=rwc")
        .args(["backup", "empty-copy.db"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no memberkey tables"));

    // PostgreSQL: the pg_dump command, without the password.
    let out = memberkey(dir.path())
        .env(
            "MEMBERKEY_DATABASE_URL",
            "postgres://app:s3cret@db.example:5432/memberkey",
        )
        .args(["backup", "members.dump"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        said.contains(
            "pg_dump --format=custom --file=members.dump 'postgres://app@db.example:5432/memberkey'"
        ),
        "{said}"
    );
    assert!(!said.contains("s3cret"), "{said}");
}

#[test]
fn profiles_export_prints_a_persons_data() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("people.csv"),
        "external_id,kind,first_name,last_name,email\nm-1,INDIVIDUAL,Maria,Jensen,maria@harbour.example\n",
    )
    .unwrap();
    let out = memberkey(dir.path())
        .args(["profiles", "import", "people.csv"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = memberkey(dir.path())
        .args(["profiles", "export", "1"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["format"], "memberkey.profile-export.v1");
    assert_eq!(doc["profile"]["email"], "maria@harbour.example");
    let out = memberkey(dir.path())
        .args(["profiles", "export", "x1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("profile ID"));
}
