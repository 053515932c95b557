//! Sign-in follows membership (issue 12): a password staff typed must be changed before the
//! session can do anything else, members outside `MEMBERKEY_SIGN_IN_STATUSES` cannot sign in,
//! and a credential can be switched off without removing it. Every refusal answers exactly as
//! a wrong password does. Also the association's time zone in mail.

use memberkey::domain::{Clock, MemberStatus, Right};
use serde_json::{Value, json};

use crate::credentials::set;
use crate::helpers::{
    Backend, TestApp, both, code, per_backend, person, spawn_app_with, spawn_app_with_clock_and,
};
use crate::mass::{SEND, create_ok, wait_done};
use crate::member_login::member_login;
use crate::resets::{NEW_PASSWORD, links, nth_mail, send_reset};
use crate::ws::WsClient;

const PW: &str = "violet tram under the bridge";
const LOGIN_MUST: &str = "mutation($l: String!, $p: String!) { memberLogin(login: $l, password: $p) { token mustChangePassword } }";
const ME: &str = "{ me { username mustChangePassword } }";
const CHANGE: &str = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { changedAt } }";
const ENABLE: &str = "mutation($id: ID!, $on: Boolean!) { setPortalCredentialsEnabled(profileId: $id, enabled: $on) { credential { enabled disabledAt username passwordIsSet } } }";

/// A profile with a username and a staff-set password; returns its ID.
async fn member_with_password(app: &TestApp, admin: &str, input: Value) -> String {
    let id = app
        .create_profile(
            admin,
            person("Maria", "Jensen", Some("maria@harbour.example")),
        )
        .await;
    let mut fields = json!({ "profileId": id, "username": "mariaj", "password": PW });
    fields
        .as_object_mut()
        .unwrap()
        .extend(input.as_object().unwrap().clone());
    let resp = set(app, admin, fields).await;
    assert!(resp["errors"].is_null(), "{resp}");
    id
}

/// The error a wrong password gets, for comparing refusals with.
async fn wrong_password_error(app: &TestApp) -> Value {
    let resp = member_login(app, "mariaj", "not the password at all").await;
    assert_eq!(code(&resp), "INVALID_LOGIN");
    resp["errors"][0].clone()
}

both!(
    a_staff_set_password_must_be_changed_before_anything_else,
    |app| async move {
        let admin = app.admin().await;
        member_with_password(&app, &admin, json!({})).await;

        // A password staff typed is known to someone else: by default it must be replaced.
        let resp = app
            .gql(None, LOGIN_MUST, json!({ "l": "mariaj", "p": PW }))
            .await;
        assert_eq!(
            resp["data"]["memberLogin"]["mustChangePassword"], true,
            "{resp}"
        );
        let token = resp["data"]["memberLogin"]["token"]
            .as_str()
            .unwrap()
            .to_owned();

        // Reading `me` works; anything else is PASSWORD_CHANGE_REQUIRED, over HTTP and the socket,
        // whether it is open to everyone (requestPasswordReset) or guarded (profiles).
        let me = app.gql(Some(&token), ME, json!({})).await;
        assert_eq!(me["data"]["me"]["mustChangePassword"], true, "{me}");
        let others = [
            "mutation { requestPasswordReset(email: \"maria@harbour.example\") { accepted } }",
            "{ profiles(first: 1) { totalCount } }",
            "{ checkSetPasswordToken(token: \"x\") { state } }",
        ];
        for query in others {
            let resp = app.gql(Some(&token), query, json!({})).await;
            assert_eq!(code(&resp), "PASSWORD_CHANGE_REQUIRED", "{query}: {resp}");
            let mut ws = WsClient::connect(&app, Some(&token)).await;
            let resp = ws.run(query, json!({})).await.expect("the socket answers");
            assert_eq!(
                code(&resp),
                "PASSWORD_CHANGE_REQUIRED",
                "socket, {query}: {resp}"
            );
        }
        // An alias does not hide the field.
        let resp = app
            .gql(
                Some(&token),
                "{ x: checkSetPasswordToken(token: \"x\") { state } }",
                json!({}),
            )
            .await;
        assert_eq!(code(&resp), "PASSWORD_CHANGE_REQUIRED", "{resp}");
        // Nothing was queued by the refused Forgot Login.
        app.app.drain_mail().await.unwrap();
        assert!(app.mail.sent().is_empty(), "{:?}", app.mail.sent());

        // The change itself is allowed, and lifts the restriction on this very session.
        let resp = app
            .gql(Some(&token), CHANGE, json!({ "c": PW, "n": NEW_PASSWORD }))
            .await;
        assert!(
            resp["data"]["changePassword"]["changedAt"].is_string(),
            "{resp}"
        );
        let me = app.gql(Some(&token), ME, json!({})).await;
        assert_eq!(me["data"]["me"]["mustChangePassword"], false, "{me}");
        let resp = app
            .gql(
                Some(&token),
                "{ checkSetPasswordToken(token: \"x\") { state } }",
                json!({}),
            )
            .await;
        assert!(resp["errors"].is_null(), "{resp}");
        let resp = app
            .gql(
                None,
                LOGIN_MUST,
                json!({ "l": "mariaj", "p": NEW_PASSWORD }),
            )
            .await;
        assert_eq!(
            resp["data"]["memberLogin"]["mustChangePassword"], false,
            "{resp}"
        );
    }
);

