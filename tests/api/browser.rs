//! The built-in set-password page in headless Chromium, driven over WebDriver: open a mailed
//! link, get policy feedback, set a password, then sign in with it. The test script installs
//! Debian's chromium and chromium-driver and names the driver in MEMBERKEY_TEST_CHROMEDRIVER.

use std::process::Stdio;
use std::time::Duration as StdDuration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::helpers::{Backend, eventually, per_backend, person, spawn_app, spawn_app_with};
use crate::member_login::member_login;
use crate::resets::{NEW_PASSWORD, check, links, nth_mail, send_reset, token_of};

/// WebDriver's codes for keys that type no character.
pub const TAB: &str = "\u{E004}";
pub const ENTER: &str = "\u{E007}";
pub const ARROW_DOWN: &str = "\u{E015}";

/// A WebDriver session in headless Chromium; the driver stops when this is dropped.
pub struct Browser {
    base: String,
    session: String,
    http: reqwest::Client,
    _driver: tokio::process::Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn start() -> Option<Browser> {
        let driver = crate::helpers::component("MEMBERKEY_TEST_CHROMEDRIVER", "browser")?;
        // chromedriver now and then exits at start-up when many start at once (seen as
        // "exited before it was ready" under a full parallel run); a fresh one is tried, at
        // most three times, since the driver's own start is not what any test is about.
        let mut attempt = 0;
        let (child, port, mut lines) = loop {
            attempt += 1;
            let mut child = tokio::process::Command::new(&driver)
                .arg("--port=0")
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .expect("start chromedriver");
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            let port = tokio::time::timeout(StdDuration::from_secs(30), async {
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(rest) = line.split("started successfully on port ").nth(1) {
                        return Some(rest.trim_end_matches('.').trim().to_owned());
                    }
                }
                None
            })
            .await
            .expect("chromedriver did not start within 30 s");
            match port {
                Some(port) => break (child, port, lines),
                None if attempt < 3 => continue,
                None => panic!("chromedriver exited before it was ready, {attempt} times"),
            }
        };
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let base = format!("http://127.0.0.1:{port}");
        let profile = tempfile::tempdir().unwrap();
        let http = reqwest::Client::new();
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": { "browser": "ALL" },
            "goog:chromeOptions": {
                "binary": std::env::var("MEMBERKEY_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,860",
                         format!("--user-data-dir={}", profile.path().display())]
            }
        }}});
        let resp: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = resp["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {resp}"))
            .to_owned();
        let browser = Browser {
            base,
            session,
            http,
            _driver: child,
            _profile: profile,
        };
        // A click often changes the screen in a later task (a hash change, a GraphQL answer),
        // so finding the next element waits for it, as a person would, instead of racing it.
        browser
            .call(
                reqwest::Method::POST,
                "/timeouts",
                json!({ "implicit": 10_000 }),
            )
            .await;
        Some(browser)
    }

    /// One WebDriver command; its `value`, or the WebDriver error as `Err`.
    async fn try_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> Result<Value, Value> {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let mut req = self.http.request(method, url);
        if !body.is_null() {
            req = req.json(&body);
        }
        let resp: Value = req.send().await.unwrap().json().await.unwrap();
        let value = resp["value"].clone();
        if value.get("error").is_some() {
            Err(value)
        } else {
            Ok(value)
        }
    }

    /// One WebDriver command that must succeed: a refused click or a script that throws
    /// fails the test where it happened, not at a later timeout.
    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        self.try_call(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("WebDriver {path}: {} {}", e["error"], e["message"]))
    }

    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", json!({ "url": url }))
            .await;
    }

    /// Runs `script` in the page and returns what it returns; a script that throws fails.
    pub async fn js(&self, script: &str) -> Value {
        self.try_js(script)
            .await
            .unwrap_or_else(|e| panic!("script {script:?} threw: {}", e["message"]))
    }

    /// Runs `script` in the page: what it returns, or the WebDriver error when it throws.
    async fn try_js(&self, script: &str) -> Result<Value, Value> {
        self.try_call(
            reqwest::Method::POST,
            "/execute/sync",
            json!({ "script": script, "args": [] }),
        )
        .await
    }

    /// Runs `script` until it returns something truthy (for at most 15 s), and returns that; a
    /// script that throws (say, on an element not drawn yet) has not succeeded yet.
    pub async fn until(&self, script: &str) -> Value {
        eventually(StdDuration::from_secs(15), move || async move {
            let v = self.try_js(script).await.unwrap_or(Value::Null);
            (!(v.is_null() || v == false || v == "")).then_some(v)
        })
        .await
        .unwrap_or_else(|| panic!("timed out waiting for: {script}"))
    }

    /// The WebDriver id of the element `css` names, waiting up to 10 s for it to be drawn.
    pub async fn element(&self, css: &str) -> String {
        self.find("css selector", css).await
    }

    async fn find(&self, using: &str, value: &str) -> String {
        let v = self
            .try_call(
                reqwest::Method::POST,
                "/element",
                json!({ "using": using, "value": value }),
            )
            .await
            .unwrap_or_else(|e| panic!("no element {value}: {}", e["message"]));
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(|id| id.as_str())
            .unwrap_or_else(|| panic!("no element {value}: {v}"))
            .to_owned()
    }

    /// Clicks the button or link whose visible text is `text`, as a person finds it.
    pub async fn click_text(&self, text: &str) {
        let xpath = format!(
            "//*[self::button or self::a][normalize-space()={}]",
            xpath_literal(text)
        );
        let id = self.find("xpath", &xpath).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            json!({}),
        )
        .await;
    }

    /// The handles of the open tabs, in the order they were opened.
    pub async fn tabs(&self) -> Vec<String> {
        let v = self
            .call(reqwest::Method::GET, "/window/handles", Value::Null)
            .await;
        serde_json::from_value(v).unwrap()
    }

    /// Opens an empty tab, as a person does with Ctrl+T (no opener, nothing of another tab's
    /// sessionStorage), and returns its handle; commands still go to the current tab.
    pub async fn new_tab(&self) -> String {
        let v = self
            .call(
                reqwest::Method::POST,
                "/window/new",
                json!({ "type": "tab" }),
            )
            .await;
        v["handle"].as_str().unwrap().to_owned()
    }

    /// Makes the tab `handle` the one commands go to.
    pub async fn switch_to(&self, handle: &str) {
        self.call(
            reqwest::Method::POST,
            "/window",
            json!({ "handle": handle }),
        )
        .await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/clear"),
            json!({}),
        )
        .await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            json!({ "text": text }),
        )
        .await;
    }

    /// Types into whatever has the focus, as a keyboard would; WebDriver's key codes such as
    /// [`TAB`], [`ENTER`] and [`ARROW_DOWN`] press those keys.
    pub async fn keys(&self, text: &str) {
        let active = self
            .call(reqwest::Method::GET, "/element/active", Value::Null)
            .await;
        let id = active
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(|id| id.as_str())
            .unwrap_or_else(|| panic!("nothing has the focus: {active}"))
            .to_owned();
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            json!({ "text": text }),
        )
        .await;
    }

    /// Resizes the window, e.g. to a phone's 390×844.
    pub async fn resize(&self, width: u32, height: u32) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            json!({ "width": width, "height": height }),
        )
        .await;
    }

    /// Clicks the element `css` selects. A screen that redraws between the lookup and the
    /// click (a search answering again, a list refreshed) leaves a stale reference: the
    /// element is looked up afresh and clicked, a few times at most; any other refusal fails.
    pub async fn click(&self, css: &str) {
        for _ in 0..5 {
            let id = self.element(css).await;
            let path = format!("/element/{id}/click");
            match self.try_call(reqwest::Method::POST, &path, json!({})).await {
                Ok(_) => return,
                Err(e) if e["error"] == "stale element reference" => continue,
                Err(e) => panic!("WebDriver {path}: {} {}", e["error"], e["message"]),
            }
        }
        panic!("{css} kept being redrawn before it could be clicked");
    }

    /// Saves a screenshot as `<CARGO_TARGET_TMPDIR>/screenshots/<name>.png` and returns its
    /// path, for a person to look at.
    pub async fn screenshot(&self, name: &str) -> std::path::PathBuf {
        use base64::Engine;
        let png = self
            .call(reqwest::Method::GET, "/screenshot", Value::Null)
            .await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("screenshot data"))
            .expect("base64 screenshot");
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        let path = dir.join(format!("{name}.png"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// The browser console's messages since the last call (CSP violations show up here).
    pub async fn console(&self) -> Vec<String> {
        let logs = self
            .call(
                reqwest::Method::POST,
                "/se/log",
                json!({ "type": "browser" }),
            )
            .await;
        logs.as_array()
            .map(|a| {
                a.iter()
                    .map(|l| format!("{} {}", l["level"], l["message"]))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub async fn quit(self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send()
            .await;
    }
}

async fn set_password_in_a_browser(backend: Backend) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app_with(backend, |c| {
        c.time_zone = chrono_tz::Tz::Europe__Copenhagen;
        c.portal_url = Some("https://portal.harbour.example/".into());
    })
    .await;
    let admin = app.admin().await;
    let id = app
        .create_profile(
            &admin,
            person("Maria", "Jensen", Some("maria@harbour.example")),
        )
        .await;
    send_reset(&app, &admin, &id).await;
    let link = links(&nth_mail(&app, 1).await)[0].clone();
    let token = token_of(&link);
    // The mailed link, on this test server's address instead of the configured public one.
    let local_link = link.replace("https://members.example.org", &app.url(""));
    browser.goto(&local_link).await;

    let login = browser
        .until("return document.getElementById('login').textContent")
        .await;
    assert_eq!(login, "maria@harbour.example");
    assert_eq!(
        browser.js("return location.hash").await,
        "",
        "the token leaves the address bar"
    );
    assert_eq!(
        browser
            .js("return document.getElementById('username-row').hidden")
            .await,
        false
    );
    // The expiry is shown in the association's time zone, named as in the mail.
    let expires = browser
        .js("return document.getElementById('expires').textContent")
        .await;
    let expires = expires.as_str().unwrap();
    assert!(
        expires.ends_with("CET") || expires.ends_with("CEST"),
        "{expires}"
    );
    assert_eq!(
        browser
            .js("return document.getElementById('brand').textContent")
            .await,
        "Harbour Chamber"
    );
    // Nothing is red before the member has typed.
    assert_eq!(
        browser
            .js("return document.getElementById('length').className")
            .await,
        "hint"
    );
    browser
        .screenshot(&format!("set-password-form-{backend:?}"))
        .await;
    // Readable on a phone: nothing wider than the screen.
    browser.resize(390, 844).await;
    assert_eq!(
        browser
            .js("return document.documentElement.scrollWidth <= window.innerWidth")
            .await,
        true
    );
    browser
        .screenshot(&format!("set-password-phone-{backend:?}"))
        .await;
    browser.resize(1280, 860).await;

    // Live feedback on length stays neutral while typing; a submit shows what is wrong.
    browser.type_into("#password", "too short").await;
    assert_eq!(
        browser
            .js("return document.getElementById('length').className")
            .await,
        "hint"
    );
    browser.click("#submit").await;
    browser
        .until("return !document.getElementById('error').hidden")
        .await;
    assert_eq!(
        browser
            .js("return document.getElementById('length').className")
            .await,
        "hint bad"
    );
    browser
        .screenshot(&format!("set-password-too-short-{backend:?}"))
        .await;
    // A long but common password is refused by the server with the reason; the link survives.
    browser.type_into("#password", "password1234").await;
    browser.type_into("#confirm", "password1234").await;
    browser.click("#submit").await;
    let error = browser
        .until("const e = document.getElementById('error'); return !e.hidden && e.textContent.includes('commonly') && e.textContent")
        .await;
    assert!(error.as_str().unwrap().contains("commonly used"), "{error}");
    assert_eq!(check(&app, &token).await["state"], "VALID");

    browser.type_into("#password", NEW_PASSWORD).await;
    browser.type_into("#confirm", NEW_PASSWORD).await;
    browser.type_into("#username", "mariaj").await;
    browser.click("#submit").await;
    let done = browser
        .until("const e = document.getElementById('done'); return !e.hidden && e.textContent")
        .await;
    assert!(done.as_str().unwrap().contains("mariaj"), "{done}");
    // After success: a way on to the portal.
    assert_eq!(
        browser
            .js("const a = document.getElementById('portal-link'); return a.offsetParent !== null && a.href")
            .await,
        "https://portal.harbour.example/"
    );
    browser
        .screenshot(&format!("set-password-done-{backend:?}"))
        .await;

    // The used link says so, and offers the portal too. (From another page: the same path
    // with only a new fragment would not load the page again.)
    browser.goto("about:blank").await;
    browser.goto(&local_link).await;
    let status = browser
        .until("const s = document.getElementById('status'); return !s.textContent.startsWith('Checking') && s.textContent")
        .await;
    assert!(
        status.as_str().unwrap().contains("already been used"),
        "{status}"
    );
    assert_eq!(
        browser
            .js("const a = document.getElementById('portal-link'); return a.offsetParent !== null && a.href")
            .await,
        "https://portal.harbour.example/"
    );
    browser
        .screenshot(&format!("set-password-used-{backend:?}"))
        .await;
    let problems: Vec<String> = browser
        .console()
        .await
        .into_iter()
        .filter(|l| l.contains("SEVERE") || l.contains("Content Security Policy"))
        .collect();
    assert!(problems.is_empty(), "{problems:?}");
    browser.quit().await;

    let resp = member_login(&app, "mariaj", NEW_PASSWORD).await;
    assert_eq!(resp["data"]["memberLogin"]["profile"]["id"], id, "{resp}");
    assert_eq!(check(&app, &token).await["state"], "USED");

    // The page's icon is served from here, under the page's own CSP.
    let icon = app
        .client
        .get(app.url("/portal/favicon.svg"))
        .send()
        .await
        .unwrap();
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    assert!(icon.text().await.unwrap().starts_with("<svg"));
    let ico = app
        .client
        .get(app.url("/favicon.ico"))
        .send()
        .await
        .unwrap();
    assert_eq!(ico.status(), 200);
}
per_backend!(
    a_member_sets_a_password_in_the_browser,
    super::set_password_in_a_browser
);

/// Without `MEMBERKEY_PORTAL_URL` the page leads to memberkey's own sign-in page.
async fn without_a_portal_address(backend: Backend) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app(backend).await;
    browser.goto(&app.url("/portal/set-password")).await;
    let hint = browser
        .until("const h = document.getElementById('portal-hint'); return h.offsetParent !== null && h.textContent")
        .await;
    assert!(hint.as_str().unwrap().contains("Sign in here"), "{hint}");
    assert_eq!(
        browser
            .js("const a = document.getElementById('portal-link'); return a.offsetParent !== null && [a.textContent, new URL(a.href).pathname]")
            .await,
        json!(["Sign in", "/portal/sign-in"]),
        "a button to the member sign-in page"
    );
    browser
        .screenshot(&format!("set-password-no-link-{backend:?}"))
        .await;
    browser.quit().await;
}
per_backend!(
    the_page_says_what_to_do_without_a_portal_address,
    super::without_a_portal_address
);

/// "I have a code": without a link, the member types their login and the short code staff
/// read out, and gets the same form.
async fn a_code_instead_of_the_link(backend: Backend) {
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
    let resp = app
        .gql(
            Some(&admin),
            "mutation($p: ID!) { issueCredentialsLink(profileId: $p) { shortCode } }",
            json!({ "p": id }),
        )
        .await;
    let short = resp["data"]["issueCredentialsLink"]["shortCode"]
        .as_str()
        .unwrap()
        .to_owned();
    browser.goto(&app.url("/portal/set-password")).await;
    browser
        .until("return !document.getElementById('code-form').hidden")
        .await;
    // A wrong code says so, in words.
    browser
        .type_into("#code-login", "maria@harbour.example")
        .await;
    browser.type_into("#code", "0000-0000-00").await;
    browser.click("#code-submit").await;
    let error = browser
        .until("const e = document.getElementById('code-error'); return !e.hidden && e.textContent")
        .await;
    assert!(error.as_str().unwrap().contains("wrong"), "{error}");
    browser.type_into("#code", &short.to_lowercase()).await;
    browser
        .screenshot(&format!("set-password-code-{backend:?}"))
        .await;
    browser.click("#code-submit").await;
    let login = browser
        .until("const f = document.getElementById('form'); return !f.hidden && document.getElementById('login').textContent")
        .await;
    assert_eq!(login, "maria@harbour.example");
    browser.type_into("#password", NEW_PASSWORD).await;
    browser.type_into("#confirm", NEW_PASSWORD).await;
    browser.click("#submit").await;
    browser
        .until("const e = document.getElementById('done'); return !e.hidden && e.textContent")
        .await;
    browser.quit().await;
    let resp = member_login(&app, "maria@harbour.example", NEW_PASSWORD).await;
    assert_eq!(resp["data"]["memberLogin"]["profile"]["id"], id, "{resp}");
}
per_backend!(
    a_member_uses_a_short_code_on_the_set_password_page,
    super::a_code_instead_of_the_link
);

/// A profile with neither a username nor an email address: the page asks for a username as
/// required, says why, refuses to go on without one, and then names it as the login.
async fn a_username_when_there_is_no_email(backend: Backend) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let id = app.create_profile(&admin, person("Ole", "Dal", None)).await;
    let token = crate::resets::issue_link(&app, &admin, &id).await;
    browser
        .goto(&app.url(&format!("/portal/set-password#token={token}")))
        .await;
    let label = browser
        .until("const f = document.getElementById('form'); return !f.hidden && document.getElementById('username-label').textContent")
        .await;
    assert_eq!(label, "Choose a username", "not optional");
    assert_eq!(
        browser
            .js("return document.getElementById('username').required")
            .await,
        true
    );
    for (width, height, name) in [(1280, 800, "wide"), (390, 844, "phone")] {
        browser.resize(width, height).await;
        browser
            .screenshot(&format!(
                "set-password-username-required-{name}-{backend:?}"
            ))
            .await;
    }
    browser.resize(1280, 800).await;
    browser.type_into("#password", NEW_PASSWORD).await;
    browser.type_into("#confirm", NEW_PASSWORD).await;
    browser.click("#submit").await;
    let error = browser
        .until("const e = document.getElementById('error'); return !e.hidden && e.textContent")
        .await;
    assert!(error.as_str().unwrap().contains("username"), "{error}");
    browser.type_into("#username", "oledal").await;
    browser.click("#submit").await;
    let done = browser
        .until("const e = document.getElementById('done'); return !e.hidden && e.textContent")
        .await;
    assert!(done.as_str().unwrap().contains("oledal"), "{done}");
    browser.quit().await;
    let resp = member_login(&app, "oledal", NEW_PASSWORD).await;
    assert_eq!(resp["data"]["memberLogin"]["profile"]["id"], id, "{resp}");
}
per_backend!(
    a_member_without_email_must_choose_a_username_on_the_page,
    super::a_username_when_there_is_no_email
);

/// `text` as an XPath string literal (quotes as the text needs them).
fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

/// The input a visible label names, as a member finds it: the label's text, not an id.
pub fn labelled(text: &str) -> String {
    format!(
        "const l = [...document.querySelectorAll('label')].find(l => l.offsetParent !== null && l.textContent.trim() === {text:?}); return l && l.control ? '#' + l.control.id : null"
    )
}

/// Forgot Login in the browser: the form by its labels, the same answer for any address, the
/// mail, and the way there from a link that no longer works. Screenshots at both sizes.
async fn forgot_login_in_a_browser(backend: Backend) {
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

    // From a link that no longer works, "Send me a new link" leads to the form.
    browser
        .goto(&app.url("/portal/set-password#token=no-such-token"))
        .await;
    let button = browser
        .until("const a = document.getElementById('new-link'); return a.offsetParent !== null && a.textContent")
        .await;
    assert_eq!(button, "Send me a new link");
    browser
        .screenshot(&format!("set-password-new-link-{backend:?}"))
        .await;
    browser.click("#new-link").await;
    browser
        .until("return location.pathname === '/portal/forgot' && document.getElementById('brand').textContent")
        .await;

    let email = browser.until(&labelled("Email address")).await;
    let email = email.as_str().unwrap().to_owned();
    assert_eq!(
        browser
            .js("return document.querySelector('#form button').textContent")
            .await,
        "Send me a link"
    );
    for (width, height, name) in [(1280, 800, "wide"), (390, 844, "phone")] {
        browser.resize(width, height).await;
        assert_eq!(
            browser
                .js("return document.documentElement.scrollWidth <= window.innerWidth")
                .await,
            true,
            "nothing wider than the screen at {width}"
        );
        browser
            .screenshot(&format!("forgot-form-{name}-{backend:?}"))
            .await;
    }
    browser.resize(1280, 800).await;

    // An address that is not one says so, in words, next to the field.
    browser.type_into(&email, "maria").await;
    browser.click("#form button").await;
    let error = browser
        .until("const e = document.getElementById('error'); return !e.hidden && e.textContent")
        .await;
    assert!(error.as_str().unwrap().contains("email address"), "{error}");

    browser.type_into(&email, "maria@harbour.example").await;
    browser.click("#form button").await;
    let sent = browser
        .until("const s = document.getElementById('sent'); return !s.hidden && s.textContent")
        .await;
    assert!(
        sent.as_str().unwrap().contains("maria@harbour.example"),
        "{sent}"
    );
    for (width, height, name) in [(1280, 800, "wide"), (390, 844, "phone")] {
        browser.resize(width, height).await;
        browser
            .screenshot(&format!("forgot-sent-{name}-{backend:?}"))
            .await;
    }
    browser.resize(1280, 800).await;

    // The mail's link opens the set-password page for Maria.
    let link = links(&nth_mail(&app, 1).await)[0].clone();
    browser
        .goto(&link.replace("https://members.example.org", &app.url("")))
        .await;
    let login = browser
        .until("const f = document.getElementById('form'); return !f.hidden && document.getElementById('login').textContent")
        .await;
    assert_eq!(login, "maria@harbour.example");

    // An address nobody uses gets the very same answer.
    browser.goto(&app.url("/portal/forgot")).await;
    let email = browser.until(&labelled("Email address")).await;
    browser
        .type_into(email.as_str().unwrap(), "nobody@harbour.example")
        .await;
    browser.click("#form button").await;
    let unknown = browser
        .until("const s = document.getElementById('sent'); return !s.hidden && s.textContent")
        .await;
    assert_eq!(
        unknown
            .as_str()
            .unwrap()
            .replace("nobody@harbour.example", "X"),
        sent.as_str().unwrap().replace("maria@harbour.example", "X"),
        "the same answer for an unknown address"
    );
    browser.quit().await;
}
per_backend!(
    a_member_asks_for_a_new_link_on_the_forgot_login_page,
    super::forgot_login_in_a_browser
);
