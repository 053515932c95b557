//! The staff console at `/staff/` in headless Chromium, walking the help article's three
//! tasks as staff do them: find a profile and set its credentials (the password is blank
//! after Save; only the right reveals it), send the Forgot Login email (an `.eml` lands and
//! its link works), and send a mass communication with the Portal Login Credentials Link to
//! three profiles. Also a keyboard-only walk, and a session that ends mid-work. Every screen
//! is saved at 1280×800 and 390×844 under the target directory's
//! `screenshots/console/<backend>/`; the test prints each path.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use memberkey::domain::{Right, SystemClock};
use serde_json::{Value, json};

use crate::browser::{ARROW_DOWN, Browser, ENTER, TAB};
use crate::helpers::{Backend, Mail, TestApp, eventually, per_backend, person, spawn_full};
use crate::member_login::member_login;

const PASSWORD: &str = "correct horse battery staple";
const MEMBER_PASSWORD: &str = "Tidal-Harbour-Lantern-42";

/// Saves the screen at desktop and phone size, checking that nothing is wider than a phone.
pub(crate) async fn snap(browser: &Browser, backend: Backend, name: &str) {
    let name = format!("{backend:?}/{name}");
    let path = browser.screenshot(&format!("console/{name}-desktop")).await;
    browser.resize(390, 844).await;
    // The layout has the new width before anything is measured.
    browser.until("return window.innerWidth < 500").await;
    let fits = browser
        .js("return document.documentElement.scrollWidth <= window.innerWidth + 1")
        .await;
    browser.screenshot(&format!("console/{name}-phone")).await;
    browser.resize(1280, 800).await;
    browser.until("return window.innerWidth > 1000").await;
    assert_eq!(fits, true, "{name} is wider than a phone");
    println!("screenshot: {}", path.display());
}

pub(crate) async fn sign_in(browser: &Browser, app: &TestApp, username: &str) {
    browser.goto(&app.url("/staff/")).await;
    browser
        .until("return document.getElementById('sign-in-form')")
        .await;
    browser
        .type_into("#sign-in-form input[name=username]", username)
        .await;
    browser
        .type_into("#sign-in-form input[name=password]", PASSWORD)
        .await;
    browser.click("#sign-in").await;
    browser
        .until("return document.getElementById('quick-search')")
        .await;
}

pub(crate) async fn sign_out(browser: &Browser) {
    browser.click("#sign-out").await;
    browser
        .until("return document.getElementById('sign-in-form')")
        .await;
}

/// Types a search term and waits until the result for profile `id` is listed.
async fn search_for(browser: &Browser, term: &str, id: &str) {
    browser.type_into("#quick-search", term).await;
    browser
        .until(&format!("return document.getElementById('result-{id}')"))
        .await;
}

/// Text of the element with this id, once it has some.
pub(crate) async fn text_of(browser: &Browser, id: &str, contains: &str) -> String {
    browser
        .until(&format!(
            "const e = document.getElementById('{id}'); return e && !e.hidden && e.textContent.includes({contains:?}) && e.textContent"
        ))
        .await
        .as_str()
        .unwrap()
        .to_owned()
}

/// The link in the newest `.eml` file in the outbox, decoded from quoted-printable.
async fn link_in_outbox(app: &TestApp, to: &str) -> String {
    let dir = &app.app.services.config.mail.outbox_dir;
    let found = eventually(StdDuration::from_secs(20), move || async move {
        let entries = std::fs::read_dir(dir).ok()?;
        entries.flatten().find_map(|e| {
            let raw = std::fs::read_to_string(e.path()).unwrap_or_default();
            if !raw.contains(&format!("To: {to}")) {
                return None;
            }
            let flat = raw.replace("=\r\n", "").replace("=3D", "=");
            flat.split_whitespace()
                .find(|w| w.contains("#token="))
                .map(|w| {
                    w.trim_matches(|c| c == '<' || c == '>' || c == '"')
                        .to_owned()
                })
        })
    })
    .await;
    found.unwrap_or_else(|| panic!("no .eml with a link for {to} in {}", dir.display()))
}

pub(crate) async fn problems(browser: &Browser) -> Vec<String> {
    browser
        .console()
        .await
        .into_iter()
        .filter(|l| l.contains("SEVERE") || l.contains("Content Security Policy"))
        .collect()
}

/// A browser at desktop size and an app on the system clock with the staff user `boss`
/// (every right) and its token; `None` where the test script installed no browser.
pub(crate) async fn browser_and_app(
    backend: Backend,
    tweak: impl FnOnce(&mut memberkey::Config),
) -> Option<(Browser, TestApp, String)> {
    let browser = Browser::start().await?;
    browser.resize(1280, 800).await;
    let app = spawn_full(backend, tweak, Arc::new(SystemClock), Mail::Memory).await;
    let admin = app.staff_with("boss", &Right::ALL).await;
    Some((browser, app, admin))
}

/// Adds the profile `id`, found by `term`, in the picker labelled "Add a recipient".
pub(crate) async fn add_recipient(browser: &Browser, term: &str, id: &str) {
    browser.type_into("#picker-add-a-recipient", term).await;
    let pick = format!("#picker-add-a-recipient-results .pick[data-id='{id}']");
    browser
        .until(&format!("return document.querySelector(\"{pick}\")"))
        .await;
    browser.click(&pick).await;
}

