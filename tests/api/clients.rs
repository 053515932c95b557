//! Standard clients on their default settings, run by node against the live server:
//! graphql-js's own introspection query and `buildClientSchema` (what GraphiQL, Apollo Sandbox
//! and codegen tools do), graphql-js validation of every example document, and the
//! graphql-http server audit. `tests/run-all.sh` installs the pinned packages of
//! `tests/node/package.json`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::helpers::both;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The node package, or `None` (a skip) when its modules are not installed; see
/// [`crate::helpers::missing`].
fn node_dir() -> Option<PathBuf> {
    let dir = repo().join("tests/node");
    if dir.join("node_modules/graphql-http").is_dir() && dir.join("node_modules/graphql").is_dir() {
        return Some(dir);
    }
    crate::helpers::missing("tests/node/node_modules is missing", "standard-client");
    None
}

/// Runs `node <script> <args>` and returns whether it succeeded and its JSON output lines.
async fn node(dir: &Path, script: &str, args: &[String]) -> (bool, Vec<Value>) {
    let out = tokio::process::Command::new("node")
        .arg(dir.join(script))
        .args(args)
        .current_dir(dir)
        .output()
        .await
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| Value::String(l.to_owned())))
        .collect();
    if !out.status.success() {
        eprintln!("{script} stderr: {}", String::from_utf8_lossy(&out.stderr));
    }
    (out.status.success(), lines)
}

both!(
    graphql_js_standard_introspection_builds_the_committed_schema,
    |app| async move {
        let Some(dir) = node_dir() else { return };
        let sdl = repo().join("schema.graphql").display().to_string();
        let (ok, lines) = node(&dir, "introspect.mjs", &[app.url("/graphql"), sdl]).await;
        assert!(ok, "{lines:?}");
        let summary = &lines[0];
        assert_eq!(summary["sameAsCommittedSdl"], true, "{summary}");
        assert_eq!(summary["hasProfile"], true, "{summary}");
    }
);

// The standard query passing must not open the door to any other: a normal query as deep
// as introspection, and introspection nested deeper than graphql-js's own limit, are refused.
both!(
    introspection_does_not_widen_the_limits_of_other_queries,
    |app| async move {
        let deep = format!(
            "{{ {}__typename{} }}",
            "profiles { edges { node { relatedProfiles { edges { node { ".repeat(3),
            " } } } } } }".repeat(3)
        );
        let resp = app.gql(None, &deep, serde_json::json!({})).await;
        assert_eq!(crate::helpers::code(&resp), "QUERY_TOO_COMPLEX", "{resp}");
        let nested =
            "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
        let resp = app.gql(None, nested, serde_json::json!({})).await;
        assert_eq!(crate::helpers::code(&resp), "QUERY_TOO_COMPLEX", "{resp}");
    }
);

#[tokio::test]
async fn every_example_and_console_document_is_valid_for_graphql_js() {
    let Some(dir) = node_dir() else { return };
    let mut files: Vec<String> = std::fs::read_dir(repo().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "graphql"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "examples/*.graphql exist");
    // The staff console's documents are validated the same way.
    files.push(
        repo()
            .join("src/http/staff/operations.graphql")
            .display()
            .to_string(),
    );
    let mut args = vec![repo().join("schema.graphql").display().to_string()];
    args.extend(files.iter().cloned());
    let (ok, lines) = node(&dir, "validate-documents.mjs", &args).await;
    assert!(ok, "{lines:#?}");
    assert_eq!(lines.len(), files.len(), "one line per document");
    for line in &lines {
        assert!(!line["operations"].as_array().unwrap().is_empty(), "{line}");
    }
}

both!(graphql_http_audit_passes_every_check, |app| async move {
    let Some(dir) = node_dir() else { return };
    let (ok, lines) = node(&dir, "audit.mjs", &[app.url("/graphql")]).await;
    let failed: Vec<&Value> = lines.iter().filter(|l| l["status"] != "ok").collect();
    assert!(ok, "{failed:#?}");
    let total = lines.last().unwrap();
    assert_eq!(total["failed"], 0, "{total}");
    assert!(total["total"].as_u64().unwrap() >= 61, "{total}");
});
