//! Password reset emails, "Forgot Login", set-password tokens and staff-issued links.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use memberkey::domain::{Clock, Right};
use memberkey::mail::OutgoingEmail;
use serde_json::{Value, json};

use crate::credentials::set;
use crate::helpers::{
    Backend, Mail, TestApp, both, code, org, per_backend, person, spawn_app_with_clock, spawn_full,
};
use crate::member_login::member_login;

pub const NEW_PASSWORD: &str = "lanterns over the quiet harbour";
const WAIT: StdDuration = StdDuration::from_secs(20);

/// Every set-password link in a message's plain-text part.
pub fn links(mail: &OutgoingEmail) -> Vec<String> {
    mail.text
        .split_whitespace()
        .filter(|w| w.contains("#token="))
        .map(str::to_owned)
        .collect()
}

pub fn token_of(link: &str) -> String {
    link.split_once("#token=").unwrap().1.to_owned()
}

/// Waits for the n-th message (1-based) and returns it.
pub async fn nth_mail(app: &TestApp, n: usize) -> OutgoingEmail {
    let sent = app.mail.wait_for(n, WAIT).await;
    assert!(
        sent.len() >= n,
        "expected {n} messages, got {}: {sent:#?}",
        sent.len()
    );
    sent[n - 1].clone()
}

pub async fn send_reset(app: &TestApp, staff: &str, id: &str) -> Value {
    app.gql(
        Some(staff),
        "mutation($id: ID!) { sendPasswordResetEmail(profileId: $id) { sentTo } }",
        json!({ "id": id }),
    )
    .await
}

/// Staff issue a one-time link for profile `id`; returns the link's token.
pub async fn issue_link(app: &TestApp, staff: &str, id: &str) -> String {
    let resp = app
        .gql(
            Some(staff),
            "mutation($id: ID!) { issueCredentialsLink(profileId: $id) { url } }",
            json!({ "id": id }),
        )
        .await;
    token_of(
        resp["data"]["issueCredentialsLink"]["url"]
            .as_str()
            .unwrap_or_else(|| panic!("{resp}")),
    )
}

pub async fn check(app: &TestApp, token: &str) -> Value {
    let resp = app
        .gql(
            None,
            "query($t: String!) { checkSetPasswordToken(token: $t) { state login expiresAt hasUsername } }",
            json!({ "t": token }),
        )
        .await;
    resp["data"]["checkSetPasswordToken"].clone()
}

pub async fn set_with_token(app: &TestApp, token: &str, password: &str) -> Value {
    app.gql(
        None,
        "mutation($t: String!, $p: String!) { setPasswordWithToken(token: $t, password: $p) { login } }",
        json!({ "t": token, "p": password }),
    )
    .await
}

pub async fn forgot(app: &TestApp, email: &str) -> Value {
    app.gql(
        None,
        "mutation($e: String!) { requestPasswordReset(email: $e) { accepted } }",
        json!({ "e": email }),
    )
    .await
}

fn expires(v: &Value) -> DateTime<Utc> {
    v["expiresAt"].as_str().unwrap().parse().unwrap()
}

both!(
    staff_reset_email_leads_to_a_new_password,
    |app| async move {
        let staff = app.admin().await;
        let id = app
            .create_profile(
                &staff,
                person("Maria", "Jensen", Some("maria@harbour.example")),
            )
            .await;
        // No username: the email is the login.
        let resp = send_reset(&app, &staff, &id).await;
        assert_eq!(
            resp["data"]["sendPasswordResetEmail"]["sentTo"], "maria@harbour.example",
            "{resp}"
        );
        assert!(
            !resp.to_string().contains("token"),
            "the response carries no link: {resp}"
        );

        let mail = nth_mail(&app, 1).await;
        assert_eq!(mail.to, "maria@harbour.example");
        assert!(mail.subject.contains("Harbour Chamber"), "{}", mail.subject);
        assert!(
            mail.text.contains("Login: maria@harbour.example"),
            "{}",
            mail.text
        );
        let found = links(&mail);
        assert_eq!(found.len(), 1, "{}", mail.text);
        assert!(found[0].starts_with("https://members.example.org/portal/set-password#token="));
        assert_eq!(mail.html.matches("<a ").count(), 1);
        let token = token_of(&found[0]);

        let state = check(&app, &token).await;
        assert_eq!(state["state"], "VALID");
        assert_eq!(state["login"], "maria@harbour.example");
        assert_eq!(state["hasUsername"], false);
        let ttl = expires(&state) - Utc::now();
        assert!(
            ttl > Duration::hours(23) && ttl <= Duration::hours(24),
            "staff links last 24 h: {ttl}"
        );

        // A refused password leaves the link usable.
        assert_eq!(
            code(&set_with_token(&app, &token, "password1234").await),
            "WEAK_PASSWORD"
        );
        assert_eq!(check(&app, &token).await["state"], "VALID");

        let resp = set_with_token(&app, &token, NEW_PASSWORD).await;
        assert!(
            resp["data"]["setPasswordWithToken"]["login"].is_string(),
            "{resp}"
        );
        assert_eq!(check(&app, &token).await["state"], "USED");
        assert_eq!(
            code(&set_with_token(&app, &token, "another fine long passphrase").await),
            "INVALID_TOKEN"
        );

        let login = member_login(&app, "maria@harbour.example", NEW_PASSWORD).await;
        assert_eq!(login["data"]["memberLogin"]["profile"]["id"], id, "{login}");

        // The notice that the password changed carries no link and no password.
        let notice = nth_mail(&app, 2).await;
        assert!(notice.subject.contains("changed"), "{}", notice.subject);
        assert!(links(&notice).is_empty());
        assert!(!notice.text.contains(NEW_PASSWORD) && !notice.html.contains(NEW_PASSWORD));
    }
);

