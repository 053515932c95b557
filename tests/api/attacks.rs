//! The outside attacks of issue 9, one test each, named for the attack. Every one ran against
//! the server as an attacker would: over HTTP and over the WebSocket.

use chrono::Duration;
use serde_json::{Value, json};

use crate::credentials;
use crate::helpers::{
    Backend, TestApp, both, code, per_backend, person, spawn_app_with, spawn_app_with_clock,
};
use crate::member_login::member_login;
use crate::resets::{self, forgot};
use crate::ws::WsClient;
use memberkey::domain::Right;

const CREATE: &str =
    "mutation($i: CreateProfileInput!) { createProfile(input: $i) { profile { id } } }";

async fn profile_count(app: &TestApp) -> i64 {
    app.sql_value::<i64>("SELECT COUNT(*) AS n FROM profiles", "n")
        .await
}

/// A socket that signed in as `token` can create a profile; after `end` it cannot, and closes
/// with `close_code`.
async fn socket_loses_its_powers(
    app: &TestApp,
    token: &str,
    end: impl AsyncFnOnce(),
    close_code: u16,
) {
    let mut ws = WsClient::connect(app, Some(token)).await;
    let made = ws
        .run(CREATE, json!({ "i": person("Ws", "Before", None) }))
        .await
        .expect("the socket answers");
    assert!(made["errors"].is_null(), "{made}");
    let before = profile_count(app).await;

    end().await;

    let refused = ws
        .run(CREATE, json!({ "i": person("Ws", "After", None) }))
        .await;
    match refused {
        Err(closed) => assert_eq!(closed.code, close_code, "{closed:?}"),
        Ok(answer) => panic!("the socket still answered: {answer}"),
    }
    assert_eq!(profile_count(app).await, before, "nothing was created");
}

both!(
    websocket_keeps_no_powers_after_staff_logout,
    |app| async move {
        let token = app.admin().await;
        socket_loses_its_powers(
            &app,
            &token,
            async || {
                let out = app
                    .gql(
                        Some(&token),
                        "mutation { staffLogout { signedOut } }",
                        json!({}),
                    )
                    .await;
                assert_eq!(out["data"]["staffLogout"]["signedOut"], true, "{out}");
            },
            4401,
        )
        .await;
    }
);

/// An editor's socket loses its powers when an administrator runs `mutation` on the editor.
async fn editor_socket_ends_after(app: &TestApp, mutation: &str, close_code: u16) {
    let admin = app.admin().await;
    let editor = app.staff_with("editor", &[Right::ManageProfiles]).await;
    let id = app.staff_id(&admin, "editor").await;
    socket_loses_its_powers(
        app,
        &editor,
        async || {
            let out = app.gql(Some(&admin), mutation, json!({ "id": id })).await;
            assert!(out["errors"].is_null(), "{out}");
        },
        close_code,
    )
    .await;
}

both!(
    websocket_keeps_no_powers_after_rights_are_removed,
    |app| async move {
        editor_socket_ends_after(
            &app,
            "mutation($id: ID!) { setStaffRights(staffUserId: $id, rights: []) { staffUser { rights } } }",
            4403,
        )
        .await;
    }
);

both!(
    websocket_keeps_no_powers_after_deactivation,
    |app| async move {
        editor_socket_ends_after(
            &app,
            "mutation($id: ID!) { deactivateStaffUser(staffUserId: $id) { staffUser { active } } }",
            4401,
        )
        .await;
    }
);

async fn idle_session(backend: Backend) {
    let (app, clock) = spawn_app_with_clock(backend).await;
    let token = app.admin().await;
    socket_loses_its_powers(
        &app,
        &token,
        async || clock.advance(Duration::minutes(61)),
        4401,
    )
    .await;
}
per_backend!(
    websocket_keeps_no_powers_after_the_session_idles_out,
    super::idle_session
);

