//! A small site of the association that signs members in through memberkey, as a forum or
//! course platform would: OpenID Connect discovery, the code flow with PKCE, ID token
//! verification and userinfo, with the `openidconnect` crate on its default settings.
//!
//! With `memberkey serve --demo` running (it registers this site and prints its client ID):
//!
//!     MEMBERKEY_ISSUER=http://127.0.0.1:8080 cargo run --example oidc_site -- <client-id>
//!
//! then open http://127.0.0.1:8090/ and choose "Sign in with your membership".

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AuthorizationCode, ClientId, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};

const SITE: &str = "http://127.0.0.1:8090";

/// Sign-ins under way, by their `state`: the PKCE verifier and nonce to check the answer.
type Pending = Arc<Mutex<HashMap<String, (PkceCodeVerifier, Nonce)>>>;

#[derive(Clone)]
struct Site {
    metadata: CoreProviderMetadata,
    client_id: String,
    pending: Pending,
    http: reqwest::Client,
}

impl Site {
    fn client(
        &self,
    ) -> CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    > {
        CoreClient::from_provider_metadata(
            self.metadata.clone(),
            ClientId::new(self.client_id.clone()),
            None,
        )
        .set_redirect_uri(RedirectUrl::new(format!("{SITE}/callback")).expect("a valid address"))
    }
}

/// openidconnect's HTTP requests, sent with reqwest (redirects are never followed).
async fn send(
    http: reqwest::Client,
    req: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, reqwest::Error> {
    let mut builder = http.request(req.method().clone(), req.uri().to_string());
    for (name, value) in req.headers() {
        builder = builder.header(name, value);
    }
    let resp = builder.body(req.body().clone()).send().await?;
    let mut out = axum::http::Response::builder().status(resp.status());
    for (name, value) in resp.headers() {
        out = out.header(name, value);
    }
    Ok(out
        .body(resp.bytes().await?.to_vec())
        .expect("a response rebuilt from a valid one"))
}

async fn home() -> Html<&'static str> {
    Html(
        "<!doctype html><title>Demo site</title><h1>Demo site</h1>\
         <p><a href=\"/login\">Sign in with your membership</a></p>",
    )
}

async fn login(State(site): State<Site>) -> Redirect {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = site
        .client()
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("membership".into()))
        .set_pkce_challenge(challenge)
        .url();
    site.pending
        .lock()
        .expect("not poisoned")
        .insert(state.secret().clone(), (verifier, nonce));
    Redirect::to(url.as_str())
}

async fn callback(State(site): State<Site>, Query(q): Query<HashMap<String, String>>) -> Response {
    if let Some(error) = q.get("error") {
        return Html(format!(
            "<h1>Not signed in</h1><p>The provider said: {error}</p>"
        ))
        .into_response();
    }
    let pending = q
        .get("state")
        .and_then(|s| site.pending.lock().expect("not poisoned").remove(s));
    let (Some(code), Some((verifier, nonce))) = (q.get("code"), pending) else {
        return Html("<h1>Unknown sign-in</h1><p><a href=\"/login\">Try again</a></p>")
            .into_response();
    };
    let client = site.client();
    let http = |req| send(site.http.clone(), req);
    let tokens = match client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .expect("the provider has a token endpoint")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
    {
        Ok(t) => t,
        Err(e) => return Html(format!("<h1>Exchange failed</h1><p>{e}</p>")).into_response(),
    };
    let Some(id_token) = tokens.id_token() else {
        return Html("<h1>No ID token</h1>").into_response();
    };
    let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
        Ok(c) => c.clone(),
        Err(e) => return Html(format!("<h1>Invalid ID token</h1><p>{e}</p>")).into_response(),
    };
    let info: Result<CoreUserInfoClaims, _> =
        match client.user_info(tokens.access_token().clone(), None) {
            Ok(req) => req.request_async(&http).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
    let name = info
        .ok()
        .and_then(|i| i.name().and_then(|n| n.get(None)).map(|n| n.to_string()))
        .unwrap_or_else(|| claims.subject().to_string());
    Html(format!(
        "<h1>Welcome, {name}</h1><p>Signed in through memberkey as subject {}.</p>",
        claims.subject().as_str()
    ))
    .into_response()
}

#[tokio::main]
async fn main() {
    let client_id = std::env::args()
        .nth(1)
        .expect("usage: oidc_site <client-id> (serve --demo prints it)");
    let issuer =
        std::env::var("MEMBERKEY_ISSUER").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client");
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(issuer.clone()).expect("MEMBERKEY_ISSUER is an address"),
        &|req| send(http.clone(), req),
    )
    .await
    .expect("discovery: is `memberkey serve --demo` running at MEMBERKEY_ISSUER?");
    let site = Site {
        metadata,
        client_id,
        pending: Pending::default(),
        http,
    };
    let app = Router::new()
        .route("/", get(home))
        .route("/login", get(login))
        .route("/callback", get(callback))
        .with_state(site);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8090")
        .await
        .expect("port 8090 is free");
    println!("Demo site on {SITE}/ (signing in through {issuer})");
    axum::serve(listener, app).await.expect("serve");
}