both!(reset_needs_an_email_and_the_right, |app| async move {
    let admin = app.admin().await;
    let no_email = app.create_profile(&admin, org("Quiet Ltd", None)).await;
    assert_eq!(
        code(&send_reset(&app, &admin, &no_email).await),
        "NO_EMAIL_ADDRESS"
    );
    assert_eq!(code(&send_reset(&app, &admin, "999999").await), "NOT_FOUND");
    assert_eq!(
        code(&send_reset(&app, &admin, "2q289i").await),
        "INVALID_PROFILE_ID"
    );
    let clerk = app.staff_with("clerk", &[Right::ManageProfiles]).await;
    let resp = send_reset(&app, &clerk, &no_email).await;
    assert_eq!(code(&resp), "FORBIDDEN");
    assert_eq!(
        resp["errors"][0]["extensions"]["requiredRight"],
        "SEND_PASSWORD_RESETS"
    );
    let resp = app
        .gql(
            Some(&clerk),
            "mutation($id: ID!) { issueCredentialsLink(profileId: $id) { url } }",
            json!({ "id": no_email }),
        )
        .await;
    assert_eq!(code(&resp), "FORBIDDEN");
});

both!(
    forgot_login_lists_every_profile_sharing_the_address,
    |app| async move {
        let admin = app.admin().await;
        let _company = app
            .create_profile(
                &admin,
                org("Harbour Supplies", Some("office@harbour.example")),
            )
            .await;
        let person_id = app
            .create_profile(
                &admin,
                person("Ole", "Hansen", Some("Office@Harbour.example")),
            )
            .await;
        set(
            &app,
            &admin,
            json!({ "profileId": person_id, "username": "olehansen" }),
        )
        .await;

        // A differently spelled address still reaches the stored one, and only it.
        assert_eq!(
            forgot(&app, "OFFICE@harbour.EXAMPLE").await["data"]["requestPasswordReset"]["accepted"],
            true
        );
        let mail = nth_mail(&app, 1).await;
        assert_eq!(mail.to, "office@harbour.example");
        let found = links(&mail);
        assert_eq!(found.len(), 2, "{}", mail.text);
        assert_ne!(found[0], found[1]);
        assert!(
            mail.text.contains("Login: office@harbour.example"),
            "{}",
            mail.text
        );
        assert!(mail.text.contains("Login: olehansen"), "{}", mail.text);
        let first = check(&app, &token_of(&found[0])).await;
        let ttl = expires(&first) - Utc::now();
        assert!(
            ttl > Duration::minutes(58) && ttl <= Duration::minutes(60),
            "member links last 60 min: {ttl}"
        );
        // Each link is for its own profile's login.
        let second = check(&app, &token_of(&found[1])).await;
        let mut logins = vec![first["login"].clone(), second["login"].clone()];
        logins.sort_by_key(|v| v.to_string());
        assert_eq!(
            logins,
            [json!("office@harbour.example"), json!("olehansen")]
        );
    }
);