async fn the_article_in_a_browser(backend: Backend) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    browser.resize(1280, 800).await;
    let app = spawn_full(backend, |_| {}, Arc::new(SystemClock), Mail::Configured).await;
    let admin = app.staff_with("boss", &Right::ALL).await;
    app.staff_with(
        "clerk",
        &[
            Right::ManageProfiles,
            Right::ManagePortalCredentials,
            Right::SendPasswordResets,
        ],
    )
    .await;
    let jens = app
        .create_profile(
            &admin,
            person("Jens", "Hansen", Some("jens@harbour.example")),
        )
        .await;
    let maria = app
        .create_profile(
            &admin,
            person("Maria", "Jensen", Some("maria@harbour.example")),
        )
        .await;
    let tom = app
        .create_profile(&admin, person("Tom", "Berg", Some("tom@harbour.example")))
        .await;

    // Sign in: the association's name heads the page.
    browser.goto(&app.url("/staff/")).await;
    browser
        .until("return document.getElementById('sign-in-form')")
        .await;
    assert_eq!(
        browser
            .js("return document.getElementById('brand').textContent")
            .await,
        "Harbour Chamber"
    );
    snap(&browser, backend, "sign-in").await;
    sign_in(&browser, &app, "boss").await;
    assert_eq!(
        browser
            .js("return document.querySelector('.who-name').textContent")
            .await,
        "boss"
    );

    // Task 1: find "jens", open the profile, set username and password on Web > Portal.
    search_for(&browser, "jens", &jens).await;
    assert!(
        browser
            .js("return document.getElementById('results').children.length")
            .await
            .as_u64()
            .unwrap()
            >= 2,
        "Jens Hansen and Maria Jensen both match"
    );
    snap(&browser, backend, "quick-search").await;
    browser.click(&format!("#result-{jens}")).await;
    text_of(&browser, "tab-details", "Details").await;
    browser
        .until("return document.querySelector('h1').textContent.includes('Jens Hansen')")
        .await;
    snap(&browser, backend, "profile").await;
    browser.click("#tab-portal").await;
    browser
        .until("return document.getElementById('portal-username')")
        .await;
    assert_eq!(
        browser
            .js("return document.getElementById('show-password')")
            .await,
        Value::Null,
        "nothing to show before a password is set"
    );
    browser.type_into("#portal-username", "jensh").await;
    browser.type_into("#portal-password", MEMBER_PASSWORD).await;
    browser.click("#save-credentials").await;
    text_of(&browser, "portal-status", "Saved").await;
    assert_eq!(
        browser
            .js("return document.getElementById('portal-password').value")
            .await,
        "",
        "the password field is blank after Save"
    );
    browser
        .until("return document.getElementById('set-by').textContent === 'Set by boss'")
        .await;
    // The staff user with the right reveals it; the reveal is audited.
    browser.click("#show-password").await;
    let shown = text_of(&browser, "revealed-password", MEMBER_PASSWORD).await;
    assert_eq!(shown, MEMBER_PASSWORD);
    snap(&browser, backend, "portal-revealed").await;
    let reveals = app
        .gql(
            Some(&admin),
            "query($p: ID) { auditEvents(profileId: $p, action: \"PASSWORD_REVEALED\") { totalCount edges { node { actorUsername } } } }",
            json!({ "p": jens }),
        )
        .await;
    assert_eq!(reveals["data"]["auditEvents"]["totalCount"], 1, "{reveals}");
    assert_eq!(
        reveals["data"]["auditEvents"]["edges"][0]["node"]["actorUsername"],
        "boss"
    );
    // The generator fills in a strong password and shows it once.
    browser.click("#generate-password").await;
    let generated = browser
        .js("const p = document.getElementById('portal-password'); return p.type === 'text' && p.value")
        .await;
    assert!(generated.as_str().unwrap().len() >= 16, "{generated}");
    text_of(&browser, "generated-note", "Give it to the member").await;
    snap(&browser, backend, "portal-generated").await;
    browser.type_into("#portal-password", "").await;

    // Task 2: Send Password Reset Email, confirmed in its window; the .eml's link works.
    browser.click("#send-reset").await;
    let address = text_of(&browser, "reset-address", "@").await;
    assert_eq!(address, "jens@harbour.example");
    let facts = browser
        .js("return document.querySelector('dialog[open] dl.facts').textContent")
        .await;
    assert!(
        facts
            .as_str()
            .unwrap()
            .contains("The link works for24 hours"),
        "the lifetime in words: {facts}"
    );
    assert_eq!(
        browser
            .js("return document.activeElement.closest('dialog') !== null")
            .await,
        true,
        "the focus moves into the window"
    );
    snap(&browser, backend, "send-reset-confirm").await;
    browser.click("dialog button.primary").await;
    let notice = browser
        .until("const n = document.querySelector('.notice'); return n && n.textContent.includes('jens@harbour.example') && n.textContent")
        .await;
    // This server keeps mail in its outbox folder: the notice says so, not "on its way".
    assert!(
        notice.as_str().unwrap().contains("is queued")
            && notice.as_str().unwrap().contains("outbox"),
        "{notice}"
    );
    assert_eq!(
        browser.js("return document.activeElement.id").await,
        "send-reset",
        "the focus returns to the button"
    );
    // The notice belongs to Jens's profile: opening another one clears it.
    browser
        .js(&format!(
            "location.hash = '#/profiles/{maria}'; return true"
        ))
        .await;
    browser
        .until("return document.querySelectorAll('#notices .notice').length === 0")
        .await;
    let link = link_in_outbox(&app, "jens@harbour.example").await;
    let token = link.split_once("#token=").unwrap().1.to_owned();
    let set = crate::resets::set_with_token(&app, &token, "Lighthouse-Keeper-Route-7").await;
    assert!(
        set["data"]["setPasswordWithToken"]["login"].is_string(),
        "{set}"
    );
    let login = member_login(&app, "jensh", "Lighthouse-Keeper-Route-7").await;
    assert_eq!(
        login["data"]["memberLogin"]["profile"]["id"], jens,
        "{login}"
    );

    // A staff user without VIEW_PORTAL_PASSWORDS sees no Show password, and no screens
    // they lack the rights for.
    browser.goto(&app.url("/staff/#/search")).await;
    sign_out(&browser).await;
    sign_in(&browser, &app, "clerk").await;
    let nav = browser
        .js("return document.getElementById('nav').textContent")
        .await;
    assert!(
        !nav.as_str().unwrap().contains("Mass Communicator"),
        "{nav}"
    );
    browser
        .goto(&app.url(&format!("/staff/#/profiles/{maria}/portal")))
        .await;
    browser
        .until("return document.getElementById('portal-username')")
        .await;
    // A taken username: the field says so and what to do next, once (not again above the
    // form).
    browser.type_into("#portal-username", "jensh").await;
    browser.click("#save-credentials").await;
    let alert = text_of(
        &browser,
        "portal-username-error",
        "Choose a different username",
    )
    .await;
    assert!(!alert.contains('{'), "no raw JSON: {alert}");
    assert_eq!(
        browser
            .js("return document.getElementById('portal-status').textContent")
            .await,
        "",
        "the message is shown once, at its field"
    );
    snap(&browser, backend, "portal-username-taken").await;
    browser.type_into("#portal-username", "mariaj").await;
    browser.type_into("#portal-password", MEMBER_PASSWORD).await;
    browser.click("#save-credentials").await;
    text_of(&browser, "portal-status", "Saved").await;
    assert_eq!(
        browser
            .js("return document.getElementById('show-password')")
            .await,
        Value::Null
    );
    snap(&browser, backend, "portal-without-the-right").await;
    sign_out(&browser).await;

    // Task 3: the Mass Communicator, with the Portal Login Credentials Link.
    sign_in(&browser, &app, "boss").await;
    browser.click("#nav a[href='#/mass']").await;
    browser
        .until("return document.getElementById('new-communication')")
        .await;
    browser.click("#new-communication").await;
    browser
        .until("return document.getElementById('special-field')")
        .await;
    browser
        .type_into("#mass-subject", "Your Members Only login")
        .await;
    // Written as HTML, in the editor's source view (console_editor.rs uses the editor).
    browser
        .until("return !document.getElementById('html-source').hidden")
        .await;
    browser.click("#html-source").await;
    browser
        .type_into("#mass-html", "<p>Dear {{full_name}},</p><p>Your login: ")
        .await;
    let option = browser
        .js("return [...document.querySelectorAll('#special-field option')].findIndex(o => o.textContent === 'Portal Login Credentials Link') + 1")
        .await;
    assert!(option.as_i64().unwrap() > 1, "the dropdown has the field");
    browser
        .click(&format!("#special-field option:nth-child({option})"))
        .await;
    browser.click("#insert-field").await;
    let body = browser
        .js("return document.getElementById('mass-html').value")
        .await;
    assert!(
        body.as_str()
            .unwrap()
            .ends_with("{{portal_login_credentials_link}}"),
        "{body}"
    );
    for (term, id) in [("Hansen", &jens), ("Jensen", &maria), ("Berg", &tom)] {
        add_recipient(&browser, term, id).await;
    }
    assert_eq!(
        browser
            .js("return document.getElementById('chosen-recipients').children.length")
            .await,
        3
    );
    // A misspelt merge field: said once, beside the subject, with what was meant and no API
    // argument path.
    browser
        .type_into("#mass-subject", "Your {{fulname}} login")
        .await;
    browser.click("#save-draft").await;
    let said = text_of(
        &browser,
        "mass-subject-error",
        "did you mean {{full_name}}?",
    )
    .await;
    assert!(
        said.starts_with("Uses the unknown merge field {{fulname}}") && !said.contains("input."),
        "{said}"
    );
    assert_eq!(
        browser
            .js("return document.querySelector('.compose .form-status').textContent")
            .await,
        "",
        "not said again above the form"
    );
    assert_eq!(
        browser.js("return document.activeElement.id").await,
        "mass-subject",
        "the field with the error has the focus, so it is in view"
    );
    snap(&browser, backend, "mass-field-suggestion").await;
    browser
        .type_into("#mass-subject", "Your Members Only login")
        .await;
    browser.js("window.scrollTo(0, 0); return true").await;
    snap(&browser, backend, "mass-compose").await;
    browser.click("#save-draft").await;
    browser
        .until("return document.getElementById('recipient-preview')")
        .await;
    // Editing the draft shows its saved recipients.
    browser.click("#edit-draft").await;
    browser
        .until("const c = document.getElementById('chosen-recipients'); return c && c.children.length === 3 && !document.getElementById('chosen-panel').hidden")
        .await;
    browser.click("#save-draft").await;
    browser
        .until("return document.getElementById('recipient-preview')")
        .await;
    // Preview as one recipient, in a sandboxed frame.
    browser.type_into("#picker-recipient", "Hansen").await;
    let pick = format!("#picker-recipient-results .pick[data-id='{jens}']");
    browser
        .until(&format!("return document.querySelector(\"{pick}\")"))
        .await;
    browser.click(&pick).await;
    let preview = browser
        .until("const f = document.getElementById('recipient-preview'); return f.srcdoc.includes('jensh') && f.srcdoc")
        .await;
    assert!(
        preview.as_str().unwrap().contains("Jens Hansen"),
        "{preview}"
    );
    assert_eq!(
        browser
            .js("return document.getElementById('recipient-preview').getAttribute('sandbox')")
            .await,
        ""
    );
    snap(&browser, backend, "mass-preview").await;
    browser
        .type_into("#test-address", "office@harbour.example")
        .await;
    browser.click("#send-test").await;
    browser
        .until("return [...document.querySelectorAll('.notice')].some(n => n.textContent.includes('office@harbour.example'))")
        .await;
    // Send, confirming the recipient count; the progress bar reaches 3 sent.
    browser.click("#send").await;
    let count = text_of(&browser, "send-count", "recipient").await;
    assert_eq!(count, "3 recipients");
    snap(&browser, backend, "mass-send-confirm").await;
    browser.click("dialog button.primary").await;
    text_of(&browser, "progress-text", "3 sent").await;
    // When it ends, the page shows the final state and the deliveries as they ended.
    browser
        .until(
            "const h = document.querySelector('h1 .badge'); return h && h.textContent === 'Sent'",
        )
        .await;
    browser
        .until("const t = document.getElementById('deliveries-table'); return t && t.tBodies[0].rows.length === 3 && [...t.tBodies[0].rows].every(r => r.cells[2].textContent === 'Sent')")
        .await;
    let table = browser
        .js("return document.getElementById('deliveries-table').textContent")
        .await;
    for who in [
        "Jens Hansen",
        "Maria Jensen",
        "Tom Berg",
        "tom@harbour.example",
    ] {
        assert!(table.as_str().unwrap().contains(who), "{who}: {table}");
    }
    // What went out, and to whom.
    browser
        .until("const f = document.getElementById('sent-message'); return f && f.srcdoc.length > 0")
        .await;
    let to = text_of(&browser, "recipients-summary", "Tom Berg").await;
    assert!(
        to.contains("Maria Jensen") && to.contains("Jens Hansen"),
        "{to}"
    );
    snap(&browser, backend, "mass-sent").await;
    // A reminder goes only to those it reached who still have no password.
    browser
        .click_text("Remind those who have not set a password")
        .await;
    let reminder = text_of(&browser, "recipients-summary", "Everyone matching").await;
    assert_eq!(
        reminder,
        "Everyone matching: Organisations and people, without a password, among the recipients of an earlier communication."
    );
    let title = browser
        .js("return document.querySelector('#main h1').textContent")
        .await;
    assert!(
        title
            .as_str()
            .unwrap()
            .starts_with("Reminder: Your Members Only login"),
        "{title}"
    );
    snap(&browser, backend, "mass-reminder").await;
    // Every condition of the reminder's filter is in the form, where staff can change it.
    browser.click("#edit-draft").await;
    browser
        .until("const s = document.getElementById('recipient-from'); return s && s.selectedOptions[0].textContent === 'Your Members Only login'")
        .await;
    assert_eq!(
        browser
            .js("return [document.getElementById('recipient-more').open, document.getElementById('recipient-has-password').value, \
                 document.getElementById('recipient-from').selectedOptions[0].textContent, \
                 document.getElementById('recipient-link').disabled, \
                 [...document.querySelectorAll('input[id^=recipient-status-]:checked')].length]")
            .await,
        json!([true, "false", "Your Members Only login", false, 0]),
    );
    // Narrowed to those whose link was never used: the live count follows at once.
    browser.click("#recipient-link-unused").await;
    text_of(&browser, "recipient-count", " match.").await;
    snap(&browser, backend, "mass-reminder-filter").await;
    browser.click("#save-draft").await;
    let narrowed = text_of(&browser, "recipients-summary", "link is unused").await;
    assert_eq!(
        narrowed,
        "Everyone matching: Organisations and people, without a password, among the recipients of an earlier communication whose link is unused."
    );
    browser.click("#nav a[href='#/mass']").await;
    browser
        .until("return document.querySelector('#mass-list table')")
        .await;
    snap(&browser, backend, "mass-list").await;

    // Staff users and the audit log.
    browser.click("#nav a[href='#/staff']").await;
    browser
        .until("return document.querySelector('.staff-card')")
        .await;
    snap(&browser, backend, "staff-users").await;
    browser.click("#new-staff").await;
    browser
        .until("return document.getElementById('new-staff-username')")
        .await;
    browser.type_into("#new-staff-username", "helper").await;
    browser.click("#new-staff-send_password_resets").await;
    snap(&browser, backend, "staff-new").await;
    browser.click("#create-staff").await;
    browser
        .until("return [...document.querySelectorAll('.staff-card h2')].some(h => h.textContent === 'helper')")
        .await;
    let rights = app
        .gql(
            Some(&admin),
            "{ staffUsers { username rights } }",
            json!({}),
        )
        .await;
    let helper = rights["data"]["staffUsers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "helper")
        .cloned()
        .unwrap();
    assert_eq!(helper["rights"], json!(["SEND_PASSWORD_RESETS"]));
    browser.click("#nav a[href='#/audit']").await;
    browser
        .until("return document.querySelector('#audit-table tbody tr')")
        .await;
    let audit = browser
        .js("return document.getElementById('audit-table').textContent")
        .await;
    assert!(audit.as_str().unwrap().contains("Staff: boss"), "{audit}");
    snap(&browser, backend, "audit-log").await;
    browser.goto(&app.url("/staff/#/account")).await;
    browser
        .until("return document.getElementById('change-password')")
        .await;
    snap(&browser, backend, "account").await;

    let problems = problems(&browser).await;
    assert!(problems.is_empty(), "{problems:?}");
    browser.quit().await;
}
per_backend!(
    staff_do_the_articles_three_tasks_in_the_console,
    super::the_article_in_a_browser
);

