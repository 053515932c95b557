//! No clear password or token in any response, log line or database file. Runs the real
//! binary with debug logging, drives it over HTTP, then greps its output and the SQLite files.

mod support;

use std::process::Stdio;

use serde_json::json;
use support::{Server, eventually, gql_text};

const STAFF_PW: &str = "staff-secret-Quokka-4711";
const ASSIGNED: &str = "assigned-secret-Wombat-0815";
const CHOSEN: &str = "chosen-secret-Numbat-2342";
const LINKED: &str = "linked-secret-Bilby-7788";

fn token_in(link: &str) -> String {
    link.split_once("#token=").unwrap().1.to_owned()
}

/// The token in the first set-password link the outbox holds (quoted-printable undone).
async fn wait_for_mailed_token(outbox: &std::path::Path) -> String {
    eventually(std::time::Duration::from_secs(20), move || async move {
        mailed_token(outbox)
    })
    .await
    .unwrap_or_else(|| panic!("no mailed link appeared in {}", outbox.display()))
}

/// The token in the first set-password link the outbox holds now, if any.
fn mailed_token(outbox: &std::path::Path) -> Option<String> {
    for entry in std::fs::read_dir(outbox).ok()?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".eml") {
            continue;
        }
        let raw = std::fs::read_to_string(entry.path()).unwrap();
        let text = raw.replace("=\r\n", "").replace("=3D", "=");
        if let Some(at) = text.find("#token=") {
            return Some(
                text[at + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect(),
            );
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_responses_logs_or_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let base = || {
        let mut cmd = support::memberkey(dir.path());
        cmd.env("MEMBERKEY_REVEAL_ASSIGNED_PASSWORDS", "false")
            .env("MEMBERKEY_LOG", "trace");
        cmd
    };
    let mut child = base()
        .args(["staff", "create", "--username", "admin", "--all-rights"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), STAFF_PW.as_bytes()).unwrap();
    let created = child.wait_with_output().unwrap();
    assert!(created.status.success());
    let mut logs = String::from_utf8_lossy(&created.stderr).into_owned();

    let mut server = Server::start(base().arg("serve"));
    logs.push_str(&server.startup_log);
    let url = server.graphql();
    let client = reqwest::Client::new();
    let mut responses = String::new();

    let (v, t) = gql_text(
        &client,
        &url,
        None,
        "mutation($p: String!) { staffLogin(username: \"admin\", password: $p) { token } }",
        json!({ "p": STAFF_PW }),
    )
    .await;
    responses.push_str(&t);
    let staff_token = v["data"]["staffLogin"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (v, t) = gql_text(&client, &url, Some(&staff_token), "mutation { createProfile(input: { kind: INDIVIDUAL, firstName: \"Ann\", email: \"ann@example.org\" }) { profile { id } } }", json!({})).await;
    responses.push_str(&t);
    let id = v["data"]["createProfile"]["profile"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let set = "mutation($i: SetPortalCredentialsInput!) { setPortalCredentials(input: $i) { credential { username passwordIsSet } } }";
    let (_, t) = gql_text(
        &client,
        &url,
        Some(&staff_token),
        set,
        json!({ "i": { "profileId": id, "username": "annlee", "password": ASSIGNED } }),
    )
    .await;
    responses.push_str(&t);
    let weak = json!({ "i": { "profileId": id, "password": "annlee-weak" } });
    let (_, t) = gql_text(&client, &url, Some(&staff_token), set, weak).await;
    responses.push_str(&t);
    let login =
        "mutation($l: String!, $p: String!) { memberLogin(login: $l, password: $p) { token } }";
    let (_, t) = gql_text(
        &client,
        &url,
        None,
        login,
        json!({ "l": "annlee", "p": "wrong-secret-Dingo-1" }),
    )
    .await;
    responses.push_str(&t);
    let (v, t) = gql_text(
        &client,
        &url,
        None,
        login,
        json!({ "l": "ann@example.org", "p": ASSIGNED }),
    )
    .await;
    responses.push_str(&t);
    let member_token = v["data"]["memberLogin"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let change = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { changedAt } }";
    let (v, t) = gql_text(
        &client,
        &url,
        Some(&member_token),
        change,
        json!({ "c": ASSIGNED, "n": CHOSEN }),
    )
    .await;
    responses.push_str(&t);
    assert!(v["data"]["changePassword"]["changedAt"].is_string());

    // A staff-issued link and a mailed "Forgot Login" link: their tokens appear in the
    // response and the mail only, and the password set through one appears nowhere.
    let (v, t) = gql_text(
        &client,
        &url,
        Some(&staff_token),
        "mutation($id: ID!) { issueCredentialsLink(profileId: $id) { url } }",
        json!({ "id": id }),
    )
    .await;
    responses.push_str(&t);
    let issued = token_in(v["data"]["issueCredentialsLink"]["url"].as_str().unwrap());
    let (_, t) = gql_text(
        &client,
        &url,
        None,
        "mutation { requestPasswordReset(email: \"ann@example.org\") { accepted } }",
        json!({}),
    )
    .await;
    responses.push_str(&t);
    let mailed = wait_for_mailed_token(&dir.path().join("outbox")).await;
    let (v, t) = gql_text(
        &client,
        &url,
        None,
        "mutation($t: String!, $p: String!) { setPasswordWithToken(token: $t, password: $p) { login } }",
        json!({ "t": mailed, "p": LINKED }),
    )
    .await;
    responses.push_str(&t);
    assert!(
        v["data"]["setPasswordWithToken"]["login"].is_string(),
        "{v}"
    );

    assert!(server.stop("-TERM").success());
    // The log ends when the process has exited and its pipe is drained.
    for line in server.log.iter() {
        logs.push_str(&line);
        logs.push('\n');
    }
    assert!(
        logs.contains("TRACE") || logs.contains("DEBUG") || logs.contains("INFO"),
        "logs were captured"
    );

    let mut db_bytes = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("memberkey.db")
        {
            db_bytes.extend(std::fs::read(&path).unwrap());
        }
    }
    assert!(!db_bytes.is_empty());
    let db_text = String::from_utf8_lossy(&db_bytes);
    for secret in [
        STAFF_PW,
        ASSIGNED,
        CHOSEN,
        "wrong-secret-Dingo-1",
        "annlee-weak",
        LINKED,
        &staff_token,
        &member_token,
        &issued,
        &mailed,
    ] {
        assert!(
            !responses.contains(secret)
                || secret == staff_token
                || secret == member_token
                || secret == issued,
            "a response carries {secret:?}"
        );
        assert!(!logs.contains(secret), "a log line carries {secret:?}");
        assert!(
            !db_text.contains(secret),
            "the database files carry {secret:?}"
        );
    }
}
