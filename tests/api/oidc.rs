//! memberkey as an OpenID Connect provider, used by the `openidconnect` crate as a site's
//! server would use it on its default settings: discovery, code flow with PKCE, ID token
//! verification, userinfo, refresh, revocation and logout. The member's browser is a
//! cookie-keeping HTTP client here (`Visitor`); the Chromium walk is in `oidc_browser`.
//!
//! The relying party thinks the provider is `https://members.example.org` (the tests'
//! public address); its HTTP client sends those requests to the test server instead.

use std::future::Future;
use std::pin::Pin;

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl,
    RefreshToken, RevocationUrl, Scope, TokenResponse,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use memberkey::domain::Right;

use crate::helpers::{TestApp, both};
use crate::member_pages::{PASSWORD, Page, Visitor, member};

pub const ISSUER: &str = "https://members.example.org";
pub const CALLBACK: &str = "https://forum.example.org/auth/oidc/callback";
pub const AFTER_LOGOUT: &str = "https://forum.example.org/";

type HttpFuture =
    Pin<Box<dyn Future<Output = Result<openidconnect::HttpResponse, reqwest::Error>> + Send>>;

/// The relying party's HTTP client: requests to the issuer go to the test server.
pub fn rp_http(app: &TestApp) -> impl Fn(openidconnect::HttpRequest) -> HttpFuture + Clone {
    let base = app.url("");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    move |req: openidconnect::HttpRequest| {
        let client = client.clone();
        let url = req.uri().to_string().replace(ISSUER, &base);
        Box::pin(async move {
            let mut builder = client.request(req.method().clone(), url);
            for (name, value) in req.headers() {
                builder = builder.header(name, value);
            }
            let resp = builder.body(req.body().clone()).send().await?;
            let mut out = axum::http::Response::builder().status(resp.status());
            for (name, value) in resp.headers() {
                out = out.header(name, value);
            }
            Ok(out.body(resp.bytes().await?.to_vec()).unwrap())
        }) as HttpFuture
    }
}

/// A client from discovery: authorization set, token and userinfo as the metadata says.
pub type Rp = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A site registered through the API; returns its client ID and secret.
pub async fn register(app: &TestApp, input: Value) -> (String, Option<String>) {
    // Each call registers through a staff user of its own, so a test may register several.
    static REGISTERED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = REGISTERED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let token = app
        .staff_with(&format!("webmaster{n}"), &[Right::ManageConnectedSites])
        .await;
    let resp = app
        .gql(
            Some(&token),
            "mutation($i: CreateOidcClientInput!) { createOidcClient(input: $i) { client { clientId discoveryUrl } clientSecret } }",
            json!({ "i": input }),
        )
        .await;
    assert!(resp["errors"].is_null(), "{resp}");
    let made = &resp["data"]["createOidcClient"];
    assert_eq!(
        made["client"]["discoveryUrl"],
        format!("{ISSUER}/.well-known/openid-configuration")
    );
    (
        made["client"]["clientId"].as_str().unwrap().to_owned(),
        made["clientSecret"].as_str().map(str::to_owned),
    )
}

pub fn forum() -> Value {
    json!({
        "name": "Members' Forum",
        "redirectUris": [CALLBACK],
        "postLogoutRedirectUris": [AFTER_LOGOUT],
    })
}

/// The relying party, set up from discovery.
pub async fn relying_party(app: &TestApp, client_id: &str, secret: Option<String>) -> Rp {
    let http = rp_http(app);
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(ISSUER.into()).unwrap(), &http)
            .await
            .expect("discovery");
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client_id.into()),
        secret.map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(CALLBACK.into()).unwrap())
}

/// The path of an address on the issuer.
pub fn path_of(url: &str) -> String {
    url.strip_prefix(ISSUER)
        .unwrap_or_else(|| panic!("{url} is not on the issuer"))
        .to_owned()
}

