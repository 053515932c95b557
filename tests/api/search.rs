use serde_json::{Value, json};

use crate::helpers::{TestApp, both, code, org, person};

async fn search(app: &TestApp, token: &str, term: &str) -> Vec<String> {
    let resp = app
        .gql(Some(token), "query($s: String) { profiles(search: $s, first: 50) { edges { node { displayName } } } }", json!({ "s": term }))
        .await;
    assert!(resp["errors"].is_null(), "{resp}");
    resp["data"]["profiles"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["displayName"].as_str().unwrap().to_owned())
        .collect()
}

async fn seed(app: &TestApp, token: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for input in [
        org(
            "Harbour Lights Bakery",
            Some("office@harbourlights.example"),
        ),
        person("Maria", "Jensen", Some("maria@harbourlights.example")),
        person("Tom", "Jensenius", None),
        person("Anna", "Johnson", Some("anna.j@example.org")),
        person("Sonja", "Berg", Some("sonja@example.org")),
        org("Café Müller", None),
        person("Jens", "Larsson", Some("JENS@Example.org")),
    ] {
        ids.push(app.create_profile(token, input).await);
    }
    ids
}

both!(finds_any_part_of_names_emails_and_ids, |app| async move {
    let token = app.admin().await;
    let ids = seed(&app, &token).await;

    assert_eq!(
        search(&app, &token, "bakery").await,
        ["Harbour Lights Bakery"]
    );
    assert_eq!(
        search(&app, &token, "lights bak").await,
        ["Harbour Lights Bakery"],
        "inner words of an organisation name"
    );
    assert_eq!(
        search(&app, &token, "HNSO").await,
        ["Anna Johnson"],
        "inner substring, any case"
    );
    assert_eq!(
        search(&app, &token, "maria jensen").await,
        ["Maria Jensen"],
        "full name"
    );
    assert_eq!(
        search(&app, &token, "harbourlights.example").await,
        ["Harbour Lights Bakery", "Maria Jensen"],
        "part of an email"
    );
    assert_eq!(
        search(&app, &token, "MÜLLER").await,
        ["Café Müller"],
        "non-ASCII case folding"
    );
    assert_eq!(
        search(&app, &token, "ｍｕｌｌｅｒ").await,
        Vec::<String>::new(),
        "ü is not u"
    );
    assert_eq!(
        search(&app, &token, "ｍüｌｌｅｒ").await,
        ["Café Müller"],
        "full-width letters fold"
    );
    assert!(search(&app, &token, "zzzz").await.is_empty());

    // An exact profile ID comes first.
    let by_id = search(&app, &token, &ids[4]).await;
    assert_eq!(by_id.first().map(String::as_str), Some("Sonja Berg"));
});

both!(ranks_exact_then_prefix_then_substring, |app| async move {
    let token = app.admin().await;
    seed(&app, &token).await;
    // "jens": exact first name (Jens Larsson), then prefixes (Jensen, Jensenius, jens@ email
    // is exact too), then substrings.
    let hits = search(&app, &token, "jens").await;
    assert_eq!(hits, ["Jens Larsson", "Maria Jensen", "Tom Jensenius"]);
    // "son": no exact or prefix match except Sonja; Johnson and Larsson contain it.
    let hits = search(&app, &token, "son").await;
    assert_eq!(hits, ["Sonja Berg", "Anna Johnson", "Jens Larsson"]);
});

both!(
    short_terms_match_prefixes_and_wildcards_are_literal,
    |app| async move {
        let token = app.admin().await;
        seed(&app, &token).await;
        assert_eq!(search(&app, &token, "to").await, ["Tom Jensenius"]);
        for literal in [
            "%",
            "_",
            "\\",
            "%son%",
            "\"",
            "a\"b",
            "*",
            "son*",
            "NEAR(a b)",
        ] {
            let hits = search(&app, &token, literal).await;
            assert!(
                hits.is_empty(),
                "{literal:?} must be literal, found {hits:?}"
            );
        }
    }
);

both!(search_pages_and_counts_with_filters, |app| async move {
    let token = app.admin().await;
    seed(&app, &token).await;
    let q = "query($s: String, $f: ProfileFilter, $after: String) { profiles(search: $s, filter: $f, first: 1, after: $after) { totalCount edges { cursor node { displayName } } pageInfo { hasNextPage endCursor } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let resp = app
            .gql(Some(&token), q, json!({ "s": "jens", "after": after }))
            .await;
        let conn = &resp["data"]["profiles"];
        assert_eq!(conn["totalCount"], 3, "{resp}");
        for e in conn["edges"].as_array().unwrap() {
            seen.push(e["node"]["displayName"].as_str().unwrap().to_owned());
        }
        if conn["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(
        seen,
        ["Jens Larsson", "Maria Jensen", "Tom Jensenius"],
        "paging keeps the ranking"
    );

    let resp = app
        .gql(
            Some(&token),
            q,
            json!({ "s": "jens", "f": { "hasEmail": false } }),
        )
        .await;
    assert_eq!(resp["data"]["profiles"]["totalCount"], 1);
    assert_eq!(
        resp["data"]["profiles"]["edges"][0]["node"]["displayName"],
        "Tom Jensenius"
    );
    let resp = app
        .gql(Some(&token), q, json!({ "f": { "kind": "ORGANIZATION" } }))
        .await;
    assert_eq!(resp["data"]["profiles"]["totalCount"], 2);
    let resp = app
        .gql(Some(&token), q, json!({ "f": { "hasCredentials": true } }))
        .await;
    assert_eq!(resp["data"]["profiles"]["totalCount"], 0);

    let resp = app
        .gql(Some(&token), q, json!({ "after": "bm90LWEtY3Vyc29y" }))
        .await;
    assert_eq!(code(&resp), "BAD_USER_INPUT");
    assert_eq!(resp["errors"][0]["extensions"]["field"], "after");
    let resp = app
        .gql(
            Some(&token),
            "{ profiles(first: 101) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&resp), "BAD_USER_INPUT");
});

both!(
    renamed_profiles_are_found_by_their_new_name_only,
    |app| async move {
        let token = app.admin().await;
        let id = app
            .create_profile(&token, person("Ann", "Oldname", None))
            .await;
        assert_eq!(search(&app, &token, "oldname").await, ["Ann Oldname"]);
        let update = "mutation($id: ID!) { updateProfile(id: $id, input: { lastName: \"Newname\" }) { profile { id } } }";
        app.gql(Some(&token), update, json!({ "id": id })).await;
        assert!(search(&app, &token, "oldname").await.is_empty());
        assert_eq!(search(&app, &token, "ewnam").await, ["Ann Newname"]);
    }
);