both!(
    forgot_login_answers_the_same_for_unknown_addresses,
    |app| async move {
        let admin = app.admin().await;
        app.create_profile(&admin, person("Kim", "Berg", Some("kim@example.org")))
            .await;
        let known = forgot(&app, "kim@example.org").await;
        let unknown = forgot(&app, "nobody@example.org").await;
        assert_eq!(known, unknown);
        assert_eq!(known["data"]["requestPasswordReset"]["accepted"], true);
        // Only the known address queues a row (an unknown one stores nothing).
        nth_mail(&app, 1).await;
        let queued: i64 = app
            .sql_value("SELECT COUNT(*) AS n FROM outbound_emails", "n")
            .await;
        assert_eq!(queued, 1);
        assert_eq!(app.mail.sent().len(), 1);
        assert_eq!(
            code(&forgot(&app, "not an address").await),
            "BAD_USER_INPUT"
        );
    }
);

both!(forgot_login_is_limited_per_address, |app| async move {
    let admin = app.admin().await;
    app.create_profile(&admin, person("Kim", "Berg", Some("kim@example.org")))
        .await;
    for _ in 0..5 {
        assert_eq!(
            forgot(&app, "kim@example.org").await["data"]["requestPasswordReset"]["accepted"],
            true
        );
    }
    let queued: i64 = app
        .sql_value("SELECT COUNT(*) AS n FROM outbound_emails", "n")
        .await;
    assert_eq!(queued, 3, "at most 3 per address per hour");
    // Only the newest link of the three works.
    let sent = app.mail.wait_for(3, WAIT).await;
    assert_eq!(sent.len(), 3);
    let states: Vec<Value> = futures_util::future::join_all(sent.iter().map(|m| {
        let token = token_of(&links(m)[0]);
        let app = &app;
        async move { check(app, &token).await["state"].clone() }
    }))
    .await;
    assert_eq!(
        states.iter().filter(|s| *s == "VALID").count(),
        1,
        "{states:?}"
    );
});

async fn links_expire(backend: Backend) {
    let (app, clock) = spawn_app_with_clock(backend).await;
    let admin = app.admin().await;
    app.create_profile(&admin, person("Kim", "Berg", Some("kim@example.org")))
        .await;
    forgot(&app, "kim@example.org").await;
    let token = token_of(&links(&nth_mail(&app, 1).await)[0]);
    let minted = expires(&check(&app, &token).await);
    assert_eq!(minted - clock.now(), Duration::minutes(60));
    clock.advance(Duration::minutes(60) - Duration::seconds(1));
    assert_eq!(check(&app, &token).await["state"], "VALID");
    clock.advance(Duration::seconds(1));
    assert_eq!(check(&app, &token).await["state"], "EXPIRED");
    assert_eq!(
        code(&set_with_token(&app, &token, NEW_PASSWORD).await),
        "TOKEN_EXPIRED"
    );
    clock.advance(Duration::seconds(1));
    assert_eq!(
        code(&set_with_token(&app, &token, NEW_PASSWORD).await),
        "TOKEN_EXPIRED"
    );
}
per_backend!(member_links_expire_after_sixty_minutes, super::links_expire);

both!(twenty_concurrent_uses_give_one_success, |app| async move {
    let admin = app.admin().await;
    let id = app
        .create_profile(&admin, person("Lea", "Nord", Some("lea@example.org")))
        .await;
    send_reset(&app, &admin, &id).await;
    let token = token_of(&links(&nth_mail(&app, 1).await)[0]);
    let passwords: Vec<String> = (0..20)
        .map(|i| format!("winner number {i} of the race"))
        .collect();
    let results =
        futures_util::future::join_all(passwords.iter().map(|p| set_with_token(&app, &token, p)))
            .await;
    let winners: Vec<usize> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r["data"]["setPasswordWithToken"]["login"].is_string())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(winners.len(), 1, "{results:#?}");
    for r in &results {
        if !r["data"]["setPasswordWithToken"]["login"].is_string() {
            assert_eq!(code(r), "INVALID_TOKEN", "{r}");
        }
    }
    let winner = &passwords[winners[0]];
    assert!(member_login(&app, "lea@example.org", winner).await["data"]["memberLogin"].is_object());
    let loser = &passwords[(winners[0] + 1) % 20];
    assert_eq!(
        code(&member_login(&app, "lea@example.org", loser).await),
        "INVALID_LOGIN"
    );
    // Exactly one "password changed" notice.
    app.mail.wait_for(2, WAIT).await;
    app.app.drain_mail().await.unwrap();
    let sent = app.mail.sent();
    let notices = app
        .mail
        .sent()
        .iter()
        .filter(|m| m.subject.contains("changed"))
        .count();
    assert_eq!(notices, 1, "{sent:#?}");
});

