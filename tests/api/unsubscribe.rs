//! NEWS and SERVICE communications, and one-click unsubscribe (RFC 8058): a NEWS mail
//! carries the member's own signed link and the List-Unsubscribe headers; a POST to it opts
//! the member out at once, a GET (what mail scanners do) never does, and a guessed or altered
//! token changes nothing. Opted-out members are skipped by NEWS, never by SERVICE mail or
//! resets. Staff see when and how, and clear it (audited).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, both, code, person};
use crate::mass::{SEND, create_ok, view, wait_done};

const PREFIX: &str = "https://members.example.org";
const NEWS: &str =
    "<p>Dear {{first_name}}, the summer fair is on 4 July.</p><p>{{unsubscribe_link}}</p>";
const OPT_OUT: &str =
    "query($p: ID!) { profile(id: $p) { emailOptOut emailOptOutAt emailOptOutVia } }";

async fn news_to(app: &TestApp, admin: &str, ids: &[&str]) -> String {
    let mass = create_ok(
        app,
        admin,
        json!({ "subject": "Summer fair", "html": NEWS, "purpose": "NEWS", "recipients": { "profileIds": ids } }),
    )
    .await;
    let resp = app.gql(Some(admin), SEND, json!({ "id": mass })).await;
    assert!(resp["errors"].is_null(), "{resp}");
    wait_done(app, admin, &mass).await;
    app.app.drain_mail().await.unwrap();
    mass
}

/// The path of the unsubscribe page a mail to `to` points at, from its header field.
fn unsubscribe_path(app: &TestApp, to: &str) -> String {
    let mail = app
        .mail
        .sent()
        .into_iter()
        .rev()
        .find(|m| m.to == to)
        .unwrap_or_else(|| panic!("no mail to {to}"));
    let url = mail
        .unsubscribe
        .clone()
        .expect("a NEWS mail names its unsubscribe page");
    assert!(mail.html.contains(&url), "the body links the same page");
    url.strip_prefix(PREFIX).unwrap().to_owned()
}

async fn post(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    // As a mail provider's server sends it: no cookie, no Origin, no form token.
    let resp = app
        .client
        .post(app.url(path))
        .form(form)
        .send()
        .await
        .unwrap();
    (resp.status(), resp.text().await.unwrap())
}

async fn get(app: &TestApp, path: &str) -> (StatusCode, String) {
    let resp = app.client.get(app.url(path)).send().await.unwrap();
    (resp.status(), resp.text().await.unwrap())
}

