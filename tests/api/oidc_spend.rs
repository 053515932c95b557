//! Codes exchanged at the same moment: the token endpoint writes the exchanges that arrive
//! together in one transaction (`services::oidc::spend`). Each code is still spent once:
//! every distinct code gets its own tokens, and a code presented twice at once is granted
//! to one request only, and what it gave is revoked (RFC 6749 §4.1.2).

use reqwest::StatusCode;

use crate::helpers::both;
use crate::member_pages::member;
use crate::oidc::{forum, register};
use crate::oidc_lifecycle::userinfo;
use crate::oidc_refusals::{a_code, code_form, exchange, signed_in};

/// Distinct codes besides the one presented twice.
const CODES: usize = 12;

both!(
    codes_exchanged_at_once_are_each_spent_once,
    |app| async move {
        let (_, _) = member(&app, false).await;
        let (client_id, secret) = register(&app, forum()).await;
        let secret = secret.unwrap();
        let mut browser = signed_in(&app).await;
        let mut codes = Vec::new();
        for _ in 0..=CODES {
            codes.push(a_code(&mut browser, &client_id).await);
        }
        let twice = codes[0].clone();
        let forms: Vec<_> = codes
            .iter()
            .chain(std::iter::once(&twice))
            .map(|c| code_form(&client_id, &secret, c))
            .collect();
        let answers = futures_util::future::join_all(forms.iter().map(|f| exchange(&app, f))).await;

        let (reused, distinct): (Vec<_>, Vec<_>) = answers
            .iter()
            .zip(codes.iter().chain(std::iter::once(&twice)))
            .partition(|(_, code)| **code == twice);
        let mut tokens = std::collections::HashSet::new();
        for ((status, body), _) in &distinct {
            assert_eq!(*status, StatusCode::OK, "{body}");
            assert!(tokens.insert(body["access_token"].as_str().unwrap().to_owned()));
        }
        assert_eq!(tokens.len(), CODES, "each code its own tokens");
        let granted: Vec<_> = reused
            .iter()
            .filter(|((status, _), _)| *status == StatusCode::OK)
            .collect();
        assert_eq!(granted.len(), 1, "one of the two uses: {reused:?}");
        let refused = reused
            .iter()
            .find(|((status, _), _)| *status != StatusCode::OK)
            .unwrap();
        assert_eq!(refused.0.1["error"], "invalid_grant", "{:?}", refused.0);

        // What the twice-presented code gave is revoked; the others' tokens work.
        assert_eq!(
            userinfo(&app, &granted[0].0.1).await,
            StatusCode::UNAUTHORIZED
        );
        for ((_, body), _) in &distinct {
            assert_eq!(userinfo(&app, body).await, StatusCode::OK);
        }
        assert_eq!(
            app.sql_value::<i64>("SELECT COUNT(*) AS n FROM oidc_grants", "n")
                .await,
            CODES as i64
        );
        assert_eq!(
            app.sql_value::<i64>("SELECT COUNT(*) AS n FROM oidc_tokens", "n")
                .await,
            2 * CODES as i64
        );
    }
);

// More exchanges at once than one transaction takes: those left over are written by a
// writer of their own, and every one is answered. (None of these codes exists, so each is
// answered "spent before".)
both!(
    more_exchanges_than_one_transaction_takes_are_all_answered,
    |app| async move {
        use memberkey::domain::TokenHash;
        use memberkey::services::oidc::spend::{Spend, Spent};
        let svc = &app.app.services;
        let spends = (0..700).map(|i| Spend {
            code_hash: TokenHash::of(format!("no such code {i}").as_bytes()),
            grant: None,
        });
        let answers =
            futures_util::future::join_all(spends.map(|s| svc.oidc_codes.spend(svc, s))).await;
        assert_eq!(answers.len(), 700);
        for answer in answers {
            assert_eq!(answer.unwrap(), Spent::Before);
        }
    }
);