/// Sign-in and Quick Search by keyboard alone: Tab, typing, arrow keys and Enter.
async fn keyboard_only(backend: Backend) {
    let Some((browser, app, admin)) = browser_and_app(backend, |_| {}).await else {
        return;
    };
    let maria = app
        .create_profile(
            &admin,
            person("Maria", "Jensen", Some("maria@harbour.example")),
        )
        .await;
    let jens = app
        .create_profile(
            &admin,
            person("Jens", "Hansen", Some("jens@harbour.example")),
        )
        .await;
    browser.goto(&app.url("/staff/")).await;
    browser
        .until("return document.activeElement && document.activeElement.name === 'username'")
        .await;
    browser.keys("boss").await;
    browser.keys(TAB).await;
    assert_eq!(
        browser.js("return document.activeElement.name").await,
        "password"
    );
    browser.keys(PASSWORD).await;
    browser.keys(ENTER).await;
    // Signed in, the focus waits in Quick Search.
    browser
        .until("return document.activeElement && document.activeElement.id === 'quick-search'")
        .await;
    browser.keys("jens").await;
    browser
        .until(&format!(
            "return document.getElementById('results-summary').textContent.includes('jens') && document.getElementById('result-{jens}') && document.getElementById('result-{maria}')"
        ))
        .await;
    // The first result is active; ↓ moves to the one wanted, Enter opens it.
    let index = browser
        .js(&format!(
            "return [...document.querySelectorAll('#results [role=option]')].findIndex(li => li.id === 'result-{jens}')"
        ))
        .await
        .as_i64()
        .unwrap();
    for _ in 0..index {
        browser.keys(ARROW_DOWN).await;
    }
    assert_eq!(
        browser
            .js("return document.getElementById('quick-search').getAttribute('aria-activedescendant')")
            .await,
        format!("result-{jens}")
    );
    browser.keys(ENTER).await;
    browser
        .until("return document.querySelector('h1') && document.querySelector('h1').textContent.includes('Jens Hansen')")
        .await;
    // Every input on the screens seen so far has a label.
    let unlabelled = browser
        .js("return [...document.querySelectorAll('input, select, textarea')].filter(i => i.type !== 'hidden' && !(i.labels && i.labels.length) && !i.getAttribute('aria-label')).map(i => i.id)")
        .await;
    assert_eq!(unlabelled, json!([]), "inputs without a label");
    let problems = problems(&browser).await;
    assert!(problems.is_empty(), "{problems:?}");
    browser.quit().await;
}
per_backend!(sign_in_and_search_by_keyboard_alone, super::keyboard_only);

