//! GraphQL-over-HTTP behaviour: media types, status codes, GET rules, batches, body limit.

use serde_json::{Value, json};

use crate::helpers::both;

both!(
    post_answers_with_the_negotiated_media_type,
    |app| async move {
        let body = json!({ "query": "{ __typename }" });
        let resp = app
            .client
            .post(app.url("/graphql"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "application/json");

        let resp = app
            .client
            .post(app.url("/graphql"))
            .header(
                "accept",
                "application/graphql-response+json, application/json;q=0.9",
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers()["content-type"],
            "application/graphql-response+json"
        );
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["data"]["__typename"], "QueryRoot");

        let resp = app
            .client
            .post(app.url("/graphql"))
            .header("accept", "text/html")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 406);
    }
);

both!(
    request_errors_are_400_only_for_graphql_response_json,
    |app| async move {
        let body = json!({ "query": "{ membrs }" });
        let resp = app
            .client
            .post(app.url("/graphql"))
            .header("accept", "application/graphql-response+json")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
        let v: Value = resp.json().await.unwrap();
        assert!(
            v.get("data").is_none(),
            "a request error has no data entry: {v}"
        );
        assert!(v["errors"].as_array().is_some_and(|e| !e.is_empty()));

        let resp = app
            .client
            .post(app.url("/graphql"))
            .header("accept", "application/json")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);

        let resp = app
            .client
            .post(app.url("/graphql"))
            .header("content-type", "application/json")
            .body("{ not json")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
    }
);

both!(only_json_bodies_are_accepted, |app| async move {
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let resp = app
            .client
            .post(app.url("/graphql"))
            .header("content-type", ct)
            .body(r#"{"query":"{ __typename }"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 415, "{ct}");
    }
});

both!(get_runs_queries_but_never_mutations, |app| async move {
    let resp = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "{ __typename }")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["data"]["__typename"], "QueryRoot");

    let resp = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "mutation { staffLogout { signedOut } }")])
        .header("accept", "text/html, application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"], "POST");

    let resp = app
        .client
        .get(app.url("/graphql"))
        .query(&[
            (
                "query",
                "query A { __typename } mutation B { staffLogout { signedOut } }",
            ),
            ("operationName", "B"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);

    let resp = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("GraphiQL"));
});

both!(
    graphiql_is_served_from_the_binary_with_a_strict_csp,
    |app| async move {
        let page = app
            .client
            .get(app.url("/graphql"))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        let csp = page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("script-src 'self';"), "{csp}");
        assert!(csp.contains("connect-src 'self';"), "{csp}");
        let html = page.text().await.unwrap();
        assert!(
            !html.contains("https://") && !html.contains("http://"),
            "no other origin in the page"
        );
        for file in [
            "page.js",
            "page.css",
            "favicon.svg",
            "graphiql.min.js",
            "graphiql.min.css",
            "react.production.min.js",
            "react-dom.production.min.js",
        ] {
            assert!(html.contains(&format!("/graphiql/{file}")), "{file} linked");
            let resp = app
                .client
                .get(app.url(&format!("/graphiql/{file}")))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "{file}");
            assert_eq!(resp.headers()["cache-control"], "no-cache");
            let etag = resp.headers()["etag"].clone();
            assert!(!resp.bytes().await.unwrap().is_empty());
            // An unchanged file is not sent again.
            let again = app
                .client
                .get(app.url(&format!("/graphiql/{file}")))
                .header("if-none-match", etag)
                .send()
                .await
                .unwrap();
            assert_eq!(again.status(), 304, "{file}");
        }
        let missing = app
            .client
            .get(app.url("/graphiql/nothing.js"))
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);
    }
);

both!(array_batches_are_refused, |app| async move {
    let batch: Vec<Value> = (0..1000)
        .map(|_| json!({ "query": "{ __typename }" }))
        .collect();
    let resp = app
        .client
        .post(app.url("/graphql"))
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["errors"][0]["extensions"]["code"], "BAD_REQUEST");
});

both!(oversized_bodies_get_413, |app| async move {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // Announce a 10 MiB body and send none of it: the limit is enforced on the header, before
    // anything is read or parsed.
    let mut stream = tokio::net::TcpStream::connect(app.app.addr).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        app.app.addr,
        10 * 1024 * 1024
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 64];
    let n = stream.read(&mut buf).await.unwrap();
    let status_line = String::from_utf8_lossy(&buf[..n]);
    assert!(status_line.starts_with("HTTP/1.1 413"), "{status_line}");

    // A body just over the limit without a length header is cut off as it streams in.
    let over = format!(
        r#"{{"query":"{{ __typename }}","variables":{{"p":"{}"}}}}"#,
        "x".repeat(300 * 1024)
    );
    let stream_body = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(over.into_bytes())]);
    let resp = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream_body))
        .send()
        .await;
    if let Ok(resp) = resp {
        assert_eq!(resp.status(), 413);
    }
});

both!(healthz_reports_the_database, |app| async move {
    let resp = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
});

async fn cors_allows_configured_origins(backend: crate::helpers::Backend) {
    let app = crate::helpers::spawn_app_with(backend, |c| {
        c.cors_origins = vec!["https://portal.chamber.example".into()]
    })
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/graphql"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let ok = preflight("https://portal.chamber.example").await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://portal.chamber.example"
    );
    let allowed = ok.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(allowed.contains("authorization"), "{allowed}");
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}
crate::helpers::per_backend!(
    cors_allows_only_configured_origins,
    super::cors_allows_configured_origins
);

both!(the_frameworks_own_refusals_carry_a_code, |app| async move {
    let big = "x".repeat(300 * 1024);
    let cases = [
        (reqwest::Method::PUT, "/graphql", None, 405),
        (reqwest::Method::POST, "/graphql", Some(big.clone()), 413),
        (reqwest::Method::GET, "/webhooks/ses", None, 405),
        (reqwest::Method::POST, "/webhooks/ses", Some(big), 413),
        (reqwest::Method::GET, "/graphql/nothing-here", None, 404),
    ];
    for (method, path, body, status) in cases {
        // A client of its own each: the server closes a connection after refusing its body,
        // and a pooled one would be reused for the next request.
        let mut req = reqwest::Client::new().request(method.clone(), app.url(path));
        if let Some(body) = body {
            req = req.header("content-type", "application/json").body(body);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), status, "{method} {path}");
        if status == 405 {
            assert!(resp.headers().contains_key("allow"), "{method} {path}");
        }
        let v: Value = resp
            .json()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        assert_eq!(
            v["errors"][0]["extensions"]["code"], "BAD_REQUEST",
            "{method} {path}: {v}"
        );
        assert!(v["errors"][0]["message"].as_str().unwrap().len() > 20);
    }
    // A person who opens a wrong page address reads a small page, not a bare status.
    let resp = app
        .client
        .get(app.url("/portal/no-such-page"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(resp.headers().contains_key("content-security-policy"));
    let page = resp.text().await.unwrap();
    assert!(page.contains("Not Found"), "{page}");
});