async fn expired_session(backend: Backend) {
    let (app, clock) = spawn_app_with_clock(backend).await;
    let token = app.admin().await;
    let mut ws = WsClient::connect(&app, Some(&token)).await;
    // Busy all along, so never idle, until the 12-hour lifetime ends.
    for _ in 0..13 {
        clock.advance(Duration::minutes(55));
        let ok = ws.run("{ viewer { username } }", json!({})).await.unwrap();
        assert_eq!(ok["data"]["viewer"]["username"], "admin", "{ok}");
    }
    clock.advance(Duration::minutes(55));
    let closed = ws
        .run(CREATE, json!({ "i": person("Too", "Late", None) }))
        .await
        .expect_err("closed");
    assert_eq!(closed.code, 4401, "{closed:?}");
}
per_backend!(
    websocket_keeps_no_powers_after_the_session_expires,
    super::expired_session
);

async fn subscription_session_end(backend: Backend) {
    use crate::mass::{SEND, create_ok};
    // Slow sending keeps the subscription open long enough to end the session under it.
    let app = spawn_app_with(backend, |c| c.mail.max_send_rate = 2.0).await;
    let token = app.admin().await;
    let mut ids = Vec::new();
    for i in 0..40 {
        ids.push(
            app.create_profile(
                &token,
                person(
                    "S",
                    &format!("Sub{i}"),
                    Some(&format!("sub{i}@example.org")),
                ),
            )
            .await,
        );
    }
    let id = create_ok(
        &app,
        &token,
        json!({ "subject": "S", "html": "<p>{{first_name}}</p>", "recipients": { "profileIds": ids } }),
    )
    .await;
    let mut ws = WsClient::connect(&app, Some(&token)).await;
    app.gql(Some(&token), SEND, json!({ "id": id })).await;
    ws.subscribe(crate::progress::PROGRESS, json!({ "id": id }))
        .await;
    let first = ws.next().await.expect("a first event");
    assert_eq!(first["type"], "next", "{first}");
    app.gql(
        Some(&token),
        "mutation { staffLogout { signedOut } }",
        json!({}),
    )
    .await;
    loop {
        match ws.next().await {
            Ok(msg) => assert_eq!(msg["type"], "next", "only progress before the close: {msg}"),
            Err(closed) => {
                assert_eq!(closed.code, 4401, "{closed:?}");
                break;
            }
        }
    }
}
per_backend!(
    websocket_subscription_stops_when_the_session_ends,
    super::subscription_session_end
);

both!(
    websocket_refuses_a_message_over_the_body_limit,
    |app| async move {
        let token = app.admin().await;
        let limit = app.app.services.config.body_limit_bytes;
        let mut ws = WsClient::connect(&app, Some(&token)).await;
        let padding = "#".repeat(limit + 1);
        let big = format!("{padding}\n{CREATE}");
        let before = profile_count(&app).await;
        let closed = ws
            .run(&big, json!({ "i": person("Big", "Query", None) }))
            .await
            .expect_err("closed");
        assert_eq!(closed.code, 1009, "{closed:?}");
        assert_eq!(profile_count(&app).await, before);
    }
);

async fn init_timeout(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.ws_init_timeout = std::time::Duration::from_secs(1)
    })
    .await;
    let mut ws = WsClient::open(&app).await;
    let closed = ws.next().await.expect_err("closed without init");
    assert_eq!(closed.code, 4408, "{closed:?}");
}
per_backend!(websocket_without_init_is_closed, super::init_timeout);

both!(websocket_with_an_ended_token_is_refused, |app| async move {
    let token = app.admin().await;
    app.gql(
        Some(&token),
        "mutation { staffLogout { signedOut } }",
        json!({}),
    )
    .await;
    let mut ws = WsClient::open(&app).await;
    ws.init(Some(&token)).await;
    let closed = ws.next().await.expect_err("closed at init");
    assert_eq!(closed.code, 4401, "{closed:?}");
});

