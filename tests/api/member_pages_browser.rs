//! The member pages in headless Chromium, used by their visible labels: sign in with a
//! staff-set password, choose one's own, see the account, sign out, find "Forgot your
//! login?"; and staff opening "View Profile's Portal" from the console into a new tab. Every
//! page is saved at 1280×800 and 390×844 under `screenshots/portal/<backend>/`.

use serde_json::json;

use memberkey::domain::Right;

use crate::browser::{Browser, labelled};
use crate::console::{problems, sign_in as staff_sign_in};
use crate::helpers::{Backend, per_backend, spawn_app};
use crate::member_pages::{PASSWORD, member};

const NEW_PASSWORD: &str = "seven quiet gulls over the pier";

/// Saves the page at desktop and phone size; nothing may be wider than the phone.
pub(crate) async fn snap(browser: &Browser, backend: Backend, name: &str) {
    for (width, height, size) in [(1280, 800, "desktop"), (390, 844, "phone")] {
        browser.resize(width, height).await;
        browser
            .until(&format!(
                "return window.innerWidth {} 600",
                if width > 600 { ">" } else { "<" }
            ))
            .await;
        assert_eq!(
            browser
                .js("return document.documentElement.scrollWidth <= window.innerWidth + 1")
                .await,
            true,
            "{name} is wider than the screen at {width}"
        );
        let path = browser
            .screenshot(&format!("portal/{backend:?}/{name}-{size}"))
            .await;
        println!("screenshot: {}", path.display());
    }
    browser.resize(1280, 800).await;
}

/// Types into the input the visible label names.
pub(crate) async fn fill(browser: &Browser, label: &str, text: &str) {
    let input = browser.until(&labelled(label)).await;
    browser.type_into(input.as_str().unwrap(), text).await;
}

pub(crate) async fn heading(browser: &Browser) -> String {
    browser
        .until("const h = document.querySelector('h1'); return h && h.textContent")
        .await
        .as_str()
        .unwrap()
        .to_owned()
}

async fn member_signs_in(backend: Backend) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app(backend).await;
    member(&app, true).await;

    // The account page leads to sign-in first.
    browser.goto(&app.url("/portal/account")).await;
    assert_eq!(heading(&browser).await, "Sign in");
    snap(&browser, backend, "sign-in").await;

    // A wrong password: one message, beside the form.
    fill(&browser, "Username or email", "mariaj").await;
    fill(&browser, "Password", "not the right one at all").await;
    browser.click_text("Sign in").await;
    let error = browser
        .until("const e = document.getElementById('error'); return e && e.textContent")
        .await;
    assert!(error.as_str().unwrap().contains("do not match"), "{error}");
    snap(&browser, backend, "sign-in-refused").await;

    // The staff-set password signs in, and must be replaced before anything else.
    fill(&browser, "Password", PASSWORD).await;
    browser.click_text("Sign in").await;
    browser
        .until("return location.pathname === '/portal/change-password'")
        .await;
    assert_eq!(heading(&browser).await, "Choose your own password");
    snap(&browser, backend, "must-change").await;
    fill(&browser, "Current password", PASSWORD).await;
    fill(&browser, "New password", NEW_PASSWORD).await;
    fill(&browser, "Confirm new password", NEW_PASSWORD).await;
    browser.click_text("Change password").await;
    browser
        .until("return location.pathname === '/portal/account'")
        .await;
    assert_eq!(heading(&browser).await, "Your account");
    let text = browser.js("return document.body.innerText").await;
    for fact in [
        "Your password is changed.",
        "Maria Jensen",
        "mariaj",
        "maria@harbour.example",
    ] {
        assert!(text.as_str().unwrap().contains(fact), "{fact}: {text}");
    }
    snap(&browser, backend, "account").await;

    // Back on the account later: still signed in (the cookie), without the notice.
    browser.goto(&app.url("/portal/")).await;
    assert_eq!(heading(&browser).await, "Your account");

    browser.click_text("Sign out").await;
    let notice = browser
        .until("const s = document.querySelector('[role=status]'); return s && s.textContent")
        .await;
    assert_eq!(notice, "You are signed out.");
    snap(&browser, backend, "signed-out").await;
    browser.click_text("Forgot your login?").await;
    browser
        .until("return location.pathname === '/portal/forgot'")
        .await;

    // The new password works on the page too.
    browser.goto(&app.url("/portal/sign-in")).await;
    fill(&browser, "Username or email", "maria@harbour.example").await;
    fill(&browser, "Password", NEW_PASSWORD).await;
    browser.click_text("Sign in").await;
    browser
        .until("return location.pathname === '/portal/account'")
        .await;
    let problems = problems(&browser).await;
    assert!(problems.is_empty(), "{problems:?}");
    browser.quit().await;
}
per_backend!(
    a_member_signs_in_on_the_portal_pages,
    super::member_signs_in
);

async fn view_from_the_console(backend: Backend) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app(backend).await;
    let (_, id) = member(&app, false).await;
    app.staff_with(
        "helpdesk",
        &[Right::ImpersonateMembers, Right::ManagePortalCredentials],
    )
    .await;
    staff_sign_in(&browser, &app, "helpdesk").await;
    browser
        .goto(&app.url(&format!("/staff/#/profiles/{id}/portal")))
        .await;
    browser
        .until("return document.getElementById('view-portal')")
        .await;
    let console_tab = browser.tabs().await;
    assert_eq!(console_tab.len(), 1);
    browser.click_text("View Profile's Portal").await;
    let tabs = crate::helpers::eventually(std::time::Duration::from_secs(15), || async {
        let tabs = browser.tabs().await;
        (tabs.len() == 2).then_some(tabs)
    })
    .await
    .expect("a new tab");
    let new_tab = tabs.iter().find(|t| **t != console_tab[0]).unwrap();
    browser.switch_to(new_tab).await;
    let banner = browser
        .until("const b = document.querySelector('.banner'); return b && b.textContent")
        .await;
    assert!(
        banner
            .as_str()
            .unwrap()
            .starts_with("Viewing as Maria Jensen, read-only, until "),
        "{banner}"
    );
    assert_eq!(heading(&browser).await, "Your account");
    assert_eq!(
        browser
            .js("return [...document.querySelectorAll('button, a')].map(b => b.textContent.trim()).filter(t => /password|everywhere/i.test(t))")
            .await,
        json!([]),
        "no way to change anything in the view"
    );
    snap(&browser, backend, "staff-view").await;
    browser.click_text("End this view").await;
    browser
        .until("return location.pathname === '/portal/sign-in'")
        .await;
    assert_eq!(app.audited("PORTAL_IMPERSONATION_ENDED").await, 1);
    browser.quit().await;
}
per_backend!(
    staff_open_the_members_portal_from_the_console,
    super::view_from_the_console
);
