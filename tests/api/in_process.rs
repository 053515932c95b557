//! The in-process tier: guards and resolvers run on the schema directly, with no HTTP server
//! in the way, and answer exactly as they do over HTTP.

use memberkey::domain::Right;
use serde_json::json;

use crate::helpers::{both, code, person};

const PROFILES: &str = "{ profiles(first: 1) { totalCount } }";
const CREATE_STAFF: &str = "mutation { createStaffUser(input: { username: \"intruder\", password: \"a long enough password\", rights: [MANAGE_STAFF] }) { staffUser { id } } }";

both!(guards_answer_in_process_as_over_http, |app| async move {
    // No caller: every staff field is UNAUTHENTICATED.
    let anonymous = app.execute(None, PROFILES, json!({})).await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED", "{anonymous}");
    assert_eq!(
        code(&app.gql(None, PROFILES, json!({})).await),
        "UNAUTHENTICATED"
    );

    // A clerk who may manage profiles, and nothing else.
    let clerk = app.staff_with("clerk", &[Right::ManageProfiles]).await;
    app.create_profile(&clerk, person("Ann", "Lee", Some("ann@example.org")))
        .await;
    let seen = app.execute(Some(&clerk), PROFILES, json!({})).await;
    assert_eq!(seen["data"]["profiles"]["totalCount"], 1, "{seen}");
    let refused = app.execute(Some(&clerk), CREATE_STAFF, json!({})).await;
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    assert_eq!(
        code(&app.gql(Some(&clerk), CREATE_STAFF, json!({})).await),
        "FORBIDDEN"
    );

    // After sign-out the same token is nobody, in-process too.
    let out = app
        .gql(
            Some(&clerk),
            "mutation { staffLogout { signedOut } }",
            json!({}),
        )
        .await;
    assert!(out["errors"].is_null(), "{out}");
    let after = app.execute(Some(&clerk), PROFILES, json!({})).await;
    assert_eq!(code(&after), "UNAUTHENTICATED", "{after}");
});