// Every query in `examples/` answers alike over HTTP and over the socket, and none of them
// panics or fails inside the server.
both!(
    websocket_runs_every_example_query_like_http,
    |app| async move {
        let token = app.admin().await;
        let org = app
            .create_profile(&token, json!({ "kind": "ORGANIZATION", "organizationName": "Jensen Foods", "email": "office@jensen.example" }))
            .await;
        let mut p = person("Maria", "Jensen", Some("maria@jensen.example"));
        p["parentId"] = json!(org);
        let pid = app.create_profile(&token, p).await;
        let vars = json!({
            "id": pid, "profileId": pid, "search": "jens", "first": 5, "token": "not-a-token",
            "login": "maria", "email": "maria@jensen.example",
        });
        let mut ws = WsClient::connect(&app, Some(&token)).await;
        let mut ran = 0;
        for (file, name, text) in example_queries() {
            let http = app.gql(Some(&token), &text, vars.clone()).await;
            let socket = ws
                .run(&text, vars.clone())
                .await
                .expect("the socket answers");
            for answer in [&http, &socket] {
                let codes = error_codes(answer);
                assert!(
                    !codes
                        .iter()
                        .any(|c| c == "INTERNAL_SERVER_ERROR" || c.is_empty()),
                    "{file} {name}: {answer}"
                );
            }
            assert_eq!(http["data"], socket["data"], "{file} {name}");
            assert_eq!(error_codes(&http), error_codes(&socket), "{file} {name}");
            ran += 1;
        }
        assert!(ran >= 5, "the examples hold queries: {ran}");
    }
);

