//! The staff second factor on both databases: enrolment with an authenticator app, sign-in
//! through the challenge, replay refusal, recovery codes, wrong codes toward the lockout,
//! the required-factor setting and an administrator's reset. Codes are computed here from
//! the otpauth URI, as an app would, against the app's manual clock.

use chrono::Duration;
use memberkey::domain::{Clock, ManualClock, Right};
use serde_json::{Value, json};
use totp_rs::TOTP;

use crate::helpers::{Backend, TestApp, code, per_backend, spawn_app_with_clock_and};
use crate::ws::WsClient;

const PASSWORD: &str = "correct horse battery staple";
pub const LOGIN: &str = "mutation($u: String!, $p: String!) { staffLogin(username: $u, password: $p) { token secondFactorSetupRequired staffUser { secondFactorEnabled } } }";
pub const VERIFY: &str = "mutation($c: String!, $k: String!) { staffVerifySecondFactor(challenge: $c, code: $k) { token staffUser { username secondFactorEnabled } } }";
const ENROLL: &str =
    "mutation { enrollStaffSecondFactor { enrollment { otpauthUri qrSvg secret } } }";
const CONFIRM: &str = "mutation($k: String!) { confirmStaffSecondFactor(code: $k) { recoveryCodes staffUser { secondFactorEnabled } } }";

pub fn code_at(app: &TOTP, clock: &ManualClock) -> String {
    app.generate(clock.now().timestamp() as u64)
}

/// Enrols `token`'s user; returns the app (its secret) and the recovery codes.
pub async fn enrol(app: &TestApp, clock: &ManualClock, token: &str) -> (TOTP, Vec<String>) {
    // Enrolment needs step-up; the user has no second factor yet, so the password proves it.
    app.step_up(token, None).await;
    let resp = app.gql(Some(token), ENROLL, json!({})).await;
    let e = &resp["data"]["enrollStaffSecondFactor"]["enrollment"];
    let uri = e["otpauthUri"].as_str().unwrap_or_else(|| panic!("{resp}"));
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains("issuer=Harbour"), "{uri}");
    assert!(e["qrSvg"].as_str().unwrap().contains("<svg"));
    let totp = TOTP::from_url(uri).expect("an app reads the URI");
    assert_eq!(totp.get_secret_base32(), e["secret"]);
    let resp = app
        .gql(Some(token), CONFIRM, json!({ "k": code_at(&totp, clock) }))
        .await;
    let done = &resp["data"]["confirmStaffSecondFactor"];
    assert_eq!(done["staffUser"]["secondFactorEnabled"], true, "{resp}");
    let codes: Vec<String> = done["recoveryCodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    (totp, codes)
}