/// What a mail provider does with a delivered NEWS message: finds its RFC 8058 headers and
/// POSTs `List-Unsubscribe=One-Click` to the https address. Checks the member `profile` is
/// then opted out by one click, and returns the (unfolded) `List-Unsubscribe` line.
pub(crate) async fn one_click_from_raw(
    app: &TestApp,
    admin: &str,
    raw: &str,
    profile: &str,
) -> String {
    let flat = raw.replace("\r\n ", " ").replace("\r\n\t", " ");
    let prefix = format!("List-Unsubscribe: <{PREFIX}/portal/unsubscribe/");
    let header = flat
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no List-Unsubscribe to our page in {raw}"))
        .to_owned();
    assert!(
        flat.lines()
            .any(|l| l == "List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{raw}"
    );
    let token = header[prefix.len()..].split('>').next().unwrap();
    let (status, _) = post(
        app,
        &format!("/portal/unsubscribe/{token}"),
        &[("List-Unsubscribe", "One-Click")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let state = opt_out_of(app, admin, profile).await;
    assert_eq!(
        (&state["emailOptOut"], &state["emailOptOutVia"]),
        (&json!(true), &json!("ONE_CLICK"))
    );
    header
}

async fn opt_out_of(app: &TestApp, admin: &str, id: &str) -> Value {
    let resp = app.gql(Some(admin), OPT_OUT, json!({ "p": id })).await;
    assert!(resp["errors"].is_null(), "{resp}");
    resp["data"]["profile"].clone()
}

both!(
    news_can_be_left_in_one_click_and_service_mail_still_comes,
    |app| async move {
        let admin = app.admin().await;
        let lea = app
            .create_profile(&admin, person("Lea", "Berg", Some("lea@example.org")))
            .await;
        let ole = app
            .create_profile(&admin, person("Ole", "Dahl", Some("ole@example.org")))
            .await;
        let create = |html: &'static str, purpose: &'static str| {
            let app = &app;
            let admin = admin.clone();
            let ids = json!([lea.clone()]);
            async move {
                app.gql(
                    Some(&admin),
                    "mutation($i: CreateMassCommunicationInput!) { createMassCommunication(input: $i) { massCommunication { id } } }",
                    json!({ "i": { "subject": "S", "html": html, "purpose": purpose, "recipients": { "profileIds": ids } } }),
                )
                .await
            }
        };
        // NEWS must let people leave, and may not hand out credentials; SERVICE has nothing
        // to leave.
        for (html, purpose) in [
            ("<p>No way out</p>", "NEWS"),
            (
                "<p>{{unsubscribe_link}} {{portal_login_credentials_link}}</p>",
                "NEWS",
            ),
            ("<p>{{unsubscribe_link}}</p>", "SERVICE"),
        ] {
            let refused = create(html, purpose).await;
            assert_eq!(code(&refused), "BAD_USER_INPUT", "{purpose}: {refused}");
            assert_eq!(refused["errors"][0]["extensions"]["field"], "input.html");
        }

        news_to(&app, &admin, &[&lea, &ole]).await;
        let page = unsubscribe_path(&app, "lea@example.org");
        assert!(
            page.starts_with(&format!("/portal/unsubscribe/{lea}-")),
            "{page}"
        );
        assert_ne!(page, unsubscribe_path(&app, "ole@example.org"));

        // A GET (a mail scanner following the link) shows a button and changes nothing.
        let (status, body) = get(&app, &page).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            body.contains("Unsubscribe from news?") && body.contains("l…@example.org"),
            "{body}"
        );
        assert!(
            !body.contains("lea@example.org"),
            "the page shows the address masked"
        );
        assert_eq!(opt_out_of(&app, &admin, &lea).await["emailOptOut"], false);

        // Altered or guessed tokens do nothing, by GET or POST.
        let mut altered = page.clone();
        let last = altered.pop().unwrap();
        altered.push(if last == 'A' { 'B' } else { 'A' });
        let other = page.replacen(&format!("/{lea}-"), &format!("/{ole}-"), 1);
        for bad in [
            altered.as_str(),
            other.as_str(),
            "/portal/unsubscribe/1-AAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert_eq!(get(&app, bad).await.0, StatusCode::NOT_FOUND, "{bad}");
            let (status, body) = post(&app, bad, &[("List-Unsubscribe", "One-Click")]).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{bad}");
            assert!(body.contains("not valid"), "{body}");
        }
        assert_eq!(opt_out_of(&app, &admin, &lea).await["emailOptOut"], false);
        assert_eq!(opt_out_of(&app, &admin, &ole).await["emailOptOut"], false);
        assert_eq!(app.audited("MASS_MAIL_OPTED_OUT").await, 0);

        // The one-click POST opts her out at once, without sign-in; a second changes nothing.
        // RFC 8058 allows the body as multipart/form-data too, as some providers send it.
        let boundary = "memberkey-test-boundary";
        let resp = app
            .client
            .post(app.url(&page))
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--{boundary}--\r\n"
            ))
            .send()
            .await
            .unwrap();
        let (status, body) = (resp.status(), resp.text().await.unwrap());
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains("You are unsubscribed"), "{body}");
        let state = opt_out_of(&app, &admin, &lea).await;
        assert_eq!(state["emailOptOut"], true, "{state}");
        assert_eq!(state["emailOptOutVia"], "ONE_CLICK", "{state}");
        assert!(state["emailOptOutAt"].is_string(), "{state}");
        assert_eq!(
            post(&app, &page, &[("List-Unsubscribe", "One-Click")])
                .await
                .0,
            StatusCode::OK
        );
        assert_eq!(app.audited("MASS_MAIL_OPTED_OUT").await, 1);
        let (_, body) = get(&app, &page).await;
        assert!(body.contains("already unsubscribed"), "{body}");

        // The next NEWS skips her; SERVICE mail and a reset still reach her.
        let next = news_to(&app, &admin, &[&lea, &ole]).await;
        let v = view(&app, &admin, &next).await;
        let skipped: Vec<&Value> = v["deliveries"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["node"])
            .filter(|n| n["skipReason"] == "OPTED_OUT")
            .collect();
        assert_eq!(skipped.len(), 1, "{v}");
        assert_eq!(skipped[0]["email"], "lea@example.org");
        assert_eq!(v["counts"]["sent"], 1, "{v}");
        let service = create_ok(
            &app,
            &admin,
            json!({ "subject": "Your login", "html": "<p>{{portal_login_credentials_link}}</p>", "recipients": { "profileIds": [lea.clone()] } }),
        )
        .await;
        app.gql(Some(&admin), SEND, json!({ "id": service })).await;
        let done = wait_done(&app, &admin, &service).await;
        assert_eq!(done["counts"]["sent"], 1, "{done}");
        let service_mail = app.mail.sent().into_iter().last().unwrap();
        assert_eq!(
            service_mail.unsubscribe, None,
            "SERVICE mail has no unsubscribe header"
        );
        let reset = app
            .gql(
                Some(&admin),
                "mutation($p: ID!) { sendPasswordResetEmail(profileId: $p) { sentTo } }",
                json!({ "p": lea }),
            )
            .await;
        assert!(reset["errors"].is_null(), "{reset}");

        // Staff clear it at her request (audited); then the page's own button opts her out
        // again, recorded as the page.
        let clear = app
            .gql(
                Some(&admin),
                "mutation($id: ID!) { updateProfile(id: $id, input: { emailOptOut: false }) { profile { emailOptOut emailOptOutAt emailOptOutVia } } }",
                json!({ "id": lea }),
            )
            .await;
        assert_eq!(
            clear["data"]["updateProfile"]["profile"],
            json!({ "emailOptOut": false, "emailOptOutAt": null, "emailOptOutVia": null }),
            "{clear}"
        );
        let cleared: i64 = app
            .sql_value(
                &format!("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'PROFILE_UPDATED' AND profile_id = {lea} AND detail LIKE '%emailOptOut%'"),
                "n",
            )
            .await;
        assert_eq!(cleared, 1);
        let (status, _) = post(
            &app,
            &page,
            &[("List-Unsubscribe", "One-Click"), ("from", "page")],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            opt_out_of(&app, &admin, &lea).await["emailOptOutVia"],
            "UNSUBSCRIBE_PAGE"
        );
    }
);