fn error_codes(answer: &Value) -> Vec<String> {
    answer["errors"]
        .as_array()
        .map(|errs| {
            errs.iter()
                .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Each query operation of `examples/*.graphql` as its own document: (file, name, text).
pub fn example_queries() -> Vec<(String, String, String)> {
    use async_graphql::parser::{parse_query, types::OperationType};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "graphql"))
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let doc = parse_query(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for (name, op) in doc.operations.iter() {
            if op.node.ty != OperationType::Query {
                continue;
            }
            let name = name.map(|n| n.to_string()).unwrap_or_default();
            let span = |pos: async_graphql::Pos| {
                text.lines()
                    .take(pos.line - 1)
                    .map(|l| l.len() + 1)
                    .sum::<usize>()
                    + pos.column
                    - 1
            };
            // The operation's text runs from its start to the next operation (or the end).
            let start = span(op.pos);
            let end = doc
                .operations
                .iter()
                .map(|(_, o)| span(o.pos))
                .filter(|s| *s > start)
                .min()
                .unwrap_or(text.len());
            let body = &text[start..end];
            let body = body
                .lines()
                .filter(|l| !l.trim_start().starts_with('#'))
                .collect::<Vec<_>>()
                .join("\n");
            out.push((
                path.file_name().unwrap().to_string_lossy().into_owned(),
                name,
                body,
            ));
        }
    }
    out
}

// --- Query cost -------------------------------------------------------------------------

fn doubling_chain(n: usize) -> String {
    let mut q = String::from("{ ...F0 }");
    for i in 0..n {
        q.push_str(&format!(
            " fragment F{i} on QueryRoot {{ ...F{} ...F{} }}",
            i + 1,
            i + 1
        ));
    }
    q.push_str(&format!(" fragment F{n} on QueryRoot {{ __typename }}"));
    q
}

both!(
    doubling_fragment_chains_are_refused_before_validation,
    |app| async move {
        for n in [16, 24, 32] {
            let resp = app.gql(None, &doubling_chain(n), json!({})).await;
            assert_eq!(code(&resp), "QUERY_TOO_COMPLEX", "{n}: {resp}");
        }
        // The server stays responsive while 8 such requests run at once.
        let floods: Vec<_> = (0..8)
            .map(|_| {
                let client = app.client.clone();
                let url = app.url("/graphql");
                tokio::spawn(async move {
                    client
                        .post(url)
                        .json(&json!({ "query": doubling_chain(32) }))
                        .send()
                        .await
                        .unwrap()
                        .status()
                })
            })
            .collect();
        let health = app.client.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(health.status(), 200);
        for f in floods {
            assert_eq!(f.await.unwrap(), 200);
        }
    }
);

// The socket runs the same limits and guards as HTTP, for the new checks too.
both!(
    websocket_applies_the_same_limits_and_guards,
    |app| async move {
        let admin = app.admin().await;
        let clerk = app.staff_with("clerk", &[Right::ManageProfiles]).await;
        let clerk_id = app.staff_id(&admin, "clerk").await;
        let aliases: String = (0..40).map(|i| format!("a{i}: __typename ")).collect();
        let unlock =
            "mutation($id: ID!) { unlockStaffUser(staffUserId: $id) { staffUser { id } } }";
        let mut ws = WsClient::connect(&app, Some(&clerk)).await;
        for (query, vars, expected) in [
            (doubling_chain(32), json!({}), "QUERY_TOO_COMPLEX"),
            (format!("{{ {aliases} }}"), json!({}), "QUERY_TOO_COMPLEX"),
            (
                "{ profiles(first: 100) { edges { node { relatedProfiles(first: 100) { edges { node { id } } } } } } }".into(),
                json!({}),
                "QUERY_TOO_COMPLEX",
            ),
            (unlock.into(), json!({ "id": clerk_id }), "FORBIDDEN"),
        ] {
            let http = app.gql(Some(&clerk), &query, vars.clone()).await;
            let socket = ws.run(&query, vars).await.expect("the socket answers");
            assert_eq!(code(&http), expected, "{http}");
            assert_eq!(code(&socket), expected, "{socket}");
        }
    }
);

// The mutations that now answer a payload answer the same over the socket as over HTTP.
both!(
    payload_mutations_answer_alike_over_http_and_the_websocket,
    |app| async move {
        let admin = app.admin().await;
        app.staff_with("clerk", &[]).await;
        let clerk_id = app.staff_id(&admin, "clerk").await;
        let revoke_all =
            "mutation($id: ID!) { revokeAllStaffSessions(staffUserId: $id) { revokedCount } }";
        let http = app
            .gql(Some(&admin), revoke_all, json!({ "id": clerk_id }))
            .await;
        assert_eq!(
            http["data"]["revokeAllStaffSessions"]["revokedCount"], 1,
            "{http}"
        );
        let mut ws = WsClient::connect(&app, Some(&admin)).await;
        let socket = ws.run(revoke_all, json!({ "id": clerk_id })).await.unwrap();
        assert_eq!(
            socket["data"]["revokeAllStaffSessions"]["revokedCount"], 0,
            "nothing left to end: {socket}"
        );

        let forgot =
            "mutation { requestPasswordReset(email: \"nobody@example.org\") { accepted } }";
        let http = app.gql(None, forgot, json!({})).await;
        let mut anonymous = WsClient::connect(&app, None).await;
        let socket = anonymous.run(forgot, json!({})).await.unwrap();
        assert_eq!(
            http["data"]["requestPasswordReset"]["accepted"], true,
            "{http}"
        );
        assert_eq!(socket["data"], http["data"], "{socket}");

        let out = ws
            .run("mutation { staffLogout { signedOut } }", json!({}))
            .await
            .unwrap();
        assert_eq!(out["data"]["staffLogout"]["signedOut"], true, "{out}");
        let after = app
            .gql(Some(&admin), "{ viewer { username } }", json!({}))
            .await;
        assert!(after["data"]["viewer"].is_null(), "signed out: {after}");
    }
);

both!(
    nested_related_profiles_of_a_big_organisation_are_refused,
    |app| async move {
        let token = app.admin().await;
        let org = app
            .create_profile(
                &token,
                json!({ "kind": "ORGANIZATION", "organizationName": "Big Org" }),
            )
            .await;
        app.bulk_people(300, "big").await;
        {
            use sea_orm::ConnectionTrait;
            app.app
                .services
                .db
                .execute_unprepared(&format!(
                    "UPDATE profiles SET parent_id = {org} WHERE email LIKE 'big%@example.org'"
                ))
                .await
                .expect("relate the people");
        }
        let mut q = String::from("id");
        for _ in 0..3 {
            q = format!("relatedProfiles {{ edges {{ node {{ parent {{ {q} }} }} }} }}");
        }
        let resp = app
            .gql(
                Some(&token),
                &format!("query($id: ID!) {{ profile(id: $id) {{ {q} }} }}"),
                json!({ "id": org }),
            )
            .await;
        assert_eq!(code(&resp), "QUERY_TOO_COMPLEX", "{resp}");
        // One level is fine, and pages through all 300.
        let one = app
            .gql(
                Some(&token),
                "query($id: ID!) { profile(id: $id) { relatedProfiles(first: 100) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } } }",
                json!({ "id": org }),
            )
            .await;
        let related = &one["data"]["profile"]["relatedProfiles"];
        assert_eq!(related["totalCount"], 300, "{one}");
        assert_eq!(related["edges"].as_array().unwrap().len(), 100);
        assert_eq!(related["pageInfo"]["hasNextPage"], true);
    }
);

both!(
    aliased_delivery_pages_are_counted_in_the_cost,
    |app| async move {
        let token = app.admin().await;
        let fields: String = (0..30)
            .map(|i| {
                format!("d{i}: deliveries(first: 500) {{ edges {{ node {{ email status }} }} }} ")
            })
            .collect();
        let resp = app
            .gql(
                Some(&token),
                &format!("{{ massCommunication(id: \"1\") {{ {fields} }} }}"),
                json!({}),
            )
            .await;
        assert_eq!(code(&resp), "QUERY_TOO_COMPLEX", "{resp}");
    }
);

// --- Login confusion --------------------------------------------------------------------

both!(
    a_username_cannot_be_another_members_email,
    |app| async move {
        let token = app.admin().await;
        let a = app
            .create_profile(&token, person("Ann", "A", Some("ann@example.org")))
            .await;
        let b = app
            .create_profile(&token, person("Bob", "B", Some("b@example.org")))
            .await;
        // Staff, by mistake: A's username = B's address.
        let resp = credentials::set(
            &app,
            &token,
            json!({ "profileId": a, "username": "b@example.org", "password": "a long and fine password" }),
        )
        .await;
        assert_eq!(code(&resp), "BAD_USER_INPUT", "{resp}");
        assert_eq!(resp["errors"][0]["extensions"]["field"], "input.username");

        // A member completing a link: the same refusal, and the link still works afterwards.
        let link_token = resets::issue_link(&app, &token, &a).await;
        const USE: &str = "mutation($t: String!, $p: String!, $u: String) { setPasswordWithToken(token: $t, password: $p, username: $u) { login } }";
        let resp = app
            .gql(
                None,
                USE,
                json!({ "t": link_token, "p": "a long and fine password", "u": "B@Example.org" }),
            )
            .await;
        assert_eq!(code(&resp), "BAD_USER_INPUT", "{resp}");
        let resp = app
            .gql(
                None,
                USE,
                json!({ "t": link_token, "p": "a long and fine password", "u": "annie" }),
            )
            .await;
        assert!(resp["errors"].is_null(), "{resp}");

        // B sets a password; B's address signs B in, and A's username signs A in.
        credentials::set(
            &app,
            &token,
            json!({ "profileId": b, "password": "bob's own long password" }),
        )
        .await;
        let signed = member_login(&app, "b@example.org", "bob's own long password").await;
        assert_eq!(
            signed["data"]["memberLogin"]["profile"]["id"],
            b.as_str(),
            "{signed}"
        );
        let signed = member_login(&app, "annie", "a long and fine password").await;
        assert_eq!(
            signed["data"]["memberLogin"]["profile"]["id"],
            a.as_str(),
            "{signed}"
        );

        // The other order: a username exists first; no email can ever equal it, since an
        // email needs an @ and a username never has one.
        let resp = app
            .gql(
                Some(&token),
                "mutation($id: ID!) { updateProfile(id: $id, input: { email: \"annie\" }) { profile { email } } }",
                json!({ "id": b }),
            )
            .await;
        assert_eq!(code(&resp), "BAD_USER_INPUT", "{resp}");
    }
);

// --- Floods -----------------------------------------------------------------------------

async fn outbound_rows(app: &TestApp) -> i64 {
    app.sql_value::<i64>("SELECT COUNT(*) AS n FROM outbound_emails", "n")
        .await
}

async fn forgot_login_flood(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.reset_ip_limit = 5;
        c.mail.worker = false;
    })
    .await;
    let token = app.admin().await;
    for i in 0..12 {
        app.create_profile(
            &token,
            person(
                "F",
                &format!("Flood{i}"),
                Some(&format!("flood{i}@example.org")),
            ),
        )
        .await;
    }
    // Distinct real addresses, one request each, then the rest as aliases of one request.
    for i in 0..6 {
        let resp = forgot(&app, &format!("flood{i}@example.org")).await;
        assert_eq!(
            resp["data"]["requestPasswordReset"]["accepted"], true,
            "{resp}"
        );
    }
    let aliases: String = (6..12)
        .map(|i| {
            format!("a{i}: requestPasswordReset(email: \"flood{i}@example.org\") {{ accepted }} ")
        })
        .collect();
    let resp = app
        .gql(None, &format!("mutation {{ {aliases} }}"), json!({}))
        .await;
    assert!(
        resp["errors"].is_null(),
        "the same answer over the limit: {resp}"
    );
    assert_eq!(resp["data"]["a11"]["accepted"], true);
    assert_eq!(
        outbound_rows(&app).await,
        5,
        "only the client's budget was queued"
    );
}
per_backend!(
    forgot_login_is_limited_per_client_ip,
    super::forgot_login_flood
);