/// Signs in with the password; returns the challenge of SECOND_FACTOR_REQUIRED.
pub async fn challenge(app: &TestApp, username: &str) -> String {
    let resp = app
        .gql(None, LOGIN, json!({ "u": username, "p": PASSWORD }))
        .await;
    assert_eq!(code(&resp), "SECOND_FACTOR_REQUIRED", "{resp}");
    assert!(resp["data"].is_null(), "no token without the code: {resp}");
    resp["errors"][0]["extensions"]["challenge"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub async fn verify(app: &TestApp, challenge: &str, code_: &str) -> Value {
    app.gql(None, VERIFY, json!({ "c": challenge, "k": code_ }))
        .await
}

async fn audit_count(app: &TestApp, admin: &str, action: &str) -> u64 {
    let resp = app
        .gql(
            Some(admin),
            "query($a: String) { auditEvents(action: $a) { totalCount } }",
            json!({ "a": action }),
        )
        .await;
    resp["data"]["auditEvents"]["totalCount"]
        .as_u64()
        .unwrap_or_else(|| panic!("{resp}"))
}

async fn enrolment_and_sign_in(backend: Backend) {
    let (app, clock) = spawn_app_with_clock_and(backend, |c| c.lockout_threshold = 4).await;
    let admin = app.admin().await;
    let token = app.staff_with("clerk", &[Right::ManageProfiles]).await;
    // A wrong code does not confirm; the enrolment waits.
    app.step_up(&token, None).await;
    let resp = app.gql(Some(&token), ENROLL, json!({})).await;
    let uri = resp["data"]["enrollStaffSecondFactor"]["enrollment"]["otpauthUri"]
        .as_str()
        .unwrap()
        .to_owned();
    let wrong = app
        .gql(Some(&token), CONFIRM, json!({ "k": "000000" }))
        .await;
    let right = TOTP::from_url(&uri).unwrap();
    if code_at(&right, &clock) != "000000" {
        assert_eq!(code(&wrong), "BAD_USER_INPUT", "{wrong}");
        assert_eq!(wrong["errors"][0]["extensions"]["field"], "code");
    }
    let (totp, recovery) = enrol(&app, &clock, &token).await;
    assert_eq!(
        audit_count(&app, &admin, "STAFF_SECOND_FACTOR_ENROLLED").await,
        1
    );
    // Existing sessions go on; the next sign-in asks for a code.
    let me = app
        .gql(
            Some(&token),
            "{ viewer { secondFactorEnabled } }",
            json!({}),
        )
        .await;
    assert_eq!(me["data"]["viewer"]["secondFactorEnabled"], true, "{me}");
    clock.advance(Duration::seconds(30));
    let c = challenge(&app, "clerk").await;
    let now_code = code_at(&totp, &clock);
    let ok = verify(&app, &c, &now_code).await;
    let session = ok["data"]["staffVerifySecondFactor"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{ok}"))
        .to_owned();
    let me = app
        .gql(Some(&session), "{ viewer { username } }", json!({}))
        .await;
    assert_eq!(me["data"]["viewer"]["username"], "clerk");
    // The same code again, even with a fresh challenge, is a replay.
    let c2 = challenge(&app, "clerk").await;
    assert_eq!(code(&verify(&app, &c2, &now_code).await), "INVALID_LOGIN");
    // So is the code of the step before (still within the drift window).
    let earlier = totp.generate((clock.now().timestamp() - 30) as u64);
    assert_eq!(code(&verify(&app, &c2, &earlier).await), "INVALID_LOGIN");
    // The next step's code works.
    clock.advance(Duration::seconds(30));
    let next = verify(&app, &c2, &code_at(&totp, &clock)).await;
    assert!(
        next["data"]["staffVerifySecondFactor"]["token"].is_string(),
        "{next}"
    );

    // A recovery code works once, whatever the case and dashes.
    let c3 = challenge(&app, "clerk").await;
    let typed = recovery[0].to_lowercase().replace('-', " ");
    let used = verify(&app, &c3, &typed).await;
    assert!(
        used["data"]["staffVerifySecondFactor"]["token"].is_string(),
        "{used}"
    );
    assert_eq!(
        code(&verify(&app, &c3, &recovery[0]).await),
        "INVALID_LOGIN"
    );
    assert_eq!(
        audit_count(&app, &admin, "STAFF_RECOVERY_CODE_USED").await,
        1
    );

    // A forged or expired challenge is refused as such.
    assert_eq!(
        code(&verify(&app, "not-a-challenge", "123456").await),
        "INVALID_TOKEN"
    );
    let c4 = challenge(&app, "clerk").await;
    clock.advance(Duration::minutes(6));
    assert_eq!(
        code(&verify(&app, &c4, &code_at(&totp, &clock)).await),
        "TOKEN_EXPIRED"
    );

    // Wrong codes count toward the staff lockout: at the threshold even a right code fails
    // until the lock ends.
    let c5 = challenge(&app, "clerk").await;
    for _ in 0..4 {
        assert_eq!(code(&verify(&app, &c5, "999999").await), "INVALID_LOGIN");
    }
    clock.advance(Duration::seconds(30));
    assert_eq!(
        code(&verify(&app, &c5, &code_at(&totp, &clock)).await),
        "INVALID_LOGIN",
        "locked"
    );
    assert!(audit_count(&app, &admin, "STAFF_SECOND_FACTOR_FAILED").await >= 4);
    clock.advance(Duration::minutes(16));
    let c6 = challenge(&app, "clerk").await;
    let back = verify(&app, &c6, &code_at(&totp, &clock)).await;
    assert!(
        back["data"]["staffVerifySecondFactor"]["token"].is_string(),
        "{back}"
    );
}
per_backend!(
    staff_enrol_an_authenticator_and_sign_in_with_its_codes,
    super::enrolment_and_sign_in
);

async fn required_and_reset(backend: Backend) {
    let (app, clock) = spawn_app_with_clock_and(backend, |c| {
        c.staff_require_second_factor = true;
    })
    .await;
    let admin = app.admin().await;
    enrol(&app, &clock, &admin).await;
    let clerk = app.staff_with("clerk", &[Right::ManageProfiles]).await;
    // Signed in without a factor: the session can only set one up.
    let resp = app
        .gql(None, LOGIN, json!({ "u": "clerk", "p": PASSWORD }))
        .await;
    assert_eq!(
        resp["data"]["staffLogin"]["secondFactorSetupRequired"], true,
        "{resp}"
    );
    let profiles = "{ profiles(first: 1) { totalCount } }";
    assert_eq!(
        code(&app.gql(Some(&clerk), profiles, json!({})).await),
        "SECOND_FACTOR_SETUP_REQUIRED"
    );
    let mut ws = WsClient::connect(&app, Some(&clerk)).await;
    assert_eq!(
        code(&ws.run(profiles, json!({})).await.unwrap()),
        "SECOND_FACTOR_SETUP_REQUIRED"
    );
    let viewer = app
        .gql(Some(&clerk), "{ viewer { username } }", json!({}))
        .await;
    assert_eq!(viewer["data"]["viewer"]["username"], "clerk", "{viewer}");
    let (totp, _) = enrol(&app, &clock, &clerk).await;
    // Set up: the same session may now do its work.
    let ok = app.gql(Some(&clerk), profiles, json!({})).await;
    assert!(ok["errors"].is_null(), "{ok}");

    // MANAGE_STAFF resets it (a lost phone); the clerk signs in with the password alone and
    // must enrol again.
    let users = app
        .gql(Some(&admin), "{ staffUsers { id username } }", json!({}))
        .await;
    let clerk_id = users["data"]["staffUsers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "clerk")
        .unwrap()["id"]
        .clone();
    let reset = "mutation($id: ID!) { resetStaffSecondFactor(staffUserId: $id) { staffUser { secondFactorEnabled } } }";
    assert_eq!(
        code(
            &app.gql(Some(&clerk), reset, json!({ "id": clerk_id }))
                .await
        ),
        "FORBIDDEN",
        "only MANAGE_STAFF"
    );
    let mut ws = WsClient::connect(&app, Some(&clerk)).await;
    assert_eq!(
        code(&ws.run(reset, json!({ "id": clerk_id })).await.unwrap()),
        "FORBIDDEN"
    );
    let done = app
        .gql(Some(&admin), reset, json!({ "id": clerk_id }))
        .await;
    assert_eq!(
        done["data"]["resetStaffSecondFactor"]["staffUser"]["secondFactorEnabled"], false,
        "{done}"
    );
    assert_eq!(
        audit_count(&app, &admin, "STAFF_SECOND_FACTOR_RESET").await,
        1
    );
    let again = app
        .gql(Some(&admin), reset, json!({ "id": clerk_id }))
        .await;
    assert_eq!(code(&again), "CONFLICT", "{again}");
    let resp = app
        .gql(None, LOGIN, json!({ "u": "clerk", "p": PASSWORD }))
        .await;
    assert_eq!(
        resp["data"]["staffLogin"]["secondFactorSetupRequired"], true,
        "{resp}"
    );
    // The old app's codes are worth nothing now.
    clock.advance(Duration::seconds(30));
    let token = resp["data"]["staffLogin"]["token"].as_str().unwrap();
    let stale = app
        .gql(Some(token), CONFIRM, json!({ "k": code_at(&totp, &clock) }))
        .await;
    assert_eq!(code(&stale), "CONFLICT", "nothing to confirm: {stale}");
}
per_backend!(
    a_required_second_factor_holds_the_session_until_set_up,
    super::required_and_reset
);

const REGENERATE: &str = "mutation($k: String!) { regenerateStaffRecoveryCodes(code: $k) { recoveryCodes staffUser { secondFactorEnabled } } }";

/// New recovery codes for the app's current code: the old ones stop working, the new ones
/// work once, the code that asked is spent, and an account without a factor is told to set
/// one up.
async fn regenerated_codes(backend: Backend) {
    let (app, clock) = spawn_app_with_clock_and(backend, |_| {}).await;
    let admin = app.admin().await;
    let token = app.staff_with("clerk", &[Right::ManageProfiles]).await;
    assert_eq!(
        code(
            &app.gql(Some(&token), REGENERATE, json!({ "k": "123456" }))
                .await
        ),
        "CONFLICT",
        "no second factor yet"
    );
    let (totp, old) = enrol(&app, &clock, &token).await;
    // The code that confirmed the enrolment is spent already.
    let resp = app
        .gql(
            Some(&token),
            REGENERATE,
            json!({ "k": code_at(&totp, &clock) }),
        )
        .await;
    assert_eq!(code(&resp), "BAD_USER_INPUT", "{resp}");
    clock.advance(Duration::seconds(30));
    let now_code = code_at(&totp, &clock);
    let resp = app
        .gql(Some(&token), REGENERATE, json!({ "k": now_code }))
        .await;
    let fresh: Vec<String> = resp["data"]["regenerateStaffRecoveryCodes"]["recoveryCodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{resp}"))
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fresh.len(), 10);
    assert!(fresh.iter().all(|c| !old.contains(c)));
    // The same code again is a replay.
    let again = app
        .gql(Some(&token), REGENERATE, json!({ "k": now_code }))
        .await;
    assert_eq!(code(&again), "BAD_USER_INPUT", "{again}");

    let c = challenge(&app, "clerk").await;
    assert_eq!(
        code(&verify(&app, &c, &old[0]).await),
        "INVALID_LOGIN",
        "an old code is dead"
    );
    let c = challenge(&app, "clerk").await;
    let resp = verify(&app, &c, &fresh[0]).await;
    assert!(
        resp["data"]["staffVerifySecondFactor"]["token"].is_string(),
        "{resp}"
    );
    assert_eq!(
        audit_count(&app, &admin, "STAFF_RECOVERY_CODES_REGENERATED").await,
        1
    );
}
per_backend!(staff_replace_their_recovery_codes, super::regenerated_codes);