both!(
    a_new_link_or_password_retires_older_links,
    |app| async move {
        let admin = app.admin().await;
        let id = app
            .create_profile(&admin, person("Per", "Lund", Some("per@example.org")))
            .await;
        send_reset(&app, &admin, &id).await;
        let first = token_of(&links(&nth_mail(&app, 1).await)[0]);
        send_reset(&app, &admin, &id).await;
        let second = token_of(&links(&nth_mail(&app, 2).await)[0]);
        assert_eq!(check(&app, &first).await["state"], "INVALID");
        assert_eq!(
            code(&set_with_token(&app, &first, NEW_PASSWORD).await),
            "INVALID_TOKEN"
        );
        assert_eq!(check(&app, &second).await["state"], "VALID");
        // Staff set a password by hand: the outstanding link dies too.
        set(
            &app,
            &admin,
            json!({ "profileId": id, "password": "a staff assigned passphrase" }),
        )
        .await;
        assert_eq!(check(&app, &second).await["state"], "INVALID");
        // A link issued by staff follows the same rules.
        let resp = app
            .gql(
                Some(&admin),
                "mutation($id: ID!) { issueCredentialsLink(profileId: $id) { url expiresAt } }",
                json!({ "id": id }),
            )
            .await;
        let url = resp["data"]["issueCredentialsLink"]["url"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            url.starts_with("https://members.example.org/portal/set-password#token="),
            "{url}"
        );
        let token = token_of(&url);
        assert_eq!(check(&app, &token).await["state"], "VALID");
        assert!(
            set_with_token(&app, &token, NEW_PASSWORD).await["data"]["setPasswordWithToken"]["login"]
            .is_string());
        let audit = app
            .gql(
                Some(&admin),
                "query($id: ID!) { auditEvents(profileId: $id, first: 50) { edges { node { action } } } }",
                json!({ "id": id }),
            )
            .await;
        let actions = audit.to_string();
        for action in [
            "RESET_EMAIL_QUEUED",
            "CREDENTIALS_LINK_ISSUED",
            "PASSWORD_SET_WITH_LINK",
        ] {
            assert!(actions.contains(action), "{action} missing: {audit}");
        }
        assert!(!actions.contains(&token), "no token in the audit log");
    }
);

both!(
    a_reset_clears_the_lock_and_ends_sessions,
    |app| async move {
        let admin = app.admin().await;
        let id = app
            .create_profile(&admin, person("Eva", "Holm", Some("eva@example.org")))
            .await;
        set(&app, &admin, json!({ "profileId": id, "username": "evaholm", "password": "the first long passphrase" })).await;
        let session =
            member_login(&app, "evaholm", "the first long passphrase").await["data"]["memberLogin"]
                ["token"]
                .as_str()
                .unwrap()
                .to_owned();
        // An attacker locks the account.
        for _ in 0..10 {
            member_login(&app, "evaholm", "guessing wrongly again").await;
        }
        assert_eq!(
            code(&member_login(&app, "evaholm", "the first long passphrase").await),
            "INVALID_LOGIN"
        );
        // The member can still get a link, and it unlocks the account.
        forgot(&app, "eva@example.org").await;
        let token = token_of(&links(&nth_mail(&app, 1).await)[0]);
        assert!(
            set_with_token(&app, &token, NEW_PASSWORD).await["data"]["setPasswordWithToken"]["login"]
            .is_string());
        let resp = member_login(&app, "evaholm", NEW_PASSWORD).await;
        assert!(resp["data"]["memberLogin"].is_object(), "{resp}");
        let me = app
            .gql(Some(&session), "{ me { username } }", json!({}))
            .await;
        assert_eq!(code(&me), "UNAUTHENTICATED", "the old session ended: {me}");
    }
);

