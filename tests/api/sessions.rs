//! Staff session expiry and idle timeout, with the clock moved by the test.

use chrono::Duration;
use serde_json::json;

use crate::helpers::{Backend, per_backend, spawn_app_with_clock};

async fn expiry_and_idle(backend: Backend) {
    let (app, clock) = spawn_app_with_clock(backend).await;
    let token = app.admin().await;
    let viewer = "{ viewer { username } }";

    // Active use keeps the session alive past the idle limit (60 min by default)…
    for _ in 0..3 {
        clock.advance(Duration::minutes(50));
        let resp = app.gql(Some(&token), viewer, json!({})).await;
        assert_eq!(resp["data"]["viewer"]["username"], "admin");
    }
    // …but idling past it ends the session.
    clock.advance(Duration::minutes(61));
    assert!(app.gql(Some(&token), viewer, json!({})).await["data"]["viewer"].is_null());

    // The absolute lifetime (12 h) ends a session even when it is used all the time:
    // 13 × 55 min = 11 h 55 min still works, 14 × 55 min is past it.
    let token = app.login("admin", "correct horse battery staple").await;
    for _ in 0..13 {
        clock.advance(Duration::minutes(55));
        assert_eq!(
            app.gql(Some(&token), viewer, json!({})).await["data"]["viewer"]["username"],
            "admin"
        );
    }
    clock.advance(Duration::minutes(55));
    assert!(app.gql(Some(&token), viewer, json!({})).await["data"]["viewer"].is_null());
}

per_backend!(sessions_expire, super::expiry_and_idle);
