//! What the staff console needs from the API and the server: its files under `/staff/`
//! (each with the strict CSP), its GraphQL documents (every one it names exists), and the
//! fields added for its screens: audit filters and actor names, a draft's recipient count
//! and the staff link lifetime. Guards are checked over HTTP and over the WebSocket.

use serde_json::{Value, json};

use memberkey::domain::Right;

use crate::helpers::{Backend, code, per_backend, person, spawn_app};
use crate::ws::WsClient;

fn console_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http/staff")
}

/// Every script the console imports is served, as JavaScript under the console's CSP, and
/// so are the page, its styles and its operations.
#[tokio::test]
async fn every_console_file_is_served_under_a_strict_csp() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let bare = client.get(app.url("/staff")).send().await.unwrap();
    assert_eq!(bare.status(), 308);
    assert_eq!(bare.headers()["location"], "/staff/");

    let page = client.get(app.url("/staff/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    // No inline script or style and no eval. The one exception is the mail's body style in
    // previews, allowed by its hash alone ('unsafe-hashes' admits exactly the hashed
    // attribute values), and never for scripts.
    assert!(!csp.contains("'unsafe-inline'"), "{csp}");
    assert!(!csp.contains("'unsafe-eval'"), "{csp}");
    let directive = |name: &str| {
        csp.split(';')
            .map(str::trim)
            .find(|d| d.starts_with(name))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(!directive("script-src").contains("unsafe"), "{csp}");
    let style = directive("style-src");
    assert_eq!(
        style.matches("'sha256-").count(),
        1,
        "one hashed inline style at most: {csp}"
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("src=\"/staff/app.js\""), "{html}");

    // Follow the imports from app.js: each must be served, or the console breaks.
    let mut seen = std::collections::BTreeSet::new();
    let mut todo = vec!["app.js".to_owned()];
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let resp = client
            .get(app.url(&format!("/staff/{name}")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{name}");
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/javascript"),
            "{name}"
        );
        assert_eq!(resp.headers()["content-security-policy"], csp.as_str());
        let text = resp.text().await.unwrap();
        for part in text.split(" from './").skip(1) {
            todo.push(part.split('\'').next().unwrap().to_owned());
        }
    }
    assert!(seen.len() >= 10, "{seen:?}");
    // Nothing else in the folder is left unserved.
    for entry in std::fs::read_dir(console_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let resp = client
            .get(app.url(&format!("/staff/{name}")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{name} is in the folder but not served");
    }
    let missing = client.get(app.url("/staff/nope.js")).send().await.unwrap();
    assert_eq!(missing.status(), 404);

    // The vendored editor: served under the same CSP, byte for byte what VERSIONS records.
    let assets = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/quill");
    let versions = std::fs::read_to_string(assets.join("VERSIONS")).unwrap();
    for name in ["quill.js", "quill.snow.css"] {
        let resp = client
            .get(app.url(&format!("/staff/{name}")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{name}");
        assert_eq!(resp.headers()["content-security-policy"], csp.as_str());
        let body = resp.bytes().await.unwrap();
        use sha2::Digest;
        let sum: String = sha2::Sha256::digest(&body)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(
            versions.contains(&format!("{sum}  {name}")),
            "{name} served is not the one VERSIONS records"
        );
    }
}

/// Every operation the scripts name is in operations.graphql, and every operation there is
/// used, so the file graphql-js validates is the one the console sends.
#[test]
fn the_console_sends_only_operations_from_its_document() {
    let doc = std::fs::read_to_string(console_dir().join("operations.graphql")).unwrap();
    let defined: std::collections::BTreeSet<String> = doc
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            ["query ", "mutation ", "subscription "]
                .iter()
                .find_map(|k| l.strip_prefix(k))
                .map(|rest| {
                    rest.split(|c: char| !c.is_alphanumeric())
                        .next()
                        .unwrap()
                        .to_owned()
                })
        })
        .collect();
    let mut used = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(console_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "js") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for call in ["gql('", "subscribe('"] {
            for part in text.split(call).skip(1) {
                let name = part.split('\'').next().unwrap();
                assert!(
                    defined.contains(name),
                    "{} sends {name}, which operations.graphql lacks",
                    path.display()
                );
            }
        }
        // Operations are also chosen by condition or passed on by name: any quoted name.
        for name in &defined {
            if text.contains(&format!("'{name}'")) {
                used.insert(name.clone());
            }
        }
    }
    let unused: Vec<_> = defined.difference(&used).collect();
    assert!(unused.is_empty(), "defined but never sent: {unused:?}");
}

const EVENTS: &str = "query($p: ID, $a: String, $s: DateTime, $u: DateTime) {
  auditEvents(profileId: $p, action: $a, since: $s, until: $u) {
    totalCount edges { node { action actorKind actorStaffId actorUsername profileId } }
  }
}";

async fn audit_filters(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let clerk = app
        .staff_with("clerk", &[Right::ManagePortalCredentials])
        .await;
    let id = app
        .create_profile(
            &admin,
            person("Jens", "Hansen", Some("jens@harbour.example")),
        )
        .await;
    let other = app
        .create_profile(&admin, person("Tom", "Berg", Some("tom@harbour.example")))
        .await;
    for (p, who) in [(&id, &clerk), (&other, &admin)] {
        let set = app
            .gql(
                Some(who),
                "mutation($p: ID!) { setPortalCredentials(input: { profileId: $p, username: null, password: \"Harbour-Lantern-Tide-9\" }) { credential { passwordIsSet } } }",
                json!({ "p": p }),
            )
            .await;
        assert_eq!(
            set["data"]["setPortalCredentials"]["credential"]["passwordIsSet"], true,
            "{set}"
        );
    }
    let all = app
        .gql(Some(&admin), EVENTS, json!({ "a": "CREDENTIALS_SET" }))
        .await;
    let conn = &all["data"]["auditEvents"];
    assert_eq!(conn["totalCount"], 2, "{all}");
    let names: Vec<&Value> = conn["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"]["actorUsername"])
        .collect();
    assert_eq!(names, [&json!("admin"), &json!("clerk")], "newest first");
    assert!(
        conn["edges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["node"]["action"] == "CREDENTIALS_SET")
    );
    // Action and profile together.
    let one = app
        .gql(
            Some(&admin),
            EVENTS,
            json!({ "a": "CREDENTIALS_SET", "p": id }),
        )
        .await;
    assert_eq!(one["data"]["auditEvents"]["totalCount"], 1, "{one}");
    assert_eq!(
        one["data"]["auditEvents"]["edges"][0]["node"]["actorUsername"],
        "clerk"
    );
    // A time range: everything so far is before a moment in the future, nothing after it.
    let later = (chrono::Utc::now() + chrono::Duration::minutes(5)).to_rfc3339();
    let earlier = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let before = app
        .gql(Some(&admin), EVENTS, json!({ "s": earlier, "u": later }))
        .await;
    let n = before["data"]["auditEvents"]["totalCount"]
        .as_u64()
        .unwrap();
    assert!(n >= 4, "{before}");
    let after = app.gql(Some(&admin), EVENTS, json!({ "s": later })).await;
    assert_eq!(after["data"]["auditEvents"]["totalCount"], 0, "{after}");
    // Bad filters are input errors naming the argument.
    let bad = app
        .gql(Some(&admin), EVENTS, json!({ "a": "NOT_AN_ACTION" }))
        .await;
    assert_eq!(code(&bad), "BAD_USER_INPUT", "{bad}");
    assert_eq!(bad["errors"][0]["extensions"]["field"], "action");
    let backwards = app
        .gql(Some(&admin), EVENTS, json!({ "s": later, "u": earlier }))
        .await;
    assert_eq!(code(&backwards), "BAD_USER_INPUT", "{backwards}");
    assert_eq!(backwards["errors"][0]["extensions"]["field"], "until");

    // The list of actions for the filter, and the guard on both, over HTTP and WebSocket.
    let actions = app.gql(Some(&admin), "{ auditActions }", json!({})).await;
    let list = actions["data"]["auditActions"].as_array().unwrap();
    assert!(list.contains(&json!("CREDENTIALS_SET")), "{actions}");
    assert!(list.contains(&json!("PASSWORD_REVEALED")), "{actions}");
    for query in [
        "{ auditActions }",
        "{ auditEvents(action: \"CREDENTIALS_SET\") { totalCount } }",
    ] {
        assert_eq!(
            code(&app.gql(Some(&clerk), query, json!({})).await),
            "FORBIDDEN"
        );
        let mut ws = WsClient::connect(&app, Some(&clerk)).await;
        assert_eq!(code(&ws.run(query, json!({})).await.unwrap()), "FORBIDDEN");
    }
    let mut ws = WsClient::connect(&app, Some(&admin)).await;
    let over_ws = ws
        .run(EVENTS, json!({ "a": "CREDENTIALS_SET", "p": id }))
        .await
        .unwrap();
    assert_eq!(over_ws["data"], one["data"]);
}
per_backend!(
    audit_events_filter_by_action_and_time_and_name_the_staff_user,
    super::audit_filters
);

const COUNT: &str = "query($id: ID!) { massCommunication(id: $id) { status recipientCount sendPlan { reach skipped { reason count } } counts { total } } }";

async fn recipient_count(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let clerk = app.staff_with("clerk", &[Right::ManageProfiles]).await;
    let mut ids = Vec::new();
    for (first, last, email) in [
        ("Jens", "Hansen", Some("jens@harbour.example")),
        ("Maria", "Jensen", Some("maria@harbour.example")),
        ("Tom", "Berg", None),
    ] {
        ids.push(app.create_profile(&admin, person(first, last, email)).await);
    }
    let create = |recipients: Value| json!({ "input": { "subject": "Hello", "html": "<p>Hi {{full_name}}</p>", "recipients": recipients } });
    let mutation = "mutation($input: CreateMassCommunicationInput!) { createMassCommunication(input: $input) { massCommunication { id } } }";
    let chosen = app
        .gql(
            Some(&admin),
            mutation,
            create(json!({ "profileIds": [ids[0], ids[1], ids[0]] })),
        )
        .await;
    let chosen = chosen["data"]["createMassCommunication"]["massCommunication"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let filtered = app
        .gql(
            Some(&admin),
            mutation,
            create(json!({ "filter": { "kind": "INDIVIDUAL" } })),
        )
        .await;
    let filtered = filtered["data"]["createMassCommunication"]["massCommunication"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let got = app.gql(Some(&admin), COUNT, json!({ "id": chosen })).await;
    assert_eq!(
        got["data"]["massCommunication"]["recipientCount"], 2,
        "{got}"
    );
    // A filter counts afresh: a new match counts at once, and the one without an address
    // is among them (it is skipped only when sending).
    let got = app
        .gql(Some(&admin), COUNT, json!({ "id": filtered }))
        .await;
    assert_eq!(
        got["data"]["massCommunication"]["recipientCount"], 3,
        "{got}"
    );
    app.create_profile(&admin, person("Ann", "Lund", Some("ann@harbour.example")))
        .await;
    let got = app
        .gql(Some(&admin), COUNT, json!({ "id": filtered }))
        .await;
    assert_eq!(
        got["data"]["massCommunication"]["recipientCount"], 4,
        "{got}"
    );
    // The plan says which of them sending now reaches, and who is skipped for what.
    let plan = json!({ "reach": 3, "skipped": [{ "reason": "NO_EMAIL_ADDRESS", "count": 1 }] });
    assert_eq!(got["data"]["massCommunication"]["sendPlan"], plan, "{got}");
    // Once sent, it is the number of deliveries.
    let sent = app
        .gql(
            Some(&admin),
            "mutation($id: ID!) { sendMassCommunication(id: $id) { massCommunication { status } } }",
            json!({ "id": chosen }),
        )
        .await;
    assert!(sent["errors"].is_null(), "{sent}");
    let got = app.gql(Some(&admin), COUNT, json!({ "id": chosen })).await;
    assert_eq!(
        got["data"]["massCommunication"]["recipientCount"],
        got["data"]["massCommunication"]["counts"]["total"]
    );
    assert_eq!(got["data"]["massCommunication"]["recipientCount"], 2);
    // Guarded like the communication itself, over HTTP and WebSocket.
    let vars = json!({ "id": filtered });
    assert_eq!(
        code(&app.gql(Some(&clerk), COUNT, vars.clone()).await),
        "FORBIDDEN"
    );
    let mut ws = WsClient::connect(&app, Some(&clerk)).await;
    assert_eq!(
        code(&ws.run(COUNT, vars.clone()).await.unwrap()),
        "FORBIDDEN"
    );
    let mut ws = WsClient::connect(&app, Some(&admin)).await;
    let over_ws = ws.run(COUNT, vars).await.unwrap();
    assert_eq!(over_ws["data"]["massCommunication"]["recipientCount"], 4);
    assert_eq!(over_ws["data"]["massCommunication"]["sendPlan"], plan);
}
per_backend!(
    a_drafts_recipient_count_is_counted_afresh,
    super::recipient_count
);

/// The lifetime the Send Password Reset Email window names is the configured one, and open to
/// the sign-in page before anyone signs in.
#[tokio::test]
async fn portal_settings_tell_the_staff_link_lifetime() {
    let app = crate::helpers::spawn_app_with(Backend::Sqlite, |c| {
        c.mail.staff_link_ttl = chrono::Duration::minutes(90);
    })
    .await;
    let resp = app
        .gql(None, "{ portalSettings { staffLinkMinutes } }", json!({}))
        .await;
    assert_eq!(
        resp["data"]["portalSettings"]["staffLinkMinutes"], 90,
        "{resp}"
    );
}

const ISSUE: &str = "mutation($p: ID!) { issueCredentialsLink(profileId: $p) { url qrSvg } }";

/// The link for the phone comes with its QR code: an SVG of exactly that link.
async fn qr_code_of_the_link(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let clerk = app.staff_with("clerk", &[Right::ManageProfiles]).await;
    let id = app
        .create_profile(
            &admin,
            person("Jens", "Hansen", Some("jens@harbour.example")),
        )
        .await;
    let resp = app.gql(Some(&admin), ISSUE, json!({ "p": id })).await;
    let link = &resp["data"]["issueCredentialsLink"];
    let url = link["url"].as_str().unwrap();
    let svg = link["qrSvg"].as_str().unwrap();
    assert!(svg.contains("<svg") && svg.ends_with("</svg>"), "{svg}");
    let expected = qrcode::QrCode::new(url.as_bytes())
        .unwrap()
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    assert_eq!(svg, expected, "the code encodes this link");
    // Each link gets its own code.
    let again = app.gql(Some(&admin), ISSUE, json!({ "p": id })).await;
    assert_ne!(again["data"]["issueCredentialsLink"]["qrSvg"], svg);
    // Guarded like the link, over HTTP and WebSocket.
    assert_eq!(
        code(&app.gql(Some(&clerk), ISSUE, json!({ "p": id })).await),
        "FORBIDDEN"
    );
    let mut ws = WsClient::connect(&app, Some(&clerk)).await;
    assert_eq!(
        code(&ws.run(ISSUE, json!({ "p": id })).await.unwrap()),
        "FORBIDDEN"
    );
    let mut ws = WsClient::connect(&app, Some(&admin)).await;
    let over_ws = ws.run(ISSUE, json!({ "p": id })).await.unwrap();
    assert!(
        over_ws["data"]["issueCredentialsLink"]["qrSvg"]
            .as_str()
            .unwrap()
            .contains("<svg")
    );
}
per_backend!(the_phone_link_has_a_qr_code, super::qr_code_of_the_link);

const RECIPIENTS: &str = "query($id: ID!) { massCommunication(id: $id) { recipients { profiles { id displayName } filter { kind memberStatus search includeRelatedProfiles memberStatuses fromCommunication { id linkStates deliveryStatuses } } } } }";

/// A draft's recipients read back as saved: chosen profiles in order (a deleted one left
/// out), or the filter with all its parts.
async fn recipients_read_back(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let a = app
        .create_profile(
            &admin,
            person("Jens", "Hansen", Some("jens@harbour.example")),
        )
        .await;
    let b = app
        .create_profile(&admin, person("Tom", "Berg", Some("tom@harbour.example")))
        .await;
    let input = |recipients: Value| json!({ "subject": "Hello", "html": "<p>Hi {{full_name}}</p>", "recipients": recipients });
    let chosen = crate::mass::create_ok(&app, &admin, input(json!({ "profileIds": [b, a] }))).await;
    let got = app
        .gql(Some(&admin), RECIPIENTS, json!({ "id": chosen }))
        .await;
    let r = &got["data"]["massCommunication"]["recipients"];
    assert_eq!(r["filter"], Value::Null, "{got}");
    let names: Vec<&str> = r["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Tom Berg", "Jens Hansen"], "in the order chosen");

    let reminder = crate::mass::create_ok(
        &app,
        &admin,
        input(json!({ "filter": {
            "kind": "INDIVIDUAL", "search": "hansen", "includeRelatedProfiles": true,
            "memberStatuses": ["ACTIVE", "LAPSED"],
            "fromCommunication": { "id": chosen, "linkStates": ["UNUSED"] }
        } })),
    )
    .await;
    let got = app
        .gql(Some(&admin), RECIPIENTS, json!({ "id": reminder }))
        .await;
    let f = &got["data"]["massCommunication"]["recipients"]["filter"];
    assert_eq!(f["kind"], "INDIVIDUAL", "{got}");
    assert_eq!(f["search"], "hansen");
    assert_eq!(f["includeRelatedProfiles"], true);
    assert_eq!(f["memberStatuses"], json!(["ACTIVE", "LAPSED"]));
    assert_eq!(f["fromCommunication"]["id"], chosen);
    assert_eq!(f["fromCommunication"]["linkStates"], json!(["UNUSED"]));
    assert_eq!(f["fromCommunication"]["deliveryStatuses"], json!([]));
    // The filter as read back is an input that can be sent again unchanged.
    let again = crate::mass::create_ok(&app, &admin, input(json!({ "filter": f.clone() }))).await;
    let back = app
        .gql(Some(&admin), RECIPIENTS, json!({ "id": again }))
        .await;
    assert_eq!(
        back["data"]["massCommunication"]["recipients"]["filter"], *f,
        "{back}"
    );
    assert_eq!(
        got["data"]["massCommunication"]["recipients"]["profiles"],
        json!([])
    );
}
per_backend!(
    a_drafts_recipients_read_back_as_saved,
    super::recipients_read_back
);

/// Every right the API knows can be granted from the console's Staff users screen, which
/// lists the served enums.js (generated from the schema; staff.js only adds hints).
#[tokio::test]
async fn the_console_offers_every_right() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await;
    let script = app
        .client
        .get(app.url("/staff/enums.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for right in memberkey::domain::Right::ALL {
        assert!(
            script.contains(&format!("['{}', ", right.as_str())),
            "{} is missing from the console's rights",
            right.as_str()
        );
    }
}

/// Whether mail leaves the server is told to staff only, alike over HTTP and the WebSocket,
/// and asking for it anonymously is no error (the console asks before anyone signs in).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_staff_learn_whether_mail_leaves_the_server() {
    use std::sync::Arc;
    let outbox = crate::helpers::spawn_full(
        Backend::Sqlite,
        |_| {},
        Arc::new(memberkey::domain::SystemClock),
        crate::helpers::Mail::Configured,
    )
    .await;
    let sending = spawn_app(Backend::Sqlite).await;
    const Q: &str = "{ portalSettings { associationName mailIsSent } }";
    for (app, sent) in [(&outbox, false), (&sending, true)] {
        let staff = app.staff_with("clerk", &[Right::ManageProfiles]).await;
        let anonymous = app.gql(None, Q, json!({})).await;
        assert!(anonymous["errors"].is_null(), "{anonymous}");
        assert_eq!(
            anonymous["data"]["portalSettings"]["mailIsSent"],
            Value::Null
        );
        let http = app.gql(Some(&staff), Q, json!({})).await;
        assert_eq!(http["data"]["portalSettings"]["mailIsSent"], sent, "{http}");
        let mut socket = WsClient::connect(app, Some(&staff)).await;
        let ws = socket.run(Q, json!({})).await.unwrap();
        assert_eq!(ws["data"], http["data"], "{ws}");
        let mut socket = WsClient::connect(app, None).await;
        let ws = socket.run(Q, json!({})).await.unwrap();
        assert_eq!(ws["data"], anonymous["data"], "{ws}");
    }
}

const COUNT_FILTER: &str = "query($f: RecipientFilterInput!) { countRecipients(filter: $f) }";

/// The live count of a recipient filter, with every kind of condition; the same over the
/// WebSocket, refused alike without the right, and a search term too long to search is a
/// field error.
async fn count_recipients(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let jens = app
        .create_profile(
            &admin,
            person("Jens", "Hansen", Some("jens@harbour.example")),
        )
        .await;
    app.create_profile(&admin, person("Tom", "Berg", Some("tom@harbour.example")))
        .await;
    app.create_profile(&admin, person("Ida", "Lund", None))
        .await;
    let company = app
        .create_profile(
            &admin,
            crate::helpers::org("Harbour Shipping", Some("office@harbour.example")),
        )
        .await;
    let mut ole = person("Ole", "Dahl", Some("ole@harbour.example"));
    ole["parentId"] = json!(company);
    app.create_profile(&admin, ole).await;
    let set = app
        .gql(
            Some(&admin),
            crate::credentials::SET,
            json!({ "i": { "profileId": jens, "username": "jensh", "password": "Harbour-Lantern-Tide-9" } }),
        )
        .await;
    assert!(set["errors"].is_null(), "{set}");
    let mut socket = WsClient::connect(&app, Some(&admin)).await;
    for (filter, expected) in [
        (json!({}), 5),
        (
            json!({ "kind": "INDIVIDUAL", "memberStatuses": ["ACTIVE", "LAPSED"] }),
            4,
        ),
        (json!({ "hasCredentials": true }), 1),
        (json!({ "hasPassword": false }), 4),
        (json!({ "signedIn": true }), 0),
        (json!({ "search": "hansen" }), 1),
        (json!({ "search": "harbour", "kind": "ORGANIZATION" }), 1),
        // Counted from the matches, since the related people come with them.
        (
            json!({ "kind": "ORGANIZATION", "includeRelatedProfiles": true }),
            2,
        ),
    ] {
        let http = app
            .gql(Some(&admin), COUNT_FILTER, json!({ "f": filter }))
            .await;
        assert_eq!(
            http["data"]["countRecipients"], expected,
            "{filter}: {http}"
        );
        let ws = socket
            .run(COUNT_FILTER, json!({ "f": filter }))
            .await
            .unwrap();
        assert_eq!(ws["data"], http["data"], "{filter}: {ws}");
    }
    let long = app
        .gql(
            Some(&admin),
            COUNT_FILTER,
            json!({ "f": { "search": "h".repeat(101) } }),
        )
        .await;
    assert_eq!(code(&long), "BAD_USER_INPUT", "{long}");
    assert_eq!(long["errors"][0]["extensions"]["field"], "filter.search");

    let clerk = app.staff_with("clerk", &[Right::ManageProfiles]).await;
    let http = app
        .gql(Some(&clerk), COUNT_FILTER, json!({ "f": {} }))
        .await;
    assert_eq!(code(&http), "FORBIDDEN", "{http}");
    let mut socket = WsClient::connect(&app, Some(&clerk)).await;
    let ws = socket.run(COUNT_FILTER, json!({ "f": {} })).await.unwrap();
    assert_eq!(ws["errors"][0]["extensions"]["code"], "FORBIDDEN", "{ws}");
}
per_backend!(
    a_filter_is_counted_live_over_http_and_the_websocket,
    super::count_recipients
);