/// A session that ends mid-work: the console asks to sign in again over the form, keeps
/// what was typed, and the save then goes through.
async fn session_ends_mid_work(backend: Backend) {
    let Some((browser, app, admin)) = browser_and_app(backend, |_| {}).await else {
        return;
    };
    let id = app
        .create_profile(
            &admin,
            person("Jens", "Hansen", Some("jens@harbour.example")),
        )
        .await;
    sign_in(&browser, &app, "boss").await;
    browser
        .goto(&app.url(&format!("/staff/#/profiles/{id}")))
        .await;
    browser
        .until("return document.getElementById('edit-profile')")
        .await;
    browser.click("#edit-profile").await;
    browser
        .until("return document.getElementById('profile-email')")
        .await;
    browser
        .type_into("#profile-email", "jens.hansen@harbour.example")
        .await;
    // The session ends elsewhere (here: signed out with the console's own token).
    let token = browser
        .js("return sessionStorage.getItem('memberkey.staff.token')")
        .await;
    let out = app
        .gql(
            token.as_str(),
            "mutation { staffLogout { signedOut } }",
            json!({}),
        )
        .await;
    assert_eq!(out["data"]["staffLogout"]["signedOut"], true, "{out}");
    browser.click("#save-profile").await;
    browser
        .until("const d = document.querySelector('dialog'); return d && d.textContent.includes('session has ended')")
        .await;
    assert_eq!(
        browser
            .js("return document.getElementById('profile-email').value")
            .await,
        "jens.hansen@harbour.example",
        "the form underneath keeps what was typed"
    );
    snap(&browser, backend, "session-ended").await;
    browser
        .type_into("dialog input[name=username]", "boss")
        .await;
    browser
        .type_into("dialog input[name=password]", PASSWORD)
        .await;
    browser.click("dialog #sign-in").await;
    browser
        .until("return !document.querySelector('dialog') && [...document.querySelectorAll('.facts dd')].some(d => d.textContent === 'jens.hansen@harbour.example')")
        .await;
    let saved = app
        .gql(
            Some(&admin),
            "query($id: ID!) { profile(id: $id) { email } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        saved["data"]["profile"]["email"],
        "jens.hansen@harbour.example"
    );
    browser.quit().await;
}
per_backend!(
    an_ended_session_signs_in_again_and_keeps_the_form,
    super::session_ends_mid_work
);