async fn forgot_login_global_cap(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.reset_mail_per_hour = 3;
        c.mail.worker = false;
    })
    .await;
    let token = app.admin().await;
    for i in 0..8 {
        app.create_profile(
            &token,
            person(
                "G",
                &format!("Cap{i}"),
                Some(&format!("cap{i}@example.org")),
            ),
        )
        .await;
    }
    for i in 0..8 {
        let resp = forgot(&app, &format!("cap{i}@example.org")).await;
        assert_eq!(resp["data"]["requestPasswordReset"]["accepted"], true);
    }
    assert_eq!(outbound_rows(&app).await, 3, "the hourly cap held");
}
per_backend!(
    forgot_login_mail_has_a_global_hourly_cap,
    super::forgot_login_global_cap
);

both!(
    forgot_login_for_unknown_addresses_stores_nothing,
    |app| async move {
        let audit_before: i64 = app
            .sql_value("SELECT COUNT(*) AS n FROM audit_events", "n")
            .await;
        for i in 0..50 {
            let resp = forgot(&app, &format!("nobody{i}@example.org")).await;
            assert_eq!(resp["data"]["requestPasswordReset"]["accepted"], true);
        }
        assert_eq!(outbound_rows(&app).await, 0);
        let audit_after: i64 = app
            .sql_value("SELECT COUNT(*) AS n FROM audit_events", "n")
            .await;
        assert_eq!(audit_after, audit_before);
        let buckets: i64 = app
            .sql_value("SELECT COUNT(*) AS n FROM rate_limit_buckets", "n")
            .await;
        assert!(
            buckets <= 1,
            "one counter for the client at most: {buckets}"
        );
    }
);

