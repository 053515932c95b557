//! Userinfo requests arriving together are read together (`services::oidc::access`): each
//! still gets the answer for its own token, a revoked or unknown token among them is
//! refused, and a revocation is seen by every read that starts after it.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, both};
use crate::member_pages::{Visitor, member};
use crate::oidc::{forum, register};
use crate::oidc_lifecycle::{site_tokens, userinfo_answer};
use crate::oidc_refusals::signed_in;

/// Requests sent at once: enough that the read slots are busy and the rest wait together.
const AT_ONCE: usize = 60;

async fn revoke(app: &TestApp, client: &(String, String), token: &str) {
    let resp = app
        .client
        .post(app.url("/oidc/revoke"))
        .form(&[
            ("client_id", client.0.as_str()),
            ("client_secret", client.1.as_str()),
            ("token", token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

/// A member signed in on the member pages, and a confidential site registered.
async fn member_at_a_site(app: &TestApp) -> ((String, String), Visitor<'_>) {
    let (_, _) = member(app, false).await;
    let (client_id, secret) = register(app, forum()).await;
    ((client_id, secret.unwrap()), signed_in(app).await)
}

both!(
    userinfo_requests_at_once_each_get_their_own_answer,
    |app| async move {
        let (client, mut browser) = member_at_a_site(&app).await;
        let first = site_tokens(&app, &mut browser, &client).await;
        let second = site_tokens(&app, &mut browser, &client).await;
        let revoked = site_tokens(&app, &mut browser, &client).await;
        let token = |t: &Value| t["access_token"].as_str().unwrap().to_owned();
        revoke(&app, &client, &token(&revoked)).await;
        // Well formed, never issued.
        let unknown = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned();

        let (status, alone) = userinfo_answer(&app, &token(&first)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(alone["sub"].is_string(), "{alone}");

        let presented = [token(&first), token(&second), token(&revoked), unknown];
        let answers = futures_util::future::join_all(
            (0..AT_ONCE).map(|i| userinfo_answer(&app, &presented[i % presented.len()])),
        )
        .await;
        for (i, (status, body)) in answers.iter().enumerate() {
            match i % presented.len() {
                0 | 1 => {
                    assert_eq!(*status, StatusCode::OK, "request {i}");
                    assert_eq!(*body, alone, "request {i}: the member's own claims");
                }
                _ => assert_eq!(*status, StatusCode::UNAUTHORIZED, "request {i}"),
            }
        }

        // A revocation between two groups of reads: the later group sees it.
        revoke(&app, &client, &token(&second)).await;
        let answers = futures_util::future::join_all(
            (0..AT_ONCE).map(|i| userinfo_answer(&app, &presented[i % 2])),
        )
        .await;
        for (i, (status, _)) in answers.iter().enumerate() {
            let expected = if i % 2 == 0 {
                StatusCode::OK
            } else {
                StatusCode::UNAUTHORIZED
            };
            assert_eq!(*status, expected, "request {i}");
        }
    }
);

// More tokens at once than one statement reads: those left over are read by a task of
// their own, and every request is answered, the one known token among them too.
both!(
    more_reads_than_one_statement_takes_are_all_answered,
    |app| async move {
        use memberkey::domain::Token;
        let (client, mut browser) = member_at_a_site(&app).await;
        let tokens = site_tokens(&app, &mut browser, &client).await;
        let known = Token::from_presented(tokens["access_token"].as_str().unwrap()).unwrap();

        let svc = &app.app.services;
        let hashes = (0..700).map(|i| {
            if i == 650 {
                known.hash()
            } else {
                Token::generate().unwrap().hash()
            }
        });
        let answers =
            futures_util::future::join_all(hashes.map(|h| svc.oidc_access.read(svc, h))).await;
        assert_eq!(answers.len(), 700);
        for (i, answer) in answers.into_iter().enumerate() {
            let found = answer.unwrap();
            assert_eq!(found.is_some(), i == 650, "read {i}");
        }
    }
);