/// A profile's address pasted into a new tab opens the profile without a second sign-in,
/// and signing out in one tab signs out the others.
async fn tabs_share_the_sign_in(backend: Backend) {
    let Some((browser, app, admin)) = browser_and_app(backend, |_| {}).await else {
        return;
    };
    let id = app
        .create_profile(
            &admin,
            person("Jens", "Hansen", Some("jens@harbour.example")),
        )
        .await;
    // Nobody signed in yet: a new tab has nothing to borrow and asks.
    browser.goto(&app.url("/staff/")).await;
    browser
        .until("return document.getElementById('sign-in-form')")
        .await;
    sign_in(&browser, &app, "boss").await;
    let first = browser.tabs().await.remove(0);
    let second = browser.new_tab().await;
    // A tab of its own, as Ctrl+T opens: nothing of the first one's storage.
    browser.switch_to(&second).await;
    browser
        .goto(&app.url(&format!("/staff/#/profiles/{id}")))
        .await;
    text_of(&browser, "main", "Jens Hansen").await;
    assert_eq!(
        browser
            .js("return !document.getElementById('sign-in-form') && document.getElementById('who').textContent.includes('boss')")
            .await,
        true,
        "the profile opens signed in as boss"
    );
    sign_out(&browser).await;
    browser.switch_to(&first).await;
    text_of(&browser, "main", "You signed out in another tab.").await;
    assert_eq!(
        browser
            .js("return sessionStorage.getItem('memberkey.staff.token')")
            .await,
        Value::Null
    );
    // Signed out everywhere, a new tab has no sign-in to take.
    let third = browser.new_tab().await;
    browser.switch_to(&third).await;
    browser
        .goto(&app.url(&format!("/staff/#/profiles/{id}")))
        .await;
    browser
        .until("return document.getElementById('sign-in-form')")
        .await;
    assert!(problems(&browser).await.is_empty());
    browser.quit().await;
}
per_backend!(
    a_new_tab_keeps_the_sign_in_and_sign_out_ends_every_tab,
    super::tabs_share_the_sign_in
);

