//! The authorization endpoint's decisions. The HTTP layer reads the request and the
//! member's session; this module decides, in the order the standards set:
//!
//! 1. the site and the redirect address. Until both are known good, nothing is ever sent
//!    to the address: an error page is shown instead ([`Unredirectable`]);
//! 2. the request itself (`response_type`, `scope`, PKCE), refused by redirect;
//! 3. the member, once signed in: whether their membership includes the site;
//! 4. a single-use code, bound to site, address and PKCE challenge.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use super::{CODE_TTL, OidcError, admitted};
use crate::domain::{
    AuditAction, AuditActor, ConnectedSite, NewAuditEvent, ProfileId, RedirectUri, Scopes, Token,
};
use crate::error::AppResult;
use crate::services::principal::MemberPrincipal;
use crate::services::{RequestMeta, Services, audit};
use crate::store::{self, oidc::grants::CodeRecord};

/// An authorization request's parameters, as the site sent them.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct AuthRequest {
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub redirect_uri: String,
    #[serde(default)]
    pub response_type: String,
    #[serde(default)]
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_hint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_uri: Option<String>,
}

/// Why a request cannot even be answered by redirect: the site or its address is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unredirectable {
    UnknownSite,
    UnregisteredRedirect,
}

/// A request whose site and address are known good.
pub struct Checked {
    pub site: ConnectedSite,
    pub redirect: RedirectUri,
    pub request: AuthRequest,
}

/// The site and redirect address of a request, or why it cannot be redirected.
pub async fn site_of(
    svc: &Services,
    request: AuthRequest,
) -> AppResult<Result<Checked, Unredirectable>> {
    let Some(record) = store::oidc::sites::get(&svc.db, &request.client_id).await? else {
        return Ok(Err(Unredirectable::UnknownSite));
    };
    // An exact string match: no prefix, no wildcard, no normalisation.
    let Some(redirect) = record.site.redirect(&request.redirect_uri).cloned() else {
        return Ok(Err(Unredirectable::UnregisteredRedirect));
    };
    Ok(Ok(Checked {
        site: record.site,
        redirect,
        request,
    }))
}

/// What the request asks of the member's sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// Use a session if there is one, else ask.
    Default,
    /// Never show a page: without a usable session, answer `login_required`.
    None,
    /// Ask for the password again whatever session there is.
    Login,
}

impl Checked {
    /// Refusals of the request itself, sent back to the site by redirect. Returns the
    /// scopes granted and how to treat an existing session.
    pub fn validate(&self) -> Result<(Scopes, Prompt, Option<i64>), OidcError> {
        let r = &self.request;
        if r.request.is_some() {
            return Err(OidcError::refused(
                "request_not_supported",
                "request objects are not supported; send the parameters in the query",
            ));
        }
        if r.request_uri.is_some() {
            return Err(OidcError::refused(
                "request_uri_not_supported",
                "request_uri is not supported; send the parameters in the query",
            ));
        }
        if r.response_type != "code" {
            return Err(OidcError::refused(
                "unsupported_response_type",
                "only the authorization code flow (response_type=code) is supported",
            ));
        }
        if r.response_mode.as_deref().is_some_and(|m| m != "query") {
            return Err(OidcError::refused(
                "invalid_request",
                "only response_mode=query is supported",
            ));
        }
        let scopes = Scopes::parse(&r.scope)
            .ok_or_else(|| OidcError::refused("invalid_scope", "the scope must include openid"))?;
        match (
            r.code_challenge.as_deref(),
            r.code_challenge_method.as_deref(),
        ) {
            (None, Some(_)) => {
                return Err(OidcError::refused(
                    "invalid_request",
                    "code_challenge_method was given without code_challenge",
                ));
            }
            (None, None) if !self.site.confidential => {
                return Err(OidcError::refused(
                    "invalid_request",
                    "PKCE is required for this client: send code_challenge with code_challenge_method=S256",
                ));
            }
            (Some(_), Some(m)) if m != "S256" => {
                return Err(OidcError::refused(
                    "invalid_request",
                    "only code_challenge_method=S256 is supported; plain is refused",
                ));
            }
            (Some(_), None) => {
                return Err(OidcError::refused(
                    "invalid_request",
                    "give code_challenge_method=S256: the plain method is refused",
                ));
            }
            (Some(c), Some(_)) if !challenge_shape(c) => {
                return Err(OidcError::refused(
                    "invalid_request",
                    "code_challenge must be the 43-character base64url SHA-256 of the verifier",
                ));
            }
            _ => {}
        }
        let prompt = match r.prompt.as_deref().map(str::trim) {
            None | Some("") => Prompt::Default,
            Some("none") => Prompt::None,
            Some("login") => Prompt::Login,
            Some(p) if p.split(' ').any(|v| v == "none") => {
                return Err(OidcError::refused(
                    "invalid_request",
                    "prompt=none may not be combined with other values",
                ));
            }
            Some(p) if p.split(' ').any(|v| v == "login") => Prompt::Login,
            // consent and select_account: a first-party site needs no consent, and a
            // browser holds one member's session.
            Some(_) => Prompt::Default,
        };
        let max_age = match r.max_age.as_deref() {
            None | Some("") => None,
            Some(raw) => Some(raw.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| {
                OidcError::refused(
                    "invalid_request",
                    "max_age must be a whole number of seconds",
                )
            })?),
        };
        Ok((scopes, prompt, max_age))
    }

    /// Where the site gets its answer: the registered address with `params` and the
    /// issuer (RFC 9207) added to its query.
    pub fn answer(&self, issuer: &str, params: &[(&str, &str)]) -> String {
        let mut url = match url::Url::parse(self.redirect.as_str()) {
            Ok(u) => u,
            // Registered addresses were parsed when registered.
            Err(_) => return self.redirect.as_str().to_owned(),
        };
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in params {
                q.append_pair(k, v);
            }
            if let Some(state) = &self.request.state {
                q.append_pair("state", state);
            }
            q.append_pair("iss", issuer);
        }
        url.to_string()
    }
}