both!(links_ignore_spoofed_host_headers, |app| async move {
    let admin = app.admin().await;
    app.create_profile(&admin, person("Ada", "Moe", Some("ada@example.org")))
        .await;
    let resp = app
        .client
        .post(app.url("/graphql"))
        .header("host", "evil.example")
        .header("x-forwarded-host", "evil.example")
        .header("forwarded", "host=evil.example;proto=http")
        .json(&json!({ "query": "mutation { requestPasswordReset(email: \"ada@example.org\") { accepted } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mail = nth_mail(&app, 1).await;
    for link in links(&mail) {
        assert!(link.starts_with("https://members.example.org/"), "{link}");
    }
    assert!(!mail.html.contains("evil.example") && !mail.text.contains("evil.example"));
});

async fn spa_links(backend: Backend) {
    let app = spawn_full(
        backend,
        |c| c.mail.set_password_url = Some("https://portal.chamber.example/set-password".into()),
        Arc::new(memberkey::domain::SystemClock),
        Mail::Memory,
    )
    .await;
    let admin = app.admin().await;
    let id = app
        .create_profile(&admin, person("Bo", "Ek", Some("bo@example.org")))
        .await;
    send_reset(&app, &admin, &id).await;
    let link = links(&nth_mail(&app, 1).await)[0].clone();
    assert!(
        link.starts_with("https://portal.chamber.example/set-password#token="),
        "{link}"
    );
}
per_backend!(links_point_at_a_configured_spa, super::spa_links);

both!(checking_or_fetching_a_link_uses_nothing, |app| async move {
    let admin = app.admin().await;
    let id = app
        .create_profile(&admin, person("Al", "Vik", Some("al@example.org")))
        .await;
    send_reset(&app, &admin, &id).await;
    let link = links(&nth_mail(&app, 1).await)[0].clone();
    let token = token_of(&link);
    let page = link.replace("https://members.example.org", &app.url(""));
    for _ in 0..10 {
        let resp = app.client.get(&page).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let resp = app.client.head(&page).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(check(&app, &token).await["state"], "VALID");
    }
    assert_eq!(
        code(&set_with_token(&app, &token, "short").await),
        "WEAK_PASSWORD"
    );
    assert!(
        set_with_token(&app, &token, NEW_PASSWORD).await["data"]["setPasswordWithToken"]["login"]
            .is_string()
    );
    // Well-shaped but unknown tokens of both lengths (issued now, and before the time led).
    for bogus in [
        "",
        "abc",
        &"A".repeat(43),
        &"A".repeat(51),
        &"é".repeat(43),
        &"é".repeat(51),
    ] {
        assert_eq!(check(&app, bogus).await["state"], "INVALID");
        assert_eq!(
            code(&set_with_token(&app, bogus, NEW_PASSWORD).await),
            "INVALID_TOKEN"
        );
    }
});

both!(the_member_pages_are_locked_down, |app| async move {
    for page in ["/portal/set-password", "/portal/forgot"] {
        let resp = app.client.get(app.url(page)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{page}");
        let h = resp.headers().clone();
        assert_eq!(h["referrer-policy"], "no-referrer", "{page}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'")
                && csp.contains("script-src 'self'")
                && csp.contains("frame-ancestors 'none'"),
            "{page}: {csp}"
        );
        assert_eq!(h["x-frame-options"], "DENY", "{page}");
        let body = resp.text().await.unwrap();
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{page}: no third-party assets"
        );
    }
    for asset in [
        "/portal/set-password.js",
        "/portal/portal.css",
        "/portal/forgot.js",
        "/portal/api.js",
    ] {
        let resp = app.client.get(app.url(asset)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{asset}");
        let text = resp.text().await.unwrap();
        assert!(
            !text.contains("https://") && !text.contains("http://"),
            "{asset} loads nothing foreign"
        );
    }
});

// A profile with neither a username nor an email address: the link must make the member
// choose a username, or they could never sign in. Until they do, the link stays usable.
both!(
    a_link_for_a_profile_without_email_or_username_requires_a_username,
    |app| async move {
        let admin = app.admin().await;
        let id = app.create_profile(&admin, person("Ole", "Dal", None)).await;
        let token = issue_link(&app, &admin, &id).await;
        let state = check(&app, &token).await;
        assert_eq!(state["state"], "VALID", "{state}");
        assert!(state["login"].is_null(), "no login yet: {state}");
        assert_eq!(state["hasUsername"], false);

        let without = set_with_token(&app, &token, NEW_PASSWORD).await;
        assert_eq!(code(&without), "BAD_USER_INPUT", "{without}");
        assert_eq!(without["errors"][0]["extensions"]["field"], "username");
        assert_eq!(
            check(&app, &token).await["state"],
            "VALID",
            "the link still works"
        );

        let with = app
            .gql(
                None,
                "mutation($t: String!, $p: String!, $u: String) { setPasswordWithToken(token: $t, password: $p, username: $u) { login } }",
                json!({ "t": token, "p": NEW_PASSWORD, "u": "oledal" }),
            )
            .await;
        assert_eq!(
            with["data"]["setPasswordWithToken"]["login"], "oledal",
            "{with}"
        );
        let resp = member_login(&app, "oledal", NEW_PASSWORD).await;
        assert_eq!(resp["data"]["memberLogin"]["profile"]["id"], id, "{resp}");
    }
);