/// The screens around the three tasks: creating an organisation and a person in it, a link
/// for the phone, switching credentials off and removing them, a profile without an email,
/// recipients by filter with a live count, deactivating a staff user, and the audit filter.
async fn the_other_screens(backend: Backend) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    browser.resize(1280, 800).await;
    let app = spawn_full(
        backend,
        |c| c.mail.senders = vec![crate::senders::events()],
        Arc::new(SystemClock),
        Mail::Memory,
    )
    .await;
    let admin = app.staff_with("boss", &Right::ALL).await;
    app.staff_with("clerk", &[Right::SendPasswordResets]).await;
    let no_email = app
        .create_profile(&admin, person("Fatima", "Haddad", None))
        .await;
    sign_in(&browser, &app, "boss").await;

    // A new organisation, then a person in it.
    browser.click("a[href='#/profiles/new']").await;
    browser
        .until("return document.getElementById('profile-kind')")
        .await;
    browser
        .click("#profile-kind option[value='ORGANIZATION']")
        .await;
    browser.type_into("#profile-org", "Harbour Logistics").await;
    browser
        .type_into("#profile-email", "office@logistics.example")
        .await;
    snap(&browser, backend, "profile-new").await;
    browser.click("#save-profile").await;
    browser
        .until("return document.querySelector('h1').textContent.includes('Harbour Logistics')")
        .await;
    browser.click("a[href^='#/profiles/new?parent=']").await;
    browser
        .until("return document.getElementById('profile-first')")
        .await;
    let parent = browser
        .js("return document.getElementById('profile-parent-name').textContent")
        .await;
    assert!(
        parent.as_str().unwrap().starts_with("Harbour Logistics"),
        "{parent}"
    );
    browser.type_into("#profile-first", "Ida").await;
    browser.type_into("#profile-last", "Lind").await;
    browser
        .type_into("#profile-email", "ida@logistics.example")
        .await;
    browser.click("#save-profile").await;
    browser
        // The new person's screen, drawn once its profile has loaded.
        .until("const a = document.querySelector('.facts a'); return document.querySelector('h1').textContent.includes('Ida Lind') && a && a.textContent === 'Harbour Logistics'")
        .await;
    assert_eq!(
        browser
            .js("return document.querySelector('.facts a').textContent")
            .await,
        "Harbour Logistics"
    );
    snap(&browser, backend, "profile-person").await;

    // A link for the phone; the window returns the focus when done.
    browser.click("#tab-portal").await;
    browser
        .until("return document.getElementById('phone-link')")
        .await;
    browser.click("#phone-link").await;
    // It asks first: a new link retires an emailed one.
    let asked = browser
        .until("const d = document.querySelector('dialog[open]'); return d && d.textContent")
        .await;
    assert!(
        asked.as_str().unwrap().contains("already emailed"),
        "{asked}"
    );
    browser.click("dialog button.primary").await;
    let url = browser
        .until("const u = document.getElementById('phone-link-url'); return u && u.value")
        .await;
    assert!(url.as_str().unwrap().contains("#token="), "{url}");
    let short = text_of(&browser, "phone-short-code", "-").await;
    assert_eq!(short.len(), 12, "{short}");
    // The QR code loads as an image under the console's CSP.
    browser
        .until("const q = document.getElementById('phone-link-qr'); return q && q.complete && q.naturalWidth > 0")
        .await;
    snap(&browser, backend, "phone-link").await;
    browser.click("dialog .actions button:last-child").await;
    browser
        .until("return !document.querySelector('dialog') && document.activeElement.id === 'phone-link'")
        .await;

    // Credentials: set, switch off and on, remove.
    browser.type_into("#portal-username", "ida.lind").await;
    browser.type_into("#portal-password", MEMBER_PASSWORD).await;
    browser.click("#save-credentials").await;
    text_of(&browser, "portal-status", "Saved").await;
    browser.click("#toggle-enabled").await;
    browser
        .until("return document.getElementById('credential-facts').textContent.includes('Switched off')")
        .await;
    let login = member_login(&app, "ida.lind", MEMBER_PASSWORD).await;
    assert!(login["errors"].is_array(), "switched off: {login}");
    browser.click("#toggle-enabled").await;
    browser
        .until("return document.getElementById('credential-facts').textContent.includes('Switched on')")
        .await;
    browser.click("#remove-credentials").await;
    browser
        .until("return document.querySelector('dialog button.danger')")
        .await;
    browser.click("dialog button.danger").await;
    browser
        .until("return document.getElementById('credential-facts').textContent.includes('no portal credentials')")
        .await;
    assert_eq!(
        browser
            .js("return document.getElementById('portal-username').value")
            .await,
        ""
    );

    // Without an email, the reset button is disabled and says why.
    browser
        .goto(&app.url(&format!("/staff/#/profiles/{no_email}/portal")))
        .await;
    browser
        .until("return document.getElementById('send-reset')")
        .await;
    assert_eq!(
        browser
            .js("return document.getElementById('send-reset').disabled")
            .await,
        true
    );
    text_of(&browser, "send-reset-why", "no email address").await;
    snap(&browser, backend, "portal-no-email").await;

    // Recipients by filter, with a live count.
    browser.goto(&app.url("/staff/#/mass/new")).await;
    browser
        .until("return document.getElementById('mass-subject')")
        .await;
    browser.type_into("#mass-subject", "Annual meeting").await;
    // From: a sender the settings allow, named as staff read it.
    browser
        .click("#mass-sender option[value='events@chamber.example']")
        .await;
    snap(&browser, backend, "mass-sender").await;
    browser
        .click("input[name=recipients-mode][value=filter]")
        .await;
    browser
        .click("#recipient-kind option[value='INDIVIDUAL']")
        .await;
    // Ida and Fatima are people; Fatima has no email but still counts as matching.
    let count = text_of(&browser, "recipient-count", "2 profiles match").await;
    assert!(count.contains("skipped"), "{count}");
    snap(&browser, backend, "mass-filter").await;
    browser.click("#save-draft").await;
    browser
        .until("return document.getElementById('send')")
        .await;
    let head = browser
        .js("return document.querySelector('#main h1 + .hint').textContent")
        .await;
    assert!(
        head.as_str()
            .unwrap()
            .starts_with("From Harbour Chamber Events (replies to events@chamber.example)"),
        "{head}"
    );
    snap(&browser, backend, "mass-draft-sender").await;
    browser.click("#send").await;
    // Fatima has no email address: the button says whom it reaches, and who is skipped.
    assert_eq!(
        text_of(&browser, "send-count", "recipient").await,
        "1 recipient"
    );
    text_of(&browser, "send-skipped", "1 has no email address").await;
    snap(&browser, backend, "mass-send-skipped").await;
    browser.click("dialog button.primary").await;
    browser
        .until(
            "const h = document.querySelector('h1 .badge'); return h && h.textContent === 'Sent'",
        )
        .await;
    let table = browser
        .js("return document.getElementById('deliveries-table').textContent")
        .await;
    assert!(
        table.as_str().unwrap().contains("No email address"),
        "{table}"
    );

    // Deactivate a staff user, then reactivate.
    browser.goto(&app.url("/staff/#/staff")).await;
    browser
        .until("return document.getElementById('staff-2-active')")
        .await;
    browser.click("#staff-2-active").await;
    browser
        .until("return document.querySelector('dialog button.danger')")
        .await;
    browser.click("dialog button.danger").await;
    browser
        .until("const b = document.getElementById('staff-2-active'); return b && b.textContent === 'Reactivate'")
        .await;
    snap(&browser, backend, "staff-deactivated").await;
    let users = app
        .gql(
            Some(&admin),
            "{ staffUsers { username active } }",
            json!({}),
        )
        .await;
    assert_eq!(users["data"]["staffUsers"][1]["active"], false, "{users}");
    browser.click("#staff-2-active").await;
    browser
        .until("const b = document.getElementById('staff-2-active'); return b && b.textContent === 'Deactivate'")
        .await;

    // Sign the clerk out everywhere (deactivating them above already ended their sessions).
    browser.click("#staff-2-end-sessions").await;
    browser
        .until("return document.querySelector('dialog button.danger')")
        .await;
    browser.click("dialog button.danger").await;
    browser
        .until("const c = document.getElementById('staff-2-name').closest('section'); return c.textContent.includes('of clerk ended')")
        .await;

    // The account screen lists where one is signed in.
    browser.goto(&app.url("/staff/#/account")).await;
    browser
        .until("const t = document.getElementById('sessions-table'); return t && t.textContent.includes('This session')")
        .await;
    snap(&browser, backend, "account-sessions").await;

    // The audit log, filtered to one action.
    browser.goto(&app.url("/staff/#/audit")).await;
    browser
        .until("return document.querySelector('#audit-action option[value=CREDENTIALS_REMOVED]')")
        .await;
    browser
        .click("#audit-action option[value=CREDENTIALS_REMOVED]")
        .await;
    browser
        .until("const t = document.getElementById('audit-table'); return t && t.tBodies[0].rows.length === 1 && t.textContent.includes('Credentials removed')")
        .await;
    // Words, not codes; the profile by its name, not its number.
    let row = browser
        .js("const r = document.getElementById('audit-table').tBodies[0].rows[0]; return [r.cells[1].textContent, r.cells[1].title, r.cells[3].textContent]")
        .await;
    assert_eq!(row[0], "Credentials removed", "{row}");
    assert_eq!(row[1], "CREDENTIALS_REMOVED", "{row}");
    assert!(
        !row[2].as_str().unwrap().chars().all(|c| c.is_ascii_digit()),
        "{row}"
    );
    snap(&browser, backend, "audit-filtered").await;

    let problems = problems(&browser).await;
    assert!(problems.is_empty(), "{problems:?}");
    browser.quit().await;
}
per_backend!(
    the_consoles_other_screens_work_in_a_browser,
    super::the_other_screens
);