fn challenge_shape(c: &str) -> bool {
    c.len() == 43
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The S256 challenge of a PKCE verifier.
pub fn s256(verifier: &str) -> String {
    use sha2::{Digest, Sha256};
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Records a refused sign-in to a site.
pub async fn audit_refusal(
    svc: &Services,
    meta: &RequestMeta,
    site: &str,
    profile: Option<ProfileId>,
    reason: &str,
) -> AppResult<()> {
    let event = NewAuditEvent::new(
        AuditAction::SiteSignInRefused,
        match profile {
            Some(p) => AuditActor::Member(p.get()),
            None => AuditActor::Anonymous,
        },
        meta.client_ip.as_deref(),
    )
    .with_profile(profile)
    .detail(json!({ "clientId": site, "reason": reason }));
    audit::record(&svc.db, svc.clock.now(), event).await
}

/// Issues the code for a signed-in member, or refuses with `access_denied` when their
/// membership does not include the site (audited either way).
pub async fn issue_code(
    svc: &Services,
    meta: &RequestMeta,
    checked: &Checked,
    scopes: &Scopes,
    member: &MemberPrincipal,
) -> Result<String, OidcError> {
    let site = &checked.site;
    if let Err(reason) = admitted(svc, site, member.profile_id).await? {
        audit_refusal(svc, meta, &site.client_id, Some(member.profile_id), reason).await?;
        return Err(OidcError::refused(
            "access_denied",
            format!("the member's membership does not include {}", site.name),
        ));
    }
    let code = Token::generate().map_err(crate::error::AppError::internal)?;
    let now = svc.clock.now();
    let record = CodeRecord {
        client_id: site.client_id.clone(),
        profile_id: member.profile_id,
        redirect_uri: checked.redirect.as_str().to_owned(),
        code_challenge: checked.request.code_challenge.clone(),
        nonce: checked.request.nonce.clone(),
        scope: scopes.to_string(),
        auth_time: member.signed_in_at,
        expires_at: now + CODE_TTL,
        used_at: None,
    };
    store::oidc::grants::insert_code(&svc.db, &code.hash(), &record).await?;
    let event = NewAuditEvent::new(
        AuditAction::SiteSignIn,
        AuditActor::Member(member.profile_id.get()),
        meta.client_ip.as_deref(),
    )
    .profile(member.profile_id)
    .detail(json!({ "clientId": site.client_id, "site": site.name }));
    audit::record(&svc.db, now, event).await?;
    Ok(code.expose().to_owned())
}
