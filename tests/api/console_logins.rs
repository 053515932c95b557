//! Create Portal Logins in the console, by its visible labels: look first, create, then start
//! the Portal Login Credentials Link campaign to the same people. Screens at both sizes under
//! `screenshots/console/<backend>/`.

use serde_json::json;

use memberkey::domain::Right;

use crate::browser::{Browser, labelled};
use crate::console::{problems, sign_in, snap, text_of};
use crate::helpers::{Backend, org, per_backend, person, spawn_app};

async fn create_logins_in_the_console(backend: Backend) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let maria = app
        .create_profile(
            &admin,
            person("Maria", "Jensen", Some("maria@harbour.example")),
        )
        .await;
    app.create_profile(
        &admin,
        person("Søren", "Ærø", Some("soren@harbour.example")),
    )
    .await;
    let shipping = app
        .create_profile(
            &admin,
            org("Harbour Shipping A/S", Some("office@shipping.example")),
        )
        .await;
    app.staff_with(
        "clerk",
        &[
            Right::ManagePortalCredentials,
            Right::ManageProfiles,
            Right::SendMassCommunications,
        ],
    )
    .await;
    sign_in(&browser, &app, "clerk").await;
    browser.click_text("Create Portal Logins").await;
    browser
        .until("const h = document.querySelector('#main h1'); return h && h.textContent === 'Create Portal Logins'")
        .await;
    let kind = browser.until(&labelled("Kind")).await;
    browser
        .js(&format!(
            "const s = document.querySelector('{}'); s.value = 'INDIVIDUAL'; s.dispatchEvent(new Event('change')); return true",
            kind.as_str().unwrap()
        ))
        .await;
    snap(&browser, backend, "logins-filter").await;

    // Look first: what would happen, nothing changed yet.
    browser.click_text("Look first").await;
    let summary = text_of(&browser, "logins-summary", "would get").await;
    assert!(
        summary.starts_with("2 profiles would get a username"),
        "{summary}"
    );
    let table = browser
        .js("return document.getElementById('logins-examples').innerText")
        .await;
    for name in ["maria.jensen", "soren.aero"] {
        assert!(table.as_str().unwrap().contains(name), "{table}");
    }
    snap(&browser, backend, "logins-look").await;
    let untouched = app
        .gql(
            Some(&admin),
            "query($id: ID!) { profile(id: $id) { portalCredential { username } } }",
            json!({ "id": maria }),
        )
        .await;
    assert_eq!(
        untouched["data"]["profile"]["portalCredential"],
        json!(null)
    );

    // Create, confirmed in its window.
    browser.click_text("Create 2 portal logins").await;
    browser
        .until("return document.querySelector('dialog[open] button.primary')")
        .await;
    browser.click("dialog button.primary").await;
    let done = text_of(&browser, "logins-summary", "got a username").await;
    assert!(done.starts_with("2 profiles got a username"), "{done}");
    snap(&browser, backend, "logins-done").await;
    let made = app
        .gql(
            Some(&admin),
            "query($a: ID!, $b: ID!) { a: profile(id: $a) { portalCredential { username passwordIsSet } } b: profile(id: $b) { portalCredential { username } } }",
            json!({ "a": maria, "b": shipping }),
        )
        .await;
    assert_eq!(
        made["data"]["a"]["portalCredential"]["username"],
        "maria.jensen"
    );
    assert_eq!(
        made["data"]["a"]["portalCredential"]["passwordIsSet"],
        false
    );
    assert_eq!(
        made["data"]["b"]["portalCredential"],
        json!(null),
        "the organisation was not chosen"
    );

    // The campaign to the same people, as a draft with the credentials field.
    browser
        .click_text("Send them the Portal Login Credentials Link")
        .await;
    browser
        .until("return /^#\\/mass\\/[^/]+$/.test(location.hash)")
        .await;
    let id = browser
        .js("return decodeURIComponent(location.hash.split('/')[2])")
        .await;
    let draft = app
        .gql(
            Some(&admin),
            "query($id: ID!) { massCommunication(id: $id) { status html recipientCount recipients { filter { kind hasPassword } } } }",
            json!({ "id": id }),
        )
        .await;
    let draft = &draft["data"]["massCommunication"];
    assert_eq!(draft["status"], "DRAFT", "{draft}");
    assert!(
        draft["html"]
            .as_str()
            .unwrap()
            .contains("{{portal_login_credentials_link}}")
    );
    assert_eq!(
        draft["recipients"]["filter"],
        json!({ "kind": "INDIVIDUAL", "hasPassword": false })
    );
    assert_eq!(draft["recipientCount"], 2);
    // The draft says whom it goes to, in words.
    let summary = text_of(&browser, "recipients-summary", "Everyone matching").await;
    assert_eq!(summary, "Everyone matching: People, without a password.");
    snap(&browser, backend, "logins-campaign").await;
    let problems = problems(&browser).await;
    assert!(problems.is_empty(), "{problems:?}");
    browser.quit().await;
}
per_backend!(
    staff_create_portal_logins_in_the_console,
    super::create_logins_in_the_console
);
