//! The short code of a link for the phone, on both databases: its shape, redeeming it with
//! the login for a token that sets the password, one use, 5 wrong tries, 15 minutes, and its
//! death with the link.

use chrono::Duration;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, code, per_backend, person, spawn_app_with_clock_and};
use crate::resets::{check, set_with_token, token_of};

const ISSUE: &str = "mutation($p: ID!) { issueCredentialsLink(profileId: $p) { url expiresAt shortCode shortCodeExpiresAt } }";
const REDEEM: &str =
    "mutation($l: String!, $c: String!) { redeemSetPasswordCode(login: $l, code: $c) { token } }";

async fn issue(app: &TestApp, staff: &str, id: &str) -> Value {
    let resp = app.gql(Some(staff), ISSUE, json!({ "p": id })).await;
    resp["data"]["issueCredentialsLink"].clone()
}

async fn redeem(app: &TestApp, login: &str, c: &str) -> Value {
    app.gql(None, REDEEM, json!({ "l": login, "c": c })).await
}

async fn short_codes(backend: Backend) {
    let (app, clock) = spawn_app_with_clock_and(backend, |_| {}).await;
    let admin = app.admin().await;
    let id = app
        .create_profile(
            &admin,
            person("Jens", "Hansen", Some("jens@harbour.example")),
        )
        .await;
    let link = issue(&app, &admin, &id).await;
    let short = link["shortCode"].as_str().unwrap().to_owned();
    // Ten Crockford letters in three groups: about 50 bits.
    assert_eq!(short.len(), 12, "{short}");
    assert!(
        short
            .chars()
            .all(|c| c == '-' || "0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(c))
    );
    let issued =
        chrono::DateTime::parse_from_rfc3339(link["shortCodeExpiresAt"].as_str().unwrap()).unwrap();
    assert_eq!(issued.timestamp() - clock_now(&clock), 15 * 60);

    // Login plus code, typed loosely, give a token that opens the same form.
    let resp = redeem(
        &app,
        "JENS@harbour.example ",
        &short.to_lowercase().replace('-', ""),
    )
    .await;
    let token = resp["data"]["redeemSetPasswordCode"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{resp}"))
        .to_owned();
    let opened = check(&app, &token).await;
    assert_eq!(opened["state"], "VALID", "{opened}");
    assert_eq!(opened["login"], "jens@harbour.example");
    // The code works once, and the link it came with is spent too.
    assert_eq!(
        code(&redeem(&app, "jens@harbour.example", &short).await),
        "INVALID_TOKEN"
    );
    let link_token = token_of(link["url"].as_str().unwrap());
    assert_eq!(check(&app, &link_token).await["state"], "INVALID");
    let set = set_with_token(&app, &token, "Lighthouse-Keeper-Route-7").await;
    assert!(
        set["data"]["setPasswordWithToken"]["login"].is_string(),
        "{set}"
    );

    // Five wrong tries kill a code, even for the right one after.
    let link = issue(&app, &admin, &id).await;
    let short = link["shortCode"].as_str().unwrap().to_owned();
    for _ in 0..5 {
        let wrong = redeem(&app, "jens@harbour.example", "0000-0000-00").await;
        assert_eq!(code(&wrong), "INVALID_TOKEN", "{wrong}");
    }
    assert_eq!(
        code(&redeem(&app, "jens@harbour.example", &short).await),
        "INVALID_TOKEN"
    );
    // ...while the link itself still works: the code is the weaker secret.
    let link_token = token_of(link["url"].as_str().unwrap());
    assert_eq!(check(&app, &link_token).await["state"], "VALID");

    // After 15 minutes the code is dead; the link lives on.
    let link = issue(&app, &admin, &id).await;
    let short = link["shortCode"].as_str().unwrap().to_owned();
    clock.advance(Duration::minutes(16));
    assert_eq!(
        code(&redeem(&app, "jens@harbour.example", &short).await),
        "INVALID_TOKEN"
    );

    // A newer link retires the older one and its code; the username works as login too.
    app.gql(
        Some(&admin),
        "mutation($p: ID!) { setPortalCredentials(input: { profileId: $p, username: \"jensh\" }) { credential { username } } }",
        json!({ "p": id }),
    )
    .await;
    let first = issue(&app, &admin, &id).await;
    let second = issue(&app, &admin, &id).await;
    let c1 = first["shortCode"].as_str().unwrap();
    assert_eq!(code(&redeem(&app, "jensh", c1).await), "INVALID_TOKEN");
    let c2 = second["shortCode"].as_str().unwrap();
    // Another profile's login does not unlock this code.
    assert_eq!(
        code(&redeem(&app, "nobody@harbour.example", c2).await),
        "INVALID_TOKEN"
    );
    let ok = redeem(&app, "jensh", c2).await;
    assert!(
        ok["data"]["redeemSetPasswordCode"]["token"].is_string(),
        "{ok}"
    );
    let audit = app
        .gql(
            Some(&admin),
            "{ auditEvents(action: \"SHORT_CODE_REDEEMED\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(audit["data"]["auditEvents"]["totalCount"], 2, "{audit}");
}
per_backend!(
    a_short_code_stands_in_for_the_phone_link,
    super::short_codes
);

fn clock_now(clock: &memberkey::domain::ManualClock) -> i64 {
    use memberkey::domain::Clock;
    clock.now().timestamp()
}