both!(
    staff_can_untick_must_change_and_it_holds_at_once,
    |app| async move {
        let admin = app.admin().await;
        let id = member_with_password(&app, &admin, json!({ "mustChangePassword": false })).await;
        let resp = app
            .gql(None, LOGIN_MUST, json!({ "l": "mariaj", "p": PW }))
            .await;
        assert_eq!(
            resp["data"]["memberLogin"]["mustChangePassword"], false,
            "{resp}"
        );
        let token = resp["data"]["memberLogin"]["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let query = "{ checkSetPasswordToken(token: \"x\") { state } }";
        assert!(app.gql(Some(&token), query, json!({})).await["errors"].is_null());

        // Ticked later, it applies to the open session at its next request; unticked, it lifts.
        let resp = set(
            &app,
            &admin,
            json!({ "profileId": id, "mustChangePassword": true }),
        )
        .await;
        assert_eq!(
            resp["data"]["setPortalCredentials"]["credential"]["mustChangePassword"],
            true
        );
        assert_eq!(
            code(&app.gql(Some(&token), query, json!({})).await),
            "PASSWORD_CHANGE_REQUIRED"
        );
        set(
            &app,
            &admin,
            json!({ "profileId": id, "mustChangePassword": false }),
        )
        .await;
        assert!(app.gql(Some(&token), query, json!({})).await["errors"].is_null());
    }
);

async fn sign_in_follows_membership(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.sign_in_statuses = Some(vec![MemberStatus::Active]);
    })
    .await;
    let admin = app.admin().await;
    let id = member_with_password(&app, &admin, json!({ "mustChangePassword": false })).await;
    let status = |s: &str| json!({ "id": id, "i": { "memberStatus": s } });
    let update = "mutation($id: ID!, $i: UpdateProfileInput!) { updateProfile(id: $id, input: $i) { profile { memberStatus } } }";
    // A wrong password while the member may sign in: the answer to compare with, and one
    // failure counted.
    let wrong = wrong_password_error(&app).await;
    let resp = app.gql(Some(&admin), update, status("LAPSED")).await;
    assert_eq!(
        resp["data"]["updateProfile"]["profile"]["memberStatus"], "LAPSED",
        "{resp}"
    );

    let before = app.app.services.hasher.evaluations();
    let resp = member_login(&app, "mariaj", PW).await;
    assert_eq!(
        resp["errors"][0], wrong,
        "a lapsed member gets exactly the answer of a wrong password: {resp}"
    );
    assert_eq!(
        app.app.services.hasher.evaluations() - before,
        1,
        "one Argon2 evaluation, as for a wrong password"
    );
    // Refused by the rule, the attempt does not count towards the lockout.
    let failures: i32 = app
        .sql_value(
            "SELECT failed_login_count FROM portal_credentials",
            "failed_login_count",
        )
        .await;
    assert_eq!(failures, 1, "only the earlier wrong password counted");
    // Staff see why in the audit trail.
    let audit = app
        .gql(
            Some(&admin),
            "query($id: ID) { auditEvents(first: 20, profileId: $id) { edges { node { action detail } } } }",
            json!({ "id": id }),
        )
        .await;
    assert!(
        audit.to_string().contains("MEMBERSHIP_STATUS"),
        "the refusal is audited with its reason: {audit}"
    );

    // Active again, the same password signs in.
    app.gql(Some(&admin), update, status("ACTIVE")).await;
    let resp = member_login(&app, "mariaj", PW).await;
    assert!(resp["data"]["memberLogin"]["token"].is_string(), "{resp}");
}
per_backend!(
    members_outside_the_sign_in_statuses_get_a_wrong_password_answer,
    super::sign_in_follows_membership
);

both!(
    a_switched_off_credential_cannot_sign_in_and_keeps_its_password,
    |app| async move {
        let admin = app.admin().await;
        let id = member_with_password(&app, &admin, json!({ "mustChangePassword": false })).await;
        let session = member_login(&app, "mariaj", PW).await["data"]["memberLogin"]["token"]
            .as_str()
            .unwrap()
            .to_owned();

        // Only MANAGE_PORTAL_CREDENTIALS may switch it, over HTTP and the socket alike.
        let clerk = app.staff_with("clerk", &[Right::ManageProfiles]).await;
        let off = json!({ "id": id, "on": false });
        assert_eq!(
            code(&app.gql(Some(&clerk), ENABLE, off.clone()).await),
            "FORBIDDEN"
        );
        let mut ws = WsClient::connect(&app, Some(&clerk)).await;
        assert_eq!(
            code(&ws.run(ENABLE, off.clone()).await.unwrap()),
            "FORBIDDEN"
        );

        let resp = app.gql(Some(&admin), ENABLE, off.clone()).await;
        let cred = &resp["data"]["setPortalCredentialsEnabled"]["credential"];
        assert_eq!(cred["enabled"], false, "{resp}");
        assert!(cred["disabledAt"].is_string(), "{resp}");
        assert_eq!(cred["username"], "mariaj", "the username stays");
        assert_eq!(cred["passwordIsSet"], true, "the password stays");
        // Switching off again changes nothing and records nothing more.
        let again = app.gql(Some(&admin), ENABLE, off).await;
        assert_eq!(
            again["data"]["setPortalCredentialsEnabled"]["credential"]["disabledAt"],
            cred["disabledAt"]
        );

        // The open session ended, and the right password answers like a wrong one.
        assert_eq!(
            code(&app.gql(Some(&session), ME, json!({})).await),
            "UNAUTHENTICATED"
        );
        let wrong = wrong_password_error(&app).await;
        let before = app.app.services.hasher.evaluations();
        let resp = member_login(&app, "mariaj", PW).await;
        assert_eq!(resp["errors"][0], wrong, "{resp}");
        assert_eq!(app.app.services.hasher.evaluations() - before, 1);
        let resp = member_login(&app, "maria@harbour.example", PW).await;
        assert_eq!(resp["errors"][0], wrong, "by email too: {resp}");

        // Switched on, the kept password works again.
        let mut ws = WsClient::connect(&app, Some(&admin)).await;
        let resp = ws
            .run(ENABLE, json!({ "id": id, "on": true }))
            .await
            .unwrap();
        assert_eq!(
            resp["data"]["setPortalCredentialsEnabled"]["credential"]["enabled"], true,
            "{resp}"
        );
        let resp = member_login(&app, "mariaj", PW).await;
        assert!(resp["data"]["memberLogin"]["token"].is_string(), "{resp}");

        let audit = app
            .gql(
                Some(&admin),
                "{ auditEvents(first: 20) { edges { node { action } } } }",
                json!({}),
            )
            .await
            .to_string();
        assert_eq!(
            audit.matches("\"CREDENTIALS_DISABLED\"").count(),
            1,
            "{audit}"
        );
        assert_eq!(
            audit.matches("\"CREDENTIALS_ENABLED\"").count(),
            1,
            "{audit}"
        );

        // A profile without credentials has nothing to switch.
        let other = app.create_profile(&admin, person("Bo", "Berg", None)).await;
        let resp = app
            .gql(Some(&admin), ENABLE, json!({ "id": other, "on": false }))
            .await;
        assert_eq!(code(&resp), "NOT_FOUND");
    }
);

async fn times_in_the_association_zone(backend: Backend) {
    let zone = chrono_tz::Tz::Europe__Copenhagen;
    let (app, clock) = spawn_app_with_clock_and(backend, |c| c.time_zone = zone).await;
    let admin = app.admin().await;
    let id = app
        .create_profile(
            &admin,
            person("Maria", "Jensen", Some("maria@harbour.example")),
        )
        .await;
    let settings = app
        .gql(
            None,
            "{ portalSettings { timeZone portalUrl associationName } }",
            json!({}),
        )
        .await;
    assert_eq!(
        settings["data"]["portalSettings"],
        json!({ "timeZone": "Europe/Copenhagen", "portalUrl": null, "associationName": "Harbour Chamber" })
    );

    // The reset email states the expiry in Copenhagen time, with the zone named.
    assert!(send_reset(&app, &admin, &id).await["errors"].is_null());
    let mail = nth_mail(&app, 1).await;
    use chrono::TimeZone;
    let expires = clock.now() + chrono::Duration::hours(24);
    let local = zone.from_utc_datetime(&expires.naive_utc());
    let zone_name = local.format("%Z").to_string();
    assert!(zone_name == "CET" || zone_name == "CEST", "{zone_name}");
    let expected = format!(
        "This link works until {} {zone_name}.",
        local.format("%-d %B %Y, %H:%M")
    );
    assert!(
        mail.text.lines().any(|l| l == expected),
        "{expected:?} in {}",
        mail.text
    );
    assert!(mail.html.contains(&expected), "{}", mail.html);

    // The credentials field states its link's lifetime, and {{portal_link_expires}} places it.
    let mass = create_ok(
        &app,
        &admin,
        json!({
            "subject": "Your portal login",
            "html": "<p>Dear {{first_name}}, {{portal_login_credentials_link}}</p><p>Set it before {{portal_link_expires}}.</p>",
            "linkValidity": 48,
            "recipients": { "profileIds": [id] }
        }),
    )
    .await;
    let preview = app
        .gql(
            Some(&admin),
            "query($id: ID!, $p: ID) { previewMassCommunication(id: $id, profileId: $p) { html text } }",
            json!({ "id": mass, "p": id }),
        )
        .await;
    let in_two_days =
        memberkey::domain::human_time(clock.now() + chrono::Duration::hours(48), zone);
    let text = preview["data"]["previewMassCommunication"]["text"]
        .as_str()
        .unwrap();
    assert!(
        text.contains(&format!("This link works until {in_two_days}.")),
        "{in_two_days}: {text}"
    );
    app.gql(Some(&admin), SEND, json!({ "id": mass })).await;
    wait_done(&app, &admin, &mass).await;
    let copy = nth_mail(&app, 2).await;
    assert_eq!(links(&copy).len(), 1, "{}", copy.text);
    assert!(
        copy.html.contains(&format!("Set it before {in_two_days}.")),
        "{in_two_days}: {}",
        copy.html
    );
    assert!(
        copy.html
            .contains(&format!("<br>This link works until {in_two_days}.")),
        "{}",
        copy.html
    );
    assert_eq!(
        copy.html.matches("<p").count(),
        2,
        "no nested paragraphs: {}",
        copy.html
    );

    // Placing the date without the link it belongs to is refused when saved, naming the field.
    let resp = crate::mass::create(
        &app,
        &admin,
        json!({ "subject": "Hi", "html": "<p>Before {{portal_link_expires}}</p>", "recipients": { "profileIds": [id] } }),
    )
    .await;
    assert_eq!(code(&resp), "BAD_USER_INPUT", "{resp}");
    assert_eq!(
        resp["errors"][0]["extensions"]["field"], "input.html",
        "{resp}"
    );
}
per_backend!(
    mail_states_times_in_the_association_zone,
    super::times_in_the_association_zone
);

/// A switched-off credential gets no set-password link by any road: its unused links die,
/// staff are told to switch it on first (`CONFLICT`), and Forgot Login queues nothing while
/// answering as always. Switched on, links work again.
async fn switched_off_gets_no_links(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let admin = app.admin().await;
    let id = member_with_password(&app, &admin, json!({ "mustChangePassword": false })).await;
    let earlier = crate::resets::issue_link(&app, &admin, &id).await;
    assert_eq!(crate::resets::check(&app, &earlier).await["state"], "VALID");

    let off = app
        .gql(Some(&admin), ENABLE, json!({ "id": id, "on": false }))
        .await;
    assert_eq!(
        off["data"]["setPortalCredentialsEnabled"]["credential"]["enabled"], false,
        "{off}"
    );
    assert_eq!(
        crate::resets::check(&app, &earlier).await["state"],
        "INVALID"
    );
    assert_eq!(
        code(&crate::resets::set_with_token(&app, &earlier, NEW_PASSWORD).await),
        "INVALID_TOKEN"
    );
    assert_eq!(code(&send_reset(&app, &admin, &id).await), "CONFLICT");
    let link = app
        .gql(
            Some(&admin),
            "mutation($id: ID!) { issueCredentialsLink(profileId: $id) { url } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code(&link), "CONFLICT", "{link}");
    let queued = "SELECT COUNT(*) AS n FROM outbound_emails";
    let before = app.sql_value::<i64>(queued, "n").await;
    let resp = crate::resets::forgot(&app, "maria@harbour.example").await;
    assert_eq!(
        resp["data"]["requestPasswordReset"]["accepted"], true,
        "the usual answer: {resp}"
    );
    assert_eq!(
        app.sql_value::<i64>(queued, "n").await,
        before,
        "nothing was queued"
    );

    let on = app
        .gql(Some(&admin), ENABLE, json!({ "id": id, "on": true }))
        .await;
    assert!(on["errors"].is_null(), "{on}");
    let fresh = crate::resets::issue_link(&app, &admin, &id).await;
    assert!(crate::resets::set_with_token(&app, &fresh, NEW_PASSWORD).await["errors"].is_null());
    let resp = member_login(&app, "mariaj", NEW_PASSWORD).await;
    assert!(resp["data"]["memberLogin"]["token"].is_string(), "{resp}");
}
per_backend!(
    a_switched_off_credential_gets_no_links,
    super::switched_off_gets_no_links
);

/// When staff move a member to a status that may not sign in, the member's open sessions end
/// at once (not at their idle or absolute lifetime).
async fn status_change_ends_sessions(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.sign_in_statuses = Some(vec![MemberStatus::Active]);
    })
    .await;
    let admin = app.admin().await;
    let id = member_with_password(&app, &admin, json!({ "mustChangePassword": false })).await;
    let resp = member_login(&app, "mariaj", PW).await;
    let session = resp["data"]["memberLogin"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(app.gql(Some(&session), ME, json!({})).await["errors"].is_null());
    let update = "mutation($id: ID!, $i: UpdateProfileInput!) { updateProfile(id: $id, input: $i) { profile { memberStatus } } }";
    // A change between statuses that may sign in keeps the session.
    let renamed = app
        .gql(
            Some(&admin),
            update,
            json!({ "id": id, "i": { "firstName": "Marie" } }),
        )
        .await;
    assert!(renamed["errors"].is_null(), "{renamed}");
    assert!(app.gql(Some(&session), ME, json!({})).await["errors"].is_null());
    let lapsed = app
        .gql(
            Some(&admin),
            update,
            json!({ "id": id, "i": { "memberStatus": "LAPSED" } }),
        )
        .await;
    assert!(lapsed["errors"].is_null(), "{lapsed}");
    assert_eq!(
        code(&app.gql(Some(&session), ME, json!({})).await),
        "UNAUTHENTICATED"
    );
}
per_backend!(
    a_status_that_may_not_sign_in_ends_open_sessions,
    super::status_change_ends_sessions
);
