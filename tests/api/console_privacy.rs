//! "Export personal data" and "Erase this profile" on a profile in the console: only with
//! MANAGE_PERSONAL_DATA, and both are audited. Screens at both sizes under `screenshots/console/<backend>/`.

use memberkey::domain::Right;

use crate::browser::Browser;
use crate::console::{problems, sign_in, sign_out, snap, text_of};
use crate::helpers::{Backend, TestApp, per_backend, person, spawn_app};
use crate::member_pages_browser::fill;

/// A profile, and a browser signed in as a staff user with MANAGE_PERSONAL_DATA on its
/// screen once the button `button` shows; a clerk without the right saw no such button.
/// Returns the browser, the app, an administrator's token and the profile's ID.
async fn officer_on_a_profile(
    backend: Backend,
    button: &str,
) -> Option<(Browser, TestApp, String, String)> {
    let browser = Browser::start().await?;
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
    for (who, shown) in [("clerk", false), ("officer", true)] {
        sign_in(&browser, &app, who).await;
        browser
            .goto(&app.url(&format!("/staff/#/profiles/{id}")))
            .await;
        browser
            .until("return document.querySelector('dl.facts')")
            .await;
        if shown {
            browser
                .until(&format!("return document.getElementById('{button}')"))
                .await;
        } else {
            assert_eq!(
                browser
                    .js(&format!(
                        "return document.getElementById('{button}') === null"
                    ))
                    .await,
                true,
                "{who} sees {button}"
            );
            // Signed out for good before the next sign-in loads the console.
            sign_out(&browser).await;
        }
    }
    Some((browser, app, admin, id))
}

async fn export_in_the_console(backend: Backend) {
    let Some((browser, app, _, id)) = officer_on_a_profile(backend, "export-data").await else {
        return;
    };
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
    let Some((browser, app, admin, id)) = officer_on_a_profile(backend, "erase-profile").await
    else {
        return;
    };
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