async fn staff_lockout(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        c.lockout_threshold = 5;
    })
    .await;
    let admin = app.admin().await;
    app.staff_with("clerk", &[]).await;
    let login = |ip: &'static str, password: &'static str| {
        let client = app.client.clone();
        let url = app.url("/graphql");
        async move {
            let resp: Value = client
                .post(url)
                .header("x-forwarded-for", ip)
                .json(&json!({
                    "query": "mutation($u: String!, $p: String!) { staffLogin(username: $u, password: $p) { token } }",
                    "variables": { "u": "clerk", "p": password },
                }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            resp
        }
    };
    for _ in 0..10 {
        let resp = login("203.0.113.66", "a wrong guess at it").await;
        assert_eq!(code(&resp), "INVALID_LOGIN");
    }
    // The attacker's client is locked out of the account, even with the right password…
    let resp = login("203.0.113.66", "correct horse battery staple").await;
    assert_eq!(code(&resp), "INVALID_LOGIN", "{resp}");
    // …but the staff member, signing in from their own client, is not.
    let resp = login("198.51.100.7", "correct horse battery staple").await;
    assert!(resp["data"]["staffLogin"]["token"].is_string(), "{resp}");

    // MANAGE_STAFF can lift the lock at once.
    let id = app.staff_id(&admin, "clerk").await;
    let resp = app
        .gql(
            Some(&admin),
            "mutation($id: ID!) { unlockStaffUser(staffUserId: $id) { staffUser { username } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        resp["data"]["unlockStaffUser"]["staffUser"]["username"], "clerk",
        "{resp}"
    );
    let resp = login("203.0.113.66", "correct horse battery staple").await;
    assert!(resp["data"]["staffLogin"]["token"].is_string(), "{resp}");
    let unlocked: i64 = app
        .sql_value(
            "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'STAFF_USER_UNLOCKED'",
            "n",
        )
        .await;
    assert_eq!(unlocked, 1);
}
per_backend!(
    anonymous_guessing_cannot_lock_a_staff_member_out,
    super::staff_lockout
);

// --- Links, passwords and input ---------------------------------------------------------

both!(a_link_dies_when_the_email_changes, |app| async move {
    let token = app.admin().await;
    let p = app
        .create_profile(&token, person("Eve", "Moved", Some("eve@old.example")))
        .await;
    let link_token = resets::issue_link(&app, &token, &p).await;
    app.gql(
        Some(&token),
        "mutation($id: ID!) { updateProfile(id: $id, input: { email: \"eve@new.example\" }) { profile { email } } }",
        json!({ "id": p }),
    )
    .await;
    let state = resets::check(&app, &link_token).await;
    assert_eq!(state["state"], "INVALID", "{state}");
    let retired: i64 = app
        .sql_value(
            "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'SET_PASSWORD_LINKS_RETIRED'",
            "n",
        )
        .await;
    assert_eq!(retired, 1);
});

both!(change_password_respects_the_lock, |app| async move {
    let token = app.admin().await;
    let p = app
        .create_profile(&token, person("Lou", "Locked", Some("lou@example.org")))
        .await;
    credentials::set(
        &app,
        &token,
        json!({ "profileId": p, "username": "lou.locked", "password": "lou's first long password" }),
    )
    .await;
    let signed = member_login(&app, "lou.locked", "lou's first long password").await;
    let member = signed["data"]["memberLogin"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Someone else locks the account with wrong guesses.
    for _ in 0..app.app.services.config.lockout_threshold {
        member_login(&app, "lou.locked", "not the password at all").await;
    }
    let resp = app
            .gql(
                Some(&member),
                "mutation { changePassword(currentPassword: \"lou's first long password\", newPassword: \"a brand new long password\") { changedAt } }",
                json!({}),
            )
            .await;
    assert_eq!(code(&resp), "INVALID_LOGIN", "{resp}");
});

both!(staff_passwords_follow_the_policy, |app| async move {
    let token = app.admin().await;
    for weak in [
        "password1234",
        "short",
        "Harbour Chamber 2026",
        "newadmin-newadmin",
    ] {
        let resp = app
            .gql(
                Some(&token),
                "mutation($p: String!) { createStaffUser(input: { username: \"newadmin\", password: $p, rights: [MANAGE_STAFF] }) { staffUser { id } } }",
                json!({ "p": weak }),
            )
            .await;
        assert_eq!(code(&resp), "WEAK_PASSWORD", "{weak}: {resp}");
    }
});

both!(
    a_merge_value_cannot_make_a_javascript_link,
    |app| async move {
        let token = app.admin().await;
        let p = app
            .create_profile(
                &token,
                person("javascript:alert(1)", "X", Some("x@example.org")),
            )
            .await;
        let id = crate::mass::create_ok(
            &app,
            &token,
            json!({ "subject": "Hi", "html": "<p><a href=\"{{first_name}}\">Your page</a></p>", "recipients": { "profileIds": [p] } }),
        )
        .await;
        let preview = app
            .gql(
                Some(&token),
                "query($id: ID!, $p: ID) { previewMassCommunication(id: $id, profileId: $p) { html } }",
                json!({ "id": id, "p": p }),
            )
            .await;
        let html = preview["data"]["previewMassCommunication"]["html"]
            .as_str()
            .unwrap_or_else(|| panic!("{preview}"));
        assert!(!html.to_lowercase().contains("javascript:"), "{html}");
        assert!(html.contains("Your page"), "{html}");
    }
);

both!(
    an_address_the_mailer_cannot_send_to_is_refused_at_input,
    |app| async move {
        let token = app.admin().await;
        let resp = app
            .gql(
                Some(&token),
                "mutation($i: CreateProfileInput!) { createProfile(input: $i) { profile { id } } }",
                json!({ "i": person("Q", "Uoted", Some("\"x>,bcc@evil.example\"@example.org")) }),
            )
            .await;
        assert_eq!(code(&resp), "BAD_USER_INPUT", "{resp}");
    }
);

async fn crash_flags(backend: Backend) {
    use memberkey::store::outbound::{self, Due};
    let app = spawn_app_with(backend, |c| c.mail.worker = false).await;
    let token = app.admin().await;
    for i in 0..5 {
        let p = app
            .create_profile(
                &token,
                person(
                    "C",
                    &format!("Crash{i}"),
                    Some(&format!("crash{i}@example.org")),
                ),
            )
            .await;
        resets::send_reset(&app, &token, &p).await;
    }
    let db = &app.app.services.db;
    let now = chrono::Utc::now();
    // A worker claims all five and hands two to the provider, then dies.
    let held = outbound::claim(db, Due::Any, "dead", now + Duration::minutes(5), 10, now)
        .await
        .unwrap();
    assert_eq!(held.len(), 5);
    let handed = [held[0].id, held[1].id];
    outbound::record(db, &[], &handed, "dead", now)
        .await
        .unwrap();
    // Another worker takes the rows over when the lease has run out.
    let later = now + Duration::minutes(6);
    let taken = outbound::claim(
        db,
        Due::Abandoned,
        "alive",
        later + Duration::minutes(5),
        10,
        later,
    )
    .await
    .unwrap();
    assert_eq!(taken.len(), 5);
    for row in taken {
        assert_eq!(
            row.possible_duplicate,
            handed.contains(&row.id),
            "row {} flagged only if it was handed over",
            row.id
        );
    }
}
per_backend!(
    after_a_crash_only_handed_over_mail_is_a_possible_duplicate,
    super::crash_flags
);
