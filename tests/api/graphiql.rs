//! GraphiQL as a newcomer meets it, in headless Chromium with nothing but this server to load
//! from: the page loads the schema (the docs list `Profile`), the bar signs a staff user in,
//! and the default example query runs and shows its result. Screenshots are saved under the
//! target directory's `screenshots/`.

use crate::browser::Browser;
use crate::helpers::{Backend, per_backend, person, spawn_app};

const DOCS_BUTTON: &str = "[aria-label='Show Documentation Explorer']";

async fn graphiql_in_a_browser(backend: Backend) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    app.create_profile(
        &admin,
        person("Maria", "Jensen", Some("maria@harbour.example")),
    )
    .await;
    // Not found by the example's search for "jensen".
    app.create_profile(&admin, person("Tom", "Berg", None))
        .await;

    browser.goto(&app.url("/graphql")).await;
    // GraphiQL has rendered and fetched the schema: the docs explorer can list its types.
    browser
        .until(&format!("return document.querySelector(\"{DOCS_BUTTON}\")"))
        .await;
    browser.click(DOCS_BUTTON).await;
    browser
        .until("const d = document.querySelector('.graphiql-doc-explorer'); return d && d.textContent.includes('QueryRoot')")
        .await;
    browser
        .until("const a = [...document.querySelectorAll('.graphiql-doc-explorer a')].find(a => a.textContent === 'QueryRoot'); if (a) a.click(); return Boolean(a)")
        .await;
    let docs = browser
        .until("const d = document.querySelector('.graphiql-doc-explorer'); return d && d.textContent.includes('Profile') && d.textContent")
        .await;
    assert!(docs.as_str().unwrap().contains("profiles"), "{docs}");
    browser
        .screenshot(&format!("graphiql-docs-{backend:?}"))
        .await;

    // Signing in from the bar; the password never stays in the form.
    browser.type_into("#mk-username", "admin").await;
    browser
        .type_into("#mk-password", "correct horse battery staple")
        .await;
    browser.click("#mk-signin button").await;
    let who = browser
        .until("return !document.getElementById('mk-session').hidden && document.getElementById('mk-who').textContent")
        .await;
    assert_eq!(who, "admin");
    assert_eq!(
        browser
            .js("return document.getElementById('mk-password').value")
            .await,
        ""
    );

    // The default tab's quick search runs with the session token and shows the profile.
    browser.click(".graphiql-execute-button").await;
    let result = browser
        .until("const r = document.querySelector('.graphiql-response'); return r && r.textContent.includes('displayName') && r.textContent")
        .await;
    let result = result.as_str().unwrap();
    assert!(result.contains("Maria Jensen"), "{result}");
    assert!(!result.contains("UNAUTHENTICATED"), "{result}");
    assert!(
        result.contains("\"totalCount\": 1"),
        "the example's variables searched: {result}"
    );
    browser
        .screenshot(&format!("graphiql-result-{backend:?}"))
        .await;

    // Nothing was refused by the page's CSP or failed to load.
    let console = browser.console().await;
    let problems: Vec<&String> = console
        .iter()
        .filter(|l| l.contains("Content Security Policy") || l.contains("SEVERE"))
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
    browser.quit().await;
}
per_backend!(
    graphiql_loads_the_schema_signs_in_and_runs_a_query,
    super::graphiql_in_a_browser
);