/// With a second factor required, a new staff user is sent to set one up in the console
/// (QR code, confirming code, recovery codes), and the next sign-in asks for a code.
async fn second_factor_in_the_console(backend: Backend) {
    use memberkey::domain::{Clock, ManualClock};
    let Some(browser) = Browser::start().await else {
        return;
    };
    browser.resize(1280, 800).await;
    let clock = ManualClock::new(chrono::Utc::now());
    let app = spawn_full(
        backend,
        |c| c.staff_require_second_factor = true,
        Arc::new(clock.clone()),
        Mail::Memory,
    )
    .await;
    app.staff_with("boss", &Right::ALL).await;
    browser.goto(&app.url("/staff/")).await;
    browser
        .until("return document.getElementById('sign-in-form')")
        .await;
    browser
        .type_into("#sign-in-form input[name=username]", "boss")
        .await;
    browser
        .type_into("#sign-in-form input[name=password]", PASSWORD)
        .await;
    browser.click("#sign-in").await;
    // Held on the account screen until a second factor is set up.
    text_of(&browser, "setup-required", "requires a second factor").await;
    browser.click("#enroll-second-factor").await;
    // Setting up a factor needs step-up: the console asks for the password over the screen.
    browser
        .until("return document.getElementById('step-up-password')")
        .await;
    snap(&browser, backend, "step-up-password").await;
    browser.type_into("#step-up-password", PASSWORD).await;
    browser.click("#step-up-confirm").await;
    let secret = text_of(&browser, "enroll-secret", "").await;
    browser
        .until("const q = document.getElementById('enroll-qr'); return q && q.complete && q.naturalWidth > 0")
        .await;
    snap(&browser, backend, "second-factor-enrol").await;
    let totp = totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        totp_rs::Secret::Encoded(secret).to_bytes().unwrap(),
        None,
        "boss".into(),
    )
    .unwrap();
    let now = || clock.now().timestamp() as u64;
    browser
        .type_into("#enroll-code", &totp.generate(now()))
        .await;
    browser.click("#confirm-second-factor").await;
    browser
        .until("const l = document.getElementById('recovery-codes'); return l && l.children.length === 10")
        .await;
    snap(&browser, backend, "second-factor-recovery-codes").await;
    browser.click("#recovery-codes-saved").await;
    text_of(&browser, "second-factor-state", "On").await;
    // The rest of the console works now.
    browser.click("#nav a[href='#/search']").await;
    browser
        .until("return document.getElementById('quick-search')")
        .await;

    // The next sign-in asks for the app's code.
    sign_out(&browser).await;
    browser
        .type_into("#sign-in-form input[name=username]", "boss")
        .await;
    browser
        .type_into("#sign-in-form input[name=password]", PASSWORD)
        .await;
    browser.click("#sign-in").await;
    browser
        .until("return document.activeElement && document.activeElement.id === 'sign-in-code'")
        .await;
    snap(&browser, backend, "second-factor-sign-in").await;
    // The code that confirmed enrolment is spent; the next one works.
    browser.keys(&totp.generate(now())).await;
    browser.keys(ENTER).await;
    browser
        .until("const e = document.querySelector('#sign-in-form .alert-error'); return e && e.textContent")
        .await;
    clock.advance(chrono::Duration::seconds(30));
    browser
        .type_into("#sign-in-code", &totp.generate(now()))
        .await;
    browser.keys(ENTER).await;
    browser
        .until("return document.getElementById('quick-search')")
        .await;

    // New recovery codes from the account screen: this session signed in with a code, but
    // the step-up asks for the password and the app's next code again.
    browser.click("a.who-name").await;
    browser.click("#new-recovery-codes").await;
    browser.click("#regenerate-recovery-codes").await;
    browser
        .until("return document.getElementById('step-up-code')")
        .await;
    clock.advance(chrono::Duration::seconds(30));
    browser.type_into("#step-up-password", PASSWORD).await;
    browser
        .type_into("#step-up-code", &totp.generate(now()))
        .await;
    snap(&browser, backend, "step-up-password-and-code").await;
    browser.click("#step-up-confirm").await;
    browser
        .until("const l = document.getElementById('recovery-codes'); return l && l.children.length === 10")
        .await;
    text_of(&browser, "recovery-codes", "").await;
    snap(&browser, backend, "second-factor-new-recovery-codes").await;
    let problems = problems(&browser).await;
    assert!(problems.is_empty(), "{problems:?}");
    browser.quit().await;
}
per_backend!(
    staff_set_up_and_use_a_second_factor_in_the_console,
    super::second_factor_in_the_console
);

