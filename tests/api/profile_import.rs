//! `memberkey profiles import`: profiles and their organisation relations from another
//! system's CSV export, idempotent on the external ID, with a dry run, per-line refusals and
//! bcrypt accounts that sign in and move to Argon2id.

use memberkey::services::profile_import::{ImportReport, import_csv};
use serde_json::json;

use crate::helpers::{Backend, TestApp, code, per_backend, person, spawn_app};
use crate::member_login::member_login;

const OLD_PASSWORD: &str = "my password from the old members area";

async fn run(app: &TestApp, csv: &str, dry_run: bool) -> ImportReport {
    let mut calls = Vec::new();
    let report = import_csv(
        &app.app.services,
        csv.as_bytes(),
        dry_run,
        &mut |done, total| calls.push((done, total)),
    )
    .await
    .expect("the file is readable");
    let last = calls.last().copied().expect("progress was reported");
    assert_eq!(last.0, last.1, "progress ends at the total: {calls:?}");
    report
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.sql_value::<i64>(&format!("SELECT COUNT(*) AS n FROM {sql}"), "n")
        .await
}

fn file(bcrypt_hash: &str) -> String {
    // Columns in an unusual order, a person before their organisation, and mixed case.
    format!(
        "last_name,first_name,Kind,external_id,parent_external_id,organization_name,email,member_status,username,password_hash\n\
         Hansen,Jens,individual,P-1,ORG-1,,jens@harbour.example,ACTIVE,jens.hansen,{bcrypt_hash}\n\
         ,,ORGANIZATION,ORG-1,,Harbour Traders,office@harbour.example,ACTIVE,,\n\
         Berg,Tom,INDIVIDUAL,P-2,,,tom@example.org,LAPSED,,\n"
    )
}

/// A first run creates, a second changes nothing, an edited file updates in place.
async fn idempotent(backend: Backend) {
    let app = spawn_app(backend).await;
    let hash = bcrypt::hash(OLD_PASSWORD, 4).unwrap();
    let report = run(&app, &file(&hash), false).await;
    assert_eq!(report.problems, [], "{report:?}");
    assert_eq!(
        (
            report.lines,
            report.created,
            report.updated,
            report.unchanged,
            report.credentials_set
        ),
        (3, 3, 0, 0, 1),
        "{report:?}"
    );
    let jens_parent = app
        .sql_value::<String>(
            "SELECT o.external_id AS x FROM profiles p JOIN profiles o ON o.id = p.parent_id WHERE p.external_id = 'P-1'",
            "x",
        )
        .await;
    assert_eq!(
        jens_parent, "ORG-1",
        "the person is related to their organisation"
    );
    let status = app
        .sql_value::<String>(
            "SELECT member_status AS s FROM profiles WHERE external_id = 'P-2'",
            "s",
        )
        .await;
    assert_eq!(status, "LAPSED");

    let again = run(&app, &file(&hash), false).await;
    assert_eq!(
        (
            again.created,
            again.updated,
            again.unchanged,
            again.credentials_set
        ),
        (0, 0, 3, 0),
        "a second run changes nothing: {again:?}"
    );
    assert_eq!(count(&app, "profiles").await, 3, "nothing was duplicated");

    let edited = file(&hash).replace("tom@example.org,LAPSED", "tom.berg@example.org,ACTIVE");
    let third = run(&app, &edited, false).await;
    assert_eq!(
        (third.created, third.updated, third.unchanged),
        (0, 1, 2),
        "{third:?}"
    );
    let email = app
        .sql_value::<String>(
            "SELECT email AS e FROM profiles WHERE external_id = 'P-2'",
            "e",
        )
        .await;
    assert_eq!(email, "tom.berg@example.org");
    assert_eq!(count(&app, "profiles").await, 3);

    // Staff see where a profile came from.
    let admin = app.admin().await;
    let id = app
        .sql_value::<i64>("SELECT id FROM profiles WHERE external_id = 'P-1'", "id")
        .await;
    let got = app
        .gql(
            Some(&admin),
            "query($id: ID!) { profile(id: $id) { externalId parent { externalId displayName } } }",
            json!({ "id": id.to_string() }),
        )
        .await;
    assert_eq!(got["data"]["profile"]["externalId"], "P-1", "{got}");
    assert_eq!(
        got["data"]["profile"]["parent"]["displayName"],
        "Harbour Traders"
    );
}
per_backend!(importing_twice_changes_nothing, super::idempotent);

/// A dry run reports what would change and writes nothing, not even audit rows.
async fn dry_run(backend: Backend) {
    let app = spawn_app(backend).await;
    let hash = bcrypt::hash(OLD_PASSWORD, 4).unwrap();
    let report = run(&app, &file(&hash), true).await;
    assert_eq!(report.problems, [], "{report:?}");
    assert_eq!(
        (report.created, report.credentials_set),
        (3, 1),
        "{report:?}"
    );
    assert_eq!(count(&app, "profiles").await, 0, "nothing was written");
    assert_eq!(count(&app, "portal_credentials").await, 0);
    assert_eq!(count(&app, "audit_events").await, 0);

    run(&app, &file(&hash), false).await;
    let edited = file(&hash).replace("Berg,Tom", "Bergman,Tom");
    let report = run(&app, &edited, true).await;
    assert_eq!(
        (report.created, report.updated, report.unchanged),
        (0, 1, 2),
        "{report:?}"
    );
    let last = app
        .sql_value::<String>(
            "SELECT last_name AS n FROM profiles WHERE external_id = 'P-2'",
            "n",
        )
        .await;
    assert_eq!(last, "Berg", "the dry run left the profile as it was");
}
per_backend!(a_dry_run_writes_nothing, super::dry_run);

