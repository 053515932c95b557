//! The Mass Communicator's rich-text editor in Chromium, used as staff use it: typed text,
//! Ctrl+B, a special field inserted as one piece (and removed whole by Backspace), the HTML
//! source view, the live preview; then the draft is saved, scheduled for a day and time in
//! the association's time zone, and sent. Screens at both sizes under
//! `screenshots/console/<backend>/`.

use chrono::{Duration, NaiveTime, TimeZone, Utc};
use serde_json::json;

use crate::browser::{Browser, ENTER};
use crate::console::{add_recipient, browser_and_app, problems, sign_in, snap, text_of};
use crate::helpers::{Backend, per_backend, person};

/// WebDriver's Control key, held until NULL releases it, and End.
const CTRL: &str = "\u{E009}";
const RELEASE: &str = "\u{E000}";
const END: &str = "\u{E010}";
const BACKSPACE: &str = "\u{E003}";

/// The body as the form will save it (the text area behind the editor).
async fn saved_body(browser: &Browser) -> String {
    browser
        .js("return document.getElementById('mass-html').value")
        .await
        .as_str()
        .unwrap()
        .to_owned()
}

async fn compose_schedule_send(backend: Backend) {
    let zone = chrono_tz::America::New_York;
    let Some((browser, app, admin)) = browser_and_app(backend, |c| c.time_zone = zone).await else {
        return;
    };
    let maria = app
        .create_profile(
            &admin,
            person("Maria", "Jensen", Some("maria@harbour.example")),
        )
        .await;
    sign_in(&browser, &app, "boss").await;
    browser.goto(&app.url("/staff/#/mass/new")).await;
    // The starting letter's {{full_name}} is one piece in the editor.
    browser
        .until("return document.querySelector('#mass-editor-body .merge-field[data-token=\"{{full_name}}\"]')")
        .await;
    browser
        .type_into("#mass-subject", "Your portal login")
        .await;
    browser.click("#mass-editor-body").await;
    browser
        .keys(&format!(
            "{CTRL}{END}{RELEASE}{ENTER}Welcome, {CTRL}b{RELEASE}new member{CTRL}b{RELEASE}. Choose your password here: "
        ))
        .await;
    browser
        .click("#special-field option[value='{{portal_login_credentials_link}}']")
        .await;
    browser.click("#insert-field").await;
    browser
        .until("return document.getElementById('mass-html').value.includes('{{portal_login_credentials_link}}')")
        .await;
    let body = saved_body(&browser).await;
    assert!(
        body.contains("<strong>new member</strong>"),
        "Ctrl+B made it bold: {body}"
    );
    assert!(
        body.contains("<p>Dear {{full_name}},</p>"),
        "a piece is written back as its field: {body}"
    );
    assert!(
        !body.contains("merge-field") && !body.contains("&nbsp;"),
        "{body}"
    );
    // One Backspace takes the whole field, and it can be inserted again.
    browser.click("#mass-editor-body").await;
    browser
        .keys(&format!("{CTRL}{END}{RELEASE}{BACKSPACE}"))
        .await;
    browser
        .until("return !document.getElementById('mass-html').value.includes('{{portal')")
        .await;
    assert!(saved_body(&browser).await.ends_with("here: </p>"));
    browser.click("#insert-field").await;
    browser
        .until("return document.getElementById('mass-html').value.includes('{{portal_login_credentials_link}}')")
        .await;
    // The live preview shows the letter as written.
    browser
        .until("return document.getElementById('live-preview').srcdoc.includes('<strong>new member</strong>')")
        .await;
    snap(&browser, backend, "mass-editor").await;

    // The HTML source view: edited there, the editor takes it back.
    browser.click("#html-source").await;
    browser
        .until("return !document.getElementById('mass-html').hidden && document.querySelector('.ql-toolbar').hidden")
        .await;
    browser
        .js("const t = document.getElementById('mass-html'); t.value += '<h2>See you soon</h2>'; t.dispatchEvent(new Event('input')); return true")
        .await;
    snap(&browser, backend, "mass-editor-source").await;
    browser.click_text("Back to the editor").await;
    browser
        .until("const h = document.querySelector('#mass-editor-body h2'); return h && h.textContent === 'See you soon'")
        .await;

    // To Maria, saved.
    add_recipient(&browser, "Maria", &maria).await;
    browser.click("#save-draft").await;
    browser
        .until("return document.getElementById('schedule')")
        .await;
    let saved = app
        .gql(
            Some(&admin),
            "{ massCommunications(first: 1) { edges { node { id html } } } }",
            json!({}),
        )
        .await;
    let node = &saved["data"]["massCommunications"]["edges"][0]["node"];
    let id = node["id"].as_str().unwrap().to_owned();
    let html = node["html"].as_str().unwrap();
    for part in [
        "<strong>new member</strong>",
        "{{portal_login_credentials_link}}",
        "<h2>See you soon</h2>",
    ] {
        assert!(html.contains(part), "{part} in {html}");
    }

    // Scheduled for 09:30 the day after tomorrow, in the association's time zone.
    browser.click("#schedule").await;
    browser
        .until("return document.getElementById('schedule-day')")
        .await;
    let day = (Utc::now().with_timezone(&zone) + Duration::days(2)).date_naive();
    browser
        .js(&format!(
            "document.getElementById('schedule-day').value = '{day}'; document.getElementById('schedule-time').value = '09:30'; return true"
        ))
        .await;
    let hint = text_of(&browser, "schedule-time-hint", "America/New_York").await;
    assert!(hint.contains("time zone"), "{hint}");
    snap(&browser, backend, "mass-schedule").await;
    browser.click("#schedule-save").await;
    let note = text_of(&browser, "schedule-note", "Scheduled").await;
    assert!(note.contains("09:30"), "{note}");
    let expected = zone
        .from_local_datetime(&day.and_time(NaiveTime::from_hms_opt(9, 30, 0).unwrap()))
        .single()
        .unwrap()
        .with_timezone(&Utc);
    let read = app
        .gql(
            Some(&admin),
            "query($id: ID!) { massCommunication(id: $id) { sendAt status } }",
            json!({ "id": id }),
        )
        .await;
    let send_at: chrono::DateTime<Utc> = read["data"]["massCommunication"]["sendAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(send_at, expected, "{read}");
    snap(&browser, backend, "mass-scheduled").await;
    // The list says it is scheduled, and when.
    browser.goto(&app.url("/staff/#/mass")).await;
    let listed = text_of(&browser, "mass-table", "Scheduled for").await;
    assert!(listed.contains("09:30"), "{listed}");
    snap(&browser, backend, "mass-list-scheduled").await;
    browser.goto(&app.url(&format!("/staff/#/mass/{id}"))).await;
    browser
        .until("return document.getElementById('unschedule')")
        .await;

    // Unscheduled, then sent at once instead.
    browser.click("#unschedule").await;
    browser
        .until("return !document.getElementById('schedule-note') && document.getElementById('schedule').textContent === 'Schedule…'")
        .await;
    browser.click("#send").await;
    text_of(&browser, "send-count", "1 recipient").await;
    browser.click("dialog button.primary").await;
    browser
        .until("const b = document.querySelector('#main h1 .badge'); return b && b.textContent !== 'Draft'")
        .await;
    let done = crate::mass::wait_done(&app, &admin, &id).await;
    assert_eq!(done["status"], "SENT", "{done}");
    let mail = app.mail.sent();
    assert_eq!(mail.len(), 1);
    assert!(mail[0].html.contains("<strong>new member</strong>"));
    assert_eq!(problems(&browser).await, Vec::<String>::new());
    browser.quit().await;
}
per_backend!(
    compose_with_the_editor_schedule_and_send,
    super::compose_schedule_send
);