/// The query parameters of the redirect back to the site.
pub fn callback_params(location: &str) -> std::collections::HashMap<String, String> {
    assert!(location.starts_with(CALLBACK), "{location}");
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// The member's browser signs in where the authorization request sends it, and follows on
/// to the site. Returns the redirect to the site.
pub async fn sign_in_through(browser: &mut Visitor<'_>, auth_url: &str, password: &str) -> Page {
    let first = browser.get(&path_of(auth_url)).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let sign_in = browser.get(first.location()).await;
    assert_eq!(sign_in.status, 200);
    assert!(
        sign_in
            .body
            .contains("to continue to <strong>Members&#39; Forum</strong>")
            || sign_in
                .body
                .contains("to continue to <strong>Members&#x27; Forum</strong>"),
        "{}",
        sign_in.body
    );
    let csrf = sign_in.csrf();
    let next = url::Url::parse(&format!("{ISSUER}{}", first.location()))
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "next")
        .unwrap()
        .1
        .into_owned();
    let signed_in = browser
        .post(
            "/portal/sign-in",
            &[
                ("login", "mariaj"),
                ("password", password),
                ("csrf", &csrf),
                ("next", &next),
            ],
        )
        .await;
    // A page that leads on (a redirect answering a form may not leave this origin).
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    assert!(
        signed_in.body.contains("Continue to Members"),
        "{}",
        signed_in.body
    );
    browser.get(&next).await
}

both!(
    a_site_signs_a_member_in_with_a_standard_client,
    |app| async move {
        let (admin, maria) = member(&app, false).await;
        // She belongs to an organisation: the membership scope names it.
        let company = app
            .create_profile(&admin, crate::helpers::org("Harbour Shipping", None))
            .await;
        let moved = app
            .gql(
                Some(&admin),
                "mutation($id: ID!, $i: UpdateProfileInput!) { updateProfile(id: $id, input: $i) { profile { id } } }",
                json!({ "id": maria, "i": { "parentId": company } }),
            )
            .await;
        assert!(moved["errors"].is_null(), "{moved}");
        let (client_id, secret) = register(&app, forum()).await;
        let rp = relying_party(&app, &client_id, secret).await;
        let http = rp_http(&app);

        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (auth_url, state, nonce) = rp
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
        let mut browser = Visitor::new(&app);
        let back = sign_in_through(&mut browser, auth_url.as_str(), PASSWORD).await;
        assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
        let params = callback_params(back.location());
        assert_eq!(params["state"], *state.secret());
        assert_eq!(params["iss"], ISSUER, "RFC 9207");

        let tokens = rp
            .exchange_code(AuthorizationCode::new(params["code"].clone()))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .expect("code exchange");
        let id_token = tokens.id_token().expect("an ID token");
        let claims = id_token
            .claims(&rp.id_token_verifier(), &nonce)
            .expect("a valid ID token");
        let sub = claims.subject().as_str().to_owned();
        assert_eq!(sub.len(), 36, "a random identifier: {sub}");
        assert!(!sub.contains("mariaj") && !sub.contains('@'));
        assert_eq!(
            claims.email().map(|e| e.as_str()),
            Some("maria@harbour.example")
        );
        assert_eq!(
            claims.email_verified(),
            Some(false),
            "staff set the password; no mailed link was used"
        );
        assert!(claims.auth_time().is_some());
        assert!(tokens.expires_in().unwrap().as_secs() <= 600);

        let info: CoreUserInfoClaims = rp
            .user_info(tokens.access_token().clone(), None)
            .unwrap()
            .request_async(&http)
            .await
            .expect("userinfo");
        assert_eq!(info.subject().as_str(), sub, "the same subject everywhere");
        assert_eq!(
            info.preferred_username().map(|u| u.as_str()),
            Some("mariaj")
        );
        // The membership scope's claims, read as any site's plugin reads JSON.
        let raw: Value = app
            .client
            .get(app.url("/oidc/userinfo"))
            .bearer_auth(tokens.access_token().secret())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(raw["member_status"], "ACTIVE");
        assert_eq!(raw["organization"], "Harbour Shipping");
        assert_eq!(raw["name"], "Maria Jensen");
        assert_eq!(raw["sub"], sub);

        // The member's account page lists the site while it holds access.
        let account = browser.get("/portal/account").await;
        assert!(
            account.body.contains("Members&#39; Forum")
                || account.body.contains("Members&#x27; Forum"),
            "{}",
            account.body
        );

        // Refresh: a new pair; the old refresh token presented again revokes the grant.
        let first_refresh = tokens.refresh_token().unwrap().clone();
        let refreshed = rp
            .exchange_refresh_token(&first_refresh)
            .unwrap()
            .request_async(&http)
            .await
            .expect("refresh");
        assert_ne!(
            refreshed.access_token().secret(),
            tokens.access_token().secret()
        );
        let reused = rp
            .exchange_refresh_token(&first_refresh)
            .unwrap()
            .request_async(&http)
            .await;
        assert!(reused.is_err(), "a used refresh token is refused");
        let after_reuse = rp
            .exchange_refresh_token(refreshed.refresh_token().unwrap())
            .unwrap()
            .request_async(&http)
            .await;
        assert!(after_reuse.is_err(), "reuse revoked the whole grant");
        assert_eq!(app.audited("SITE_SIGN_IN").await, 1);
        assert_eq!(app.audited("SITE_SIGN_IN_REFUSED").await, 1);

        // RP-initiated logout with the ID token ends the
        // portal session and returns to the site's registered address with its state.
        let logout = format!(
            "/oidc/logout?id_token_hint={}&post_logout_redirect_uri={}&state=bye",
            id_token,
            url::form_urlencoded::byte_serialize(AFTER_LOGOUT.as_bytes()).collect::<String>()
        );
        let out = browser.get(&logout).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.body);
        assert_eq!(out.location(), format!("{AFTER_LOGOUT}?state=bye"));
        assert!(browser.session().is_none(), "the portal session ended");
    }
);