/// Each bad line is named by line and column; the good lines still import, and a refused
/// line leaves nothing behind.
async fn bad_lines(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let holder = app
        .create_profile(&admin, person("Holder", "Of Name", None))
        .await;
    let set = app
        .gql(
            Some(&admin),
            "mutation($p: ID!) { setPortalCredentials(input: { profileId: $p, username: \"taken.name\" }) { credential { username } } }",
            json!({ "p": holder }),
        )
        .await;
    assert_eq!(
        set["data"]["setPortalCredentials"]["credential"]["username"], "taken.name",
        "{set}"
    );

    let csv = "external_id,kind,first_name,last_name,organization_name,parent_external_id,email,username,password_hash\n\
               ok-1,INDIVIDUAL,Ada,Lund,,,ada@example.org,,\n\
               bad-email,INDIVIDUAL,Bo,Ek,,,not-an-address,,\n\
               ,INDIVIDUAL,No,Id,,,,,\n\
               bad-kind,COMPANY,,,Acme,,,,\n\
               bad-parent,INDIVIDUAL,Cy,Ny,,missing-org,,,\n\
               person-parent,INDIVIDUAL,Di,Ax,,ok-1,,,\n\
               bad-hash,INDIVIDUAL,Ed,Ox,,,,,md5:0123\n\
               taken,INDIVIDUAL,Fa,Re,,,,taken.name,\n\
               ok-1,INDIVIDUAL,Ada,Again,,,,,\n\
               ok-2,ORGANIZATION,,,Good Org,,,,\n";
    let report = run(&app, csv, false).await;
    let problems: Vec<(u64, Option<&str>)> =
        report.problems.iter().map(|p| (p.line, p.column)).collect();
    assert_eq!(
        problems,
        [
            (3, Some("email")),
            (4, Some("external_id")),
            (5, Some("kind")),
            (6, Some("parent_external_id")),
            (7, Some("parent_external_id")),
            (8, Some("password_hash")),
            (9, Some("username")),
            (10, Some("external_id")),
        ],
        "{report:?}"
    );
    assert!(
        report.problems.iter().all(|p| !p.message.is_empty()),
        "each refusal says why"
    );
    assert_eq!((report.lines, report.created), (10, 2), "{report:?}");
    let imported = count(&app, "profiles WHERE external_id IS NOT NULL").await;
    assert_eq!(imported, 2, "only the good lines were imported");
    assert_eq!(
        count(&app, "profiles WHERE external_id = 'taken'").await,
        0,
        "a line refused for its username left no profile behind"
    );
}
per_backend!(bad_lines_are_named_and_good_ones_import, super::bad_lines);

/// A bcrypt account signs in with its old password, which is rehashed to Argon2id; a
/// second import does not overwrite that password with the old hash.
async fn bcrypt_sign_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let hash = bcrypt::hash(OLD_PASSWORD, 4).unwrap();
    assert!(hash.starts_with("$2b$04$"), "{hash}");
    let csv = file(&hash).replace("$2b$", "$2y$");
    run(&app, &csv, false).await;
    let stored = "SELECT password_hash AS h FROM portal_credentials c JOIN profiles p ON p.id = c.profile_id WHERE p.external_id = 'P-1'";
    assert!(
        app.sql_value::<String>(stored, "h")
            .await
            .starts_with("$2y$")
    );

    assert_eq!(
        code(&member_login(&app, "jens.hansen", "not the old password at all").await),
        "INVALID_LOGIN"
    );
    let resp = member_login(&app, "jens.hansen", OLD_PASSWORD).await;
    assert!(resp["data"]["memberLogin"]["token"].is_string(), "{resp}");
    assert!(
        app.sql_value::<String>(stored, "h")
            .await
            .starts_with("$argon2id$"),
        "rehashed on sign-in"
    );

    let again = run(&app, &csv, false).await;
    assert_eq!(again.credentials_set, 0, "{again:?}");
    assert!(
        app.sql_value::<String>(stored, "h")
            .await
            .starts_with("$argon2id$")
    );
    let resp = member_login(&app, "jens.hansen", OLD_PASSWORD).await;
    assert!(resp["data"]["memberLogin"]["token"].is_string(), "{resp}");
}
per_backend!(
    bcrypt_accounts_sign_in_and_move_to_argon2id,
    super::bcrypt_sign_in
);

/// A header the import cannot use refuses the whole file before anything is written.
async fn bad_header(backend: Backend) {
    let app = spawn_app(backend).await;
    for header in [
        "external_id,kind,emial\n",
        "external_id,last_name\n",
        "kind,kind,external_id\n",
    ] {
        let err = import_csv(&app.app.services, header.as_bytes(), false, &mut |_, _| {})
            .await
            .expect_err(header);
        assert_eq!(err.code().as_str(), "BAD_USER_INPUT", "{header}");
    }
}
per_backend!(an_unusable_header_refuses_the_file, super::bad_header);