/// A communication with more deliveries than one page: "Show more" brings the rest.
async fn deliveries_page_on(backend: Backend) {
    let Some((browser, app, admin)) = browser_and_app(backend, |_| {}).await else {
        return;
    };
    app.bulk_people(130, "Paged").await;
    let id = crate::mass::create_ok(
        &app,
        &admin,
        json!({ "subject": "News", "html": "<p>Hello {{full_name}}</p>", "recipients": { "filter": { "kind": "INDIVIDUAL" } } }),
    )
    .await;
    let sent = app
        .gql(Some(&admin), crate::mass::SEND, json!({ "id": id }))
        .await;
    assert!(sent["errors"].is_null(), "{sent}");
    crate::mass::wait_done(&app, &admin, &id).await;
    sign_in(&browser, &app, "boss").await;
    browser.goto(&app.url(&format!("/staff/#/mass/{id}"))).await;
    browser
        .until("const t = document.getElementById('deliveries-table'); return t && t.tBodies[0].rows.length === 100")
        .await;
    text_of(&browser, "deliveries-shown", "Showing 100 of 130").await;
    browser.click("#more-deliveries").await;
    browser
        .until("const t = document.getElementById('deliveries-table'); return t.tBodies[0].rows.length === 130 && document.getElementById('more-deliveries').hidden")
        .await;
    text_of(&browser, "deliveries-shown", "Showing 130 of 130").await;
    browser.quit().await;
}
per_backend!(
    the_deliveries_table_pages_with_show_more,
    super::deliveries_page_on
);