/// The unsubscribe page in a browser, used by its visible words, at both sizes.
async fn unsubscribe_in_a_browser(backend: crate::helpers::Backend) {
    use crate::browser::Browser;
    use crate::member_pages_browser::{heading, snap};
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = crate::helpers::spawn_app(backend).await;
    let admin = app.admin().await;
    let lea = app
        .create_profile(&admin, person("Lea", "Berg", Some("lea@example.org")))
        .await;
    news_to(&app, &admin, &[&lea]).await;
    let page = unsubscribe_path(&app, "lea@example.org");
    browser.goto(&app.url(&page)).await;
    assert_eq!(heading(&browser).await, "Unsubscribe from news?");
    snap(&browser, backend, "unsubscribe").await;
    browser.click_text("Unsubscribe").await;
    browser
        .until("const h = document.querySelector('h1'); return h && h.textContent === 'You are unsubscribed'")
        .await;
    snap(&browser, backend, "unsubscribed").await;
    assert_eq!(
        opt_out_of(&app, &admin, &lea).await["emailOptOutVia"],
        "UNSUBSCRIBE_PAGE"
    );
    browser.quit().await;
}
crate::helpers::per_backend!(
    a_member_unsubscribes_on_the_page_in_a_browser,
    super::unsubscribe_in_a_browser
);
