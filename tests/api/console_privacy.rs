//! "Export personal data" on a profile in the console: only with MANAGE_PERSONAL_DATA, and
//! the export is audited. Screens at both sizes under `screenshots/console/<backend>/`.

use memberkey::domain::Right;

use crate::browser::Browser;
use crate::console::{problems, sign_in, snap, text_of};
use crate::helpers::{Backend, per_backend, person, spawn_app};
use crate::member_pages_browser::fill;

async fn export_in_the_console(backend: Backend) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let id = app
        .create_profile(
            &admin,
            person("Maria", "Jensen", Some("maria@harbour.example")),
        )
        .await;
    app.staff_with("clerk", &[Right::ManageProfiles]).await;
    app.staff_with("officer", &[Right::ManagePersonalData])
        .await;

    // Without the right there is no such button.
    sign_in(&browser, &app, "clerk").await;
    browser
        .goto(&app.url(&format!("/staff/#/profiles/{id}")))
        .await;
    browser
        .until("return document.getElementById('edit-profile')")
        .await;
    assert_eq!(
        browser
            .js("return document.getElementById('export-data') === null")
            .await,
        true
    );
    browser.click("#sign-out").await;

    sign_in(&browser, &app, "officer").await;
    browser
        .goto(&app.url(&format!("/staff/#/profiles/{id}")))
        .await;
    browser
        .until("return document.getElementById('export-data')")
        .await;
    browser.click_text("Export personal data").await;
    let said = text_of(&browser, "notices", "downloaded").await;
    assert!(said.contains(&format!("profile-{id}-data.json")), "{said}");
    assert_eq!(app.audited("PERSONAL_DATA_EXPORTED").await, 1);
    snap(&browser, backend, "personal-data-export").await;
    let problems = problems(&browser).await;
    assert!(problems.is_empty(), "{problems:?}");
    browser.quit().await;
}
per_backend!(
    staff_export_a_persons_data_in_the_console,
    super::export_in_the_console
);

/// "Erase this profile": only with the right; the name must be typed out, then the console
/// asks for step-up and erases. Screens of the dialog at both sizes.
async fn erase_in_the_console(backend: Backend) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let id = app
        .create_profile(
            &admin,
            person("Maria", "Jensen", Some("maria@harbour.example")),
        )
        .await;
    app.staff_with("clerk", &[Right::ManageProfiles]).await;
    app.staff_with("officer", &[Right::ManagePersonalData])
        .await;

    sign_in(&browser, &app, "clerk").await;
    browser
        .goto(&app.url(&format!("/staff/#/profiles/{id}")))
        .await;
    browser
        .until("return document.getElementById('edit-profile')")
        .await;
    assert_eq!(
        browser
            .js("return document.getElementById('erase-profile') === null")
            .await,
        true
    );
    browser.click("#sign-out").await;

    sign_in(&browser, &app, "officer").await;
    browser
        .goto(&app.url(&format!("/staff/#/profiles/{id}")))
        .await;
    browser
        .until("return document.getElementById('erase-profile')")
        .await;
    browser.click_text("Erase this profile").await;
    fill(&browser, "Type the name “Maria Jensen” to confirm", "Maria").await;
    snap(&browser, backend, "personal-data-erase").await;
    // A name not typed out exactly erases nothing.
    browser.click_text("Erase for good").await;
    let said = text_of(&browser, "erase-confirm-name-error", "exactly").await;
    assert!(said.contains("Maria Jensen"), "{said}");
    assert_eq!(app.audited("PERSONAL_DATA_ERASED").await, 0);
    fill(
        &browser,
        "Type the name “Maria Jensen” to confirm",
        "Maria Jensen",
    )
    .await;
    browser.click_text("Erase for good").await;
    // Erasing needs step-up: the console asks for the password, then erases.
    fill(&browser, "Your password", crate::helpers::STAFF_PASSWORD).await;
    browser.click_text("Confirm").await;
    let said = text_of(&browser, "notices", "was erased").await;
    assert!(said.contains("Maria Jensen"), "{said}");
    assert_eq!(app.audited("PERSONAL_DATA_ERASED").await, 1);
    browser.until("return location.hash === '#/search'").await;
    let gone = app
        .gql(
            Some(&admin),
            "query($p: ID!) { profile(id: $p) { id } }",
            serde_json::json!({ "p": id }),
        )
        .await;
    assert_eq!(crate::helpers::code(&gone), "NOT_FOUND");
    let problems = problems(&browser).await;
    assert!(problems.is_empty(), "{problems:?}");
    browser.quit().await;
}
per_backend!(
    staff_erase_a_person_in_the_console,
    super::erase_in_the_console
);
