//! A page of 100 profiles with parent, related profiles and credentials costs the same number
//! of SQL statements as a page of 10.

use serde_json::json;

use crate::helpers::{Backend, TestApp, per_backend, spawn_app_with};

async fn statements_for_page(app: &TestApp, token: &str, first: usize) -> u64 {
    let q = "query($n: Int) { profiles(first: $n) { edges { node { id parent { id displayName } relatedProfiles { edges { node { id } } } portalCredential { username } } } } }";
    let before = app.app.sql_statements();
    let resp = app.gql(Some(token), q, json!({ "n": first })).await;
    let after = app.app.sql_statements();
    assert!(resp["errors"].is_null(), "{resp}");
    assert_eq!(
        resp["data"]["profiles"]["edges"].as_array().unwrap().len(),
        first
    );
    after - before
}

async fn page_size(backend: Backend) {
    // No delivery worker: its polling would add statements to the count.
    let app = spawn_app_with(backend, |c| c.mail.worker = false).await;
    {
        let token = app.admin().await;
        let mut parent = None;
        for i in 0..110 {
            let input = if i % 10 == 0 {
                json!({ "kind": "ORGANIZATION", "organizationName": format!("Org {i}") })
            } else {
                json!({ "kind": "INDIVIDUAL", "firstName": format!("Person {i}"), "parentId": parent })
            };
            let id = app.create_profile(&token, input).await;
            if i % 10 == 0 {
                parent = Some(id);
            }
        }
        // Warm up the session's "last seen" stamp so both measured requests do the same work.
        statements_for_page(&app, &token, 1).await;
        let ten = statements_for_page(&app, &token, 10).await;
        let hundred = statements_for_page(&app, &token, 100).await;
        assert_eq!(ten, hundred, "statements for 10: {ten}, for 100: {hundred}");
        // Session lookup (2), rights (1), the page (1), and one per relation (3).
        assert!(hundred <= 8, "expected a small constant, got {hundred}");
    }
}
per_backend!(
    page_size_does_not_change_the_statement_count,
    super::page_size
);
