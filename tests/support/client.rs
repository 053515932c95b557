//! The one GraphQL-over-HTTP client of the tests and the benchmarks (which include this file).

use serde_json::{Value, json};

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
