//! Depth, complexity and alias limits, and the cost of login floods.

use serde_json::json;

use crate::helpers::{both, code};

both!(
    a_thousand_aliased_logins_are_refused_before_hashing,
    |app| async move {
        let before = app.app.services.hasher.evaluations();
        let fields: String = (0..1000)
        .map(|i| format!("a{i}: staffLogin(username: \"admin\", password: \"guess number {i}\") {{ token }} "))
        .collect();
        let resp = app
            .gql(None, &format!("mutation {{ {fields} }}"), json!({}))
            .await;
        assert_eq!(code(&resp), "QUERY_TOO_COMPLEX");
        assert_eq!(
            app.app.services.hasher.evaluations(),
            before,
            "no Argon2 work was done"
        );
    }
);

both!(deep_queries_are_refused, |app| async move {
    let token = app.admin().await;
    let mut q = String::from("id");
    for _ in 0..20 {
        q = format!("parent {{ {q} }}");
    }
    let resp = app
        .gql(
            Some(&token),
            &format!("{{ profile(id: \"1\") {{ {q} }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(code(&resp), "QUERY_TOO_COMPLEX", "{resp}");
});

both!(costly_queries_are_refused, |app| async move {
    let token = app.admin().await;
    let q = "{ profiles(first: 100) { edges { node { relatedProfiles { edges { node { parent { relatedProfiles { edges { node { id displayName email } } } } } } } } } } }";
    let resp = app.gql(Some(&token), q, json!({})).await;
    assert_eq!(code(&resp), "QUERY_TOO_COMPLEX", "{resp}");
});

both!(
    a_thousand_aliased_member_logins_cost_no_hashing,
    |app| async move {
        let before = app.app.services.hasher.evaluations();
        let fields: String = (0..1000)
        .map(|i| format!("a{i}: memberLogin(login: \"victim\", password: \"guess number {i}\") {{ token }} "))
        .collect();
        let resp = app
            .gql(None, &format!("mutation {{ {fields} }}"), json!({}))
            .await;
        assert_eq!(code(&resp), "QUERY_TOO_COMPLEX");
        assert_eq!(
            app.app.services.hasher.evaluations(),
            before,
            "refused before any Argon2 work"
        );
    }
);