both!(
    revocation_and_a_switched_off_credential_end_what_a_site_holds,
    |app| async move {
        let (admin, id) = member(&app, false).await;
        let (client_id, secret) = register(&app, forum()).await;
        let rp = relying_party(&app, &client_id, secret).await;
        // openidconnect does not read `revocation_endpoint` from discovery; a site sets it.
        let revoking = rp
            .clone()
            .set_revocation_url(RevocationUrl::new(format!("{ISSUER}/oidc/revoke")).unwrap());
        let http = rp_http(&app);
        let signed_in = |rp: Rp| async move {
            let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
            let (auth_url, _, _) = rp
                .authorize_url(
                    CoreAuthenticationFlow::AuthorizationCode,
                    CsrfToken::new_random,
                    Nonce::new_random,
                )
                .set_pkce_challenge(challenge)
                .url();
            (auth_url, verifier)
        };
        let mut browser = Visitor::new(&app);
        let (auth_url, verifier) = signed_in(rp.clone()).await;
        let back = sign_in_through(&mut browser, auth_url.as_str(), PASSWORD).await;
        let params = callback_params(back.location());
        let tokens = rp
            .exchange_code(AuthorizationCode::new(params["code"].clone()))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .unwrap();
        revoking
            .revoke_token(tokens.refresh_token().unwrap().clone().into())
            .unwrap()
            .request_async(&http)
            .await
            .expect("revocation");
        let userinfo = |token: String| {
            let app = &app;
            async move {
                app.client
                    .get(app.url("/oidc/userinfo"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap()
            }
        };
        let resp = userinfo(tokens.access_token().secret().clone()).await;
        assert_eq!(
            resp.status(),
            401,
            "revoking the refresh token revoked its grant"
        );
        assert!(
            resp.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("invalid_token")
        );
        // No token at all: the scheme alone, without an error code (RFC 6750 §3.1).
        let bare = app
            .client
            .post(app.url("/oidc/userinfo"))
            .send()
            .await
            .unwrap();
        assert_eq!(bare.status(), 401);
        assert_eq!(bare.headers()["www-authenticate"], "Bearer");

        // Signed in to the site again (the portal session still stands, so no form), then
        // staff switch the credential off: the site's tokens die at once.
        let (auth_url, verifier) = signed_in(rp.clone()).await;
        let back = browser.get(&path_of(auth_url.as_str())).await;
        let params = callback_params(back.location());
        let tokens = rp
            .exchange_code(AuthorizationCode::new(params["code"].clone()))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .unwrap();
        assert_eq!(
            userinfo(tokens.access_token().secret().clone())
                .await
                .status(),
            200
        );
        let resp = app
        .gql(
            Some(&admin),
            "mutation($p: ID!) { setPortalCredentialsEnabled(profileId: $p, enabled: false) { credential { username } } }",
            json!({ "p": id }),
        )
        .await;
        assert!(resp["errors"].is_null(), "{resp}");
        assert_eq!(
            userinfo(tokens.access_token().secret().clone())
                .await
                .status(),
            401
        );
        let refreshed = rp
            .exchange_refresh_token(&RefreshToken::new(
                tokens.refresh_token().unwrap().secret().clone(),
            ))
            .unwrap()
            .request_async(&http)
            .await;
        assert!(refreshed.is_err());
    }
);
