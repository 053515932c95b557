//! A staff user's set-password email in the console, in headless Chromium: the administrator
//! sees why the button is disabled without an address, records one, sends with a
//! confirmation, and the staff user opens the link, sets a password and signs in with it. A
//! used link says what to do next. Screenshots as in `console.rs`.

use std::sync::Arc;

use memberkey::domain::{Right, SystemClock};

use crate::browser::Browser;
use crate::console::{problems, sign_in, sign_out, snap, text_of};
use crate::helpers::STAFF_PASSWORD as PASSWORD;
use crate::helpers::{Backend, Mail, per_backend, spawn_full};
use crate::resets::{NEW_PASSWORD, nth_mail};

async fn a_staff_user_sets_a_password_from_an_email(backend: Backend) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    browser.resize(1280, 800).await;
    let app = spawn_full(backend, |_| {}, Arc::new(SystemClock), Mail::Memory).await;
    app.staff_with("boss", &Right::ALL).await;
    app.staff_with("clerk", &[Right::SendPasswordResets]).await;
    sign_in(&browser, &app, "boss").await;

    // No address yet: the button is disabled and says why.
    browser.goto(&app.url("/staff/#/staff")).await;
    browser
        .until("return document.getElementById('staff-2-send-reset')")
        .await;
    let disabled = browser
        .js("return document.getElementById('staff-2-send-reset').disabled")
        .await;
    assert_eq!(disabled, true);
    text_of(&browser, "staff-2-send-reason", "record an email address").await;
    browser
        .js("document.getElementById('staff-2-send-reason').scrollIntoView({ block: 'center' })")
        .await;
    snap(&browser, backend, "staff-no-email").await;

    // Record it, then send with a confirmation naming the address.
    browser
        .type_into("#staff-2-email", "clerk@harbour.example")
        .await;
    browser.click("#staff-2-save-email").await;
    // An address is how an account is recovered: the console asks for the password first.
    browser
        .until("return document.getElementById('step-up-password')")
        .await;
    browser.type_into("#step-up-password", PASSWORD).await;
    browser.click("#step-up-confirm").await;
    browser
        .until("const b = document.getElementById('staff-2-send-reset'); return b && !b.disabled")
        .await;
    browser.click("#staff-2-send-reset").await;
    let confirm = browser
        .until("const d = document.querySelector('dialog[open]'); return d && d.textContent")
        .await;
    let confirm = confirm.as_str().unwrap();
    assert!(confirm.contains("clerk@harbour.example"), "{confirm}");
    assert!(confirm.contains("24 hours"), "{confirm}");
    snap(&browser, backend, "staff-send-reset-confirm").await;
    browser.click("dialog[open] button.primary").await;
    browser
        .until("const c = document.getElementById('staff-2-name').closest('section'); return c.textContent.includes('on its way to clerk@harbour.example')")
        .await;
    let mail = nth_mail(&app, 1).await;
    assert_eq!(mail.to, "clerk@harbour.example");
    let token = mail
        .text
        .split_whitespace()
        .find_map(|w| w.split_once("#set-password=").map(|(_, t)| t.to_owned()))
        .expect("a staff link");
    sign_out(&browser).await;

    // The clerk opens the link: the token leaves the address bar at once.
    let link = app.url(&format!("/staff/#set-password={token}"));
    browser.goto(&link).await;
    browser
        .until("return document.getElementById('link-form')")
        .await;
    let hash = browser.js("return location.hash").await;
    assert_eq!(hash, "#/search");
    snap(&browser, backend, "staff-set-password").await;
    browser
        .type_into("#link-new-password", "first attempt at this")
        .await;
    browser
        .type_into("#link-confirm-password", "something different")
        .await;
    browser.click("#link-set-password").await;
    browser
        .until("return document.getElementById('link-form').textContent.includes('The two passwords differ')")
        .await;
    browser.type_into("#link-new-password", "clerk").await;
    browser.type_into("#link-confirm-password", "clerk").await;
    browser.click("#link-set-password").await;
    // A weak password is told once, beside the field.
    browser
        .until("const e = document.getElementById('link-new-password-error'); return e && !e.hidden && e.textContent")
        .await;
    assert_eq!(
        browser
            .js("return document.querySelectorAll('#link-form .alert-error').length")
            .await,
        0
    );
    browser.type_into("#link-new-password", NEW_PASSWORD).await;
    browser
        .type_into("#link-confirm-password", NEW_PASSWORD)
        .await;
    browser.click("#link-set-password").await;
    // Sign-in follows, with the username filled in.
    browser
        .until("const f = document.getElementById('sign-in-form'); return f && f.textContent.includes('Your password is set')")
        .await;
    let username = browser
        .js("return document.querySelector('#sign-in-form input[name=username]').value")
        .await;
    assert_eq!(username, "clerk");
    snap(&browser, backend, "staff-password-set").await;
    browser
        .type_into("#sign-in-form input[name=password]", NEW_PASSWORD)
        .await;
    browser.click("#sign-in").await;
    browser
        .until("return document.getElementById('quick-search')")
        .await;
    sign_out(&browser).await;

    // The same link again: it says what to do next, and leads back to sign-in.
    browser.goto(&link).await;
    browser
        .until("return document.getElementById('link-form')")
        .await;
    browser
        .type_into("#link-new-password", "another sturdy passphrase")
        .await;
    browser
        .type_into("#link-confirm-password", "another sturdy passphrase")
        .await;
    browser.click("#link-set-password").await;
    browser
        .until("return document.getElementById('link-to-sign-in')")
        .await;
    let said = browser
        .js("return document.querySelector('main').textContent")
        .await;
    assert!(
        said.as_str().unwrap().contains("Ask an administrator"),
        "{said}"
    );
    snap(&browser, backend, "staff-link-used").await;
    browser.click("#link-to-sign-in").await;
    browser
        .until("return document.getElementById('sign-in-form')")
        .await;

    let problems = problems(&browser).await;
    assert!(problems.is_empty(), "{problems:?}");
    browser.quit().await;
}

per_backend!(
    a_staff_user_sets_a_password_from_an_email_in_a_browser,
    super::a_staff_user_sets_a_password_from_an_email
);
