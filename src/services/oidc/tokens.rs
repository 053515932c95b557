//! The token endpoint (code exchange and refresh), userinfo and revocation.
//!
//! - A code is used once. A second use fails and revokes every token issued from it
//!   (RFC 6749 §4.1.2).
//! - A refresh token is replaced at each use. Presenting a replaced one means two parties
//!   hold it: the whole grant is revoked (OAuth 2.0 Security BCP §4.14).
//! - Every exchange and refresh checks again that the member may use the site.

use serde::Serialize;
use serde_json::json;
use subtle::ConstantTimeEq;

use super::authorize::{audit_refusal, s256};
use super::spend::{NewGrant, Spend, Spent};
use super::{ACCESS_TTL, Admitted, OidcError, REFRESH_TTL, admit, issuer};
use crate::domain::{
    AuditAction, AuditActor, ConnectedSite, NewAuditEvent, ProfileId, Scope, Scopes, Token,
    TokenHash, search_key,
};
use crate::error::{AppError, AppResult};
use crate::services::{RequestMeta, Services, audit};
use crate::store::{
    self,
    oidc::grants::{CodeRecord, TokenKind},
};

/// How a site proved who it is at the token or revocation endpoint.
pub struct ClientAuth {
    pub client_id: String,
    pub secret: Option<String>,
}

/// What the site asks the token endpoint for.
pub enum Grant {
    AuthorizationCode {
        code: String,
        redirect_uri: String,
        code_verifier: Option<String>,
    },
    RefreshToken {
        refresh_token: String,
    },
}

/// The token response (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3).
#[derive(Serialize)]
pub struct Issued {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: String,
    pub id_token: String,
    pub scope: String,
}

/// The site, when its credentials are right: a confidential site's secret, or no secret
/// at all for a public one.
async fn authenticate(svc: &Services, auth: &ClientAuth) -> Result<ConnectedSite, OidcError> {
    let wrong = || OidcError::refused("invalid_client", "unknown client or wrong client secret");
    let record = store::oidc::sites::get(&svc.db, &auth.client_id)
        .await?
        .ok_or_else(wrong)?;
    match (&record.secret_hash, &auth.secret) {
        (None, None) => Ok(record.site),
        (Some(stored), Some(given)) => {
            let presented = Token::from_presented(given).map(|t| t.hash());
            let matches = presented
                .is_some_and(|p| bool::from(p.as_str().as_bytes().ct_eq(stored.as_bytes())));
            if matches {
                Ok(record.site)
            } else {
                Err(wrong())
            }
        }
        _ => Err(wrong()),
    }
}

#[derive(Serialize)]
struct IdClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    azp: &'a str,
    exp: i64,
    iat: i64,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    #[serde(flatten)]
    person: serde_json::Map<String, serde_json::Value>,
}

/// The claims about the member that `scopes` grant (OpenID Connect Core §5.4), from facts
/// read with their code or token.
pub fn person_claims(
    who: &Admitted,
    scopes: &Scopes,
) -> serde_json::Map<String, serde_json::Value> {
    let profile = &who.profile;
    let mut claims = serde_json::Map::new();
    if scopes.has(Scope::Profile) {
        claims.insert("name".into(), json!(profile.display_name()));
        if let Some(v) = &profile.first_name {
            claims.insert("given_name".into(), json!(v));
        }
        if let Some(v) = &profile.last_name {
            claims.insert("family_name".into(), json!(v));
        }
        if let Some(v) = &who.credential.username {
            claims.insert("preferred_username".into(), json!(v));
        }
    }
    if scopes.has(Scope::Email)
        && let Some(email) = &profile.email
    {
        let verified = who
            .credential
            .email_verified_key
            .as_ref()
            .is_some_and(|k| *k == search_key(email));
        claims.insert("email".into(), json!(email));
        claims.insert("email_verified".into(), json!(verified));
    }
    if scopes.has(Scope::Membership) {
        claims.insert("member_status".into(), json!(profile.member_status.as_db()));
        let organization = match profile.parent_id {
            Some(_) => who.parent_organization.as_ref(),
            None => profile.organization_name.as_ref(),
        };
        if let Some(org) = organization {
            claims.insert("organization".into(), json!(org));
        }
    }
    claims
}

/// The subject of `who`: the one read with them, or a new one at their first site sign-in.
async fn subject_of(svc: &Services, who: &Admitted) -> AppResult<String> {
    match &who.subject {
        Some(sub) => Ok(sub.clone()),
        None => subject(svc, who.profile.id).await,
    }
}

/// The random, stable subject of a profile at every site.
pub async fn subject(svc: &Services, profile: ProfileId) -> AppResult<String> {
    let fresh = uuid::Uuid::new_v4().to_string();
    Ok(store::oidc::grants::subject(&svc.db, profile, &fresh).await?)
}

struct Issue<'a> {
    site: &'a ConnectedSite,
    who: &'a Admitted,
    scopes: Scopes,
    auth_time: chrono::DateTime<chrono::Utc>,
    nonce: Option<&'a str>,
}

/// A new access and refresh token, not yet stored.
struct Minted {
    access: Token,
    refresh: Token,
    /// When the tokens were made; they end `ACCESS_TTL` and `REFRESH_TTL` later.
    at: chrono::DateTime<chrono::Utc>,
}

impl Minted {
    fn new(svc: &Services) -> AppResult<Self> {
        Ok(Minted {
            access: Token::generate().map_err(AppError::internal)?,
            refresh: Token::generate().map_err(AppError::internal)?,
            at: svc.clock.now(),
        })
    }

    fn access(&self) -> (TokenHash, chrono::DateTime<chrono::Utc>) {
        (self.access.hash(), self.at + ACCESS_TTL)
    }

    fn refresh(&self) -> (TokenHash, chrono::DateTime<chrono::Utc>) {
        (self.refresh.hash(), self.at + REFRESH_TTL)
    }
}

/// The token response for tokens already stored: they, and a signed ID token.
async fn issue(svc: &Services, minted: Minted, what: Issue<'_>) -> Result<Issued, OidcError> {
    let now = minted.at;
    let sub = subject_of(svc, what.who).await?;
    let key = svc.oidc_keys.signing(svc).await?;
    let claims = IdClaims {
        iss: issuer(svc),
        sub: &sub,
        aud: &what.site.client_id,
        azp: &what.site.client_id,
        exp: (now + ACCESS_TTL).timestamp(),
        iat: now.timestamp(),
        auth_time: what.auth_time.timestamp(),
        nonce: what.nonce,
        person: person_claims(what.who, &what.scopes),
    };
    let id_token = key.sign(&claims).await?;
    Ok(Issued {
        access_token: minted.access.expose().to_owned(),
        token_type: "Bearer",
        expires_in: ACCESS_TTL.num_seconds(),
        refresh_token: minted.refresh.expose().to_owned(),
        id_token,
        scope: what.scopes.to_string(),
    })
}

/// A code presented after it was spent (or spent by a concurrent request): someone else
/// may hold it, so what it gave is revoked (RFC 6749 §4.1.2), and the attempt audited.
async fn code_replayed(
    svc: &Services,
    meta: &RequestMeta,
    client_id: &str,
    profile: ProfileId,
    hash: &TokenHash,
) -> AppResult<()> {
    let revoked = store::oidc::grants::delete_for_code(&svc.db, hash).await?;
    audit_refusal(svc, meta, client_id, Some(profile), "CODE_REUSED").await?;
    tracing::warn!(client = %client_id, revoked, "an authorization code was presented twice");
    Ok(())
}

/// A refresh token presented after it was replaced: the whole grant is revoked.
async fn refresh_replayed(
    svc: &Services,
    meta: &RequestMeta,
    client_id: &str,
    profile: ProfileId,
    grant_id: i64,
) -> AppResult<()> {
    store::oidc::grants::delete_grant(&svc.db, grant_id).await?;
    audit_refusal(svc, meta, client_id, Some(profile), "REFRESH_TOKEN_REUSED").await?;
    tracing::warn!(client = %client_id, "a replaced refresh token was presented again");
    Ok(())
}

fn bad_grant(description: &str) -> OidcError {
    OidcError::refused("invalid_grant", description)
}

/// The token endpoint.
pub async fn token(
    svc: &Services,
    meta: &RequestMeta,
    auth: ClientAuth,
    grant: Grant,
) -> Result<Issued, OidcError> {
    // No limit per client address here: a site's server makes every exchange from one
    // address, and codes, tokens and secrets are 256 random bits, beyond guessing.
    let site = authenticate(svc, &auth).await?;
    match grant {
        Grant::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => {
            exchange(
                svc,
                meta,
                &site,
                &code,
                &redirect_uri,
                code_verifier.as_deref(),
            )
            .await
        }
        Grant::RefreshToken { refresh_token } => refresh(svc, meta, &site, &refresh_token).await,
    }
}

async fn exchange(
    svc: &Services,
    meta: &RequestMeta,
    site: &ConnectedSite,
    raw_code: &str,
    redirect_uri: &str,
    verifier: Option<&str>,
) -> Result<Issued, OidcError> {
    let now = svc.clock.now();
    let invalid = || {
        bad_grant("the code is unknown, used, expired, or was issued to another client or address")
    };
    let hash = Token::from_presented(raw_code).ok_or_else(invalid)?.hash();
    let (code, member): (CodeRecord, _) = store::oidc::grants::find_code(&svc.db, &hash)
        .await?
        .ok_or_else(invalid)?;
    if code.client_id != site.client_id {
        return Err(invalid());
    }
    if code.used_at.is_some() {
        code_replayed(svc, meta, &site.client_id, code.profile_id, &hash).await?;
        return Err(invalid());
    }
    if code.expires_at <= now || code.redirect_uri != redirect_uri {
        return Err(invalid());
    }
    match (&code.code_challenge, verifier) {
        (Some(challenge), Some(v)) if verifier_shape(v) && s256(v) == *challenge => {}
        (None, None) => {}
        _ => {
            return Err(bad_grant(
                "the PKCE code_verifier does not match the code_challenge",
            ));
        }
    }
    let who = admit(svc, site.allowed_member_statuses.as_deref(), member);
    // The code is spent whether or not the member may use the site.
    let minted = match &who {
        Ok(_) => Some(Minted::new(svc)?),
        Err(_) => None,
    };
    let spend = Spend {
        code_hash: hash.clone(),
        grant: minted.as_ref().map(|m| NewGrant {
            code: code.clone(),
            access: m.access(),
            refresh: m.refresh(),
        }),
    };
    match (svc.oidc_codes.spend(svc, spend).await?, who, minted) {
        (Spent::Granted, Ok(who), Some(minted)) => {
            let scopes = Scopes::parse(&code.scope).unwrap_or_default();
            let what = Issue {
                site,
                who: &who,
                scopes,
                auth_time: code.auth_time,
                nonce: code.nonce.as_deref(),
            };
            issue(svc, minted, what).await
        }
        (Spent::Refused, Err(reason), _) => {
            audit_refusal(svc, meta, &site.client_id, Some(code.profile_id), reason).await?;
            Err(bad_grant("the member may not sign in to this site"))
        }
        // Another request spent the code a moment ago: a replay that won the race, treated
        // like any second use (RFC 6749 §4.1.2).
        _ => {
            code_replayed(svc, meta, &site.client_id, code.profile_id, &hash).await?;
            Err(invalid())
        }
    }
}

/// RFC 7636 §4.1: 43 to 128 characters from the unreserved set.
fn verifier_shape(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

async fn refresh(
    svc: &Services,
    meta: &RequestMeta,
    site: &ConnectedSite,
    raw: &str,
) -> Result<Issued, OidcError> {
    let now = svc.clock.now();
    let invalid = || bad_grant("the refresh token is unknown, used, expired or revoked");
    let hash = Token::from_presented(raw).ok_or_else(invalid)?.hash();
    let (held, member) = store::oidc::grants::find_refresh(&svc.db, &hash)
        .await?
        .ok_or_else(invalid)?;
    if held.client_id != site.client_id {
        return Err(invalid());
    }
    if held.used_at.is_some() {
        refresh_replayed(svc, meta, &site.client_id, held.profile_id, held.grant_id).await?;
        return Err(invalid());
    }
    if held.expires_at <= now {
        return Err(invalid());
    }
    let who = admit(svc, site.allowed_member_statuses.as_deref(), member);
    let txn = store::begin_write(&svc.db).await?;
    if !store::oidc::grants::use_token(&txn, &hash, now).await? {
        // Spent by a concurrent request: reuse all the same.
        store::rollback(txn).await?;
        refresh_replayed(svc, meta, &site.client_id, held.profile_id, held.grant_id).await?;
        return Err(invalid());
    }
    let who = match who {
        Ok(who) => who,
        Err(reason) => {
            store::oidc::grants::delete_grant(&txn, held.grant_id).await?;
            store::commit(txn).await?;
            audit_refusal(svc, meta, &site.client_id, Some(held.profile_id), reason).await?;
            return Err(invalid());
        }
    };
    let minted = Minted::new(svc)?;
    let (access, refresh) = (minted.access(), minted.refresh());
    store::oidc::grants::insert_tokens(
        &txn,
        &[
            (&access.0, held.grant_id, TokenKind::Access, access.1),
            (&refresh.0, held.grant_id, TokenKind::Refresh, refresh.1),
        ],
    )
    .await?;
    store::commit(txn).await?;
    let scopes = Scopes::parse(&held.scope).unwrap_or_default();
    issue(
        svc,
        minted,
        Issue {
            site,
            who: &who,
            scopes,
            auth_time: held.auth_time,
            nonce: None,
        },
    )
    .await
}

/// The userinfo claims for a live access token; `None` when the token is unknown, expired
/// or revoked, or the member may no longer use the site.
pub async fn userinfo(
    svc: &Services,
    bearer: &str,
) -> AppResult<Option<serde_json::Map<String, serde_json::Value>>> {
    let Some(token) = Token::from_presented(bearer) else {
        return Ok(None);
    };
    // One joined read, shared with concurrent requests: the token, the site's rule, the member.
    let Some(facts) = svc.oidc_access.read(svc, token.hash()).await? else {
        return Ok(None);
    };
    let facts = std::sync::Arc::unwrap_or_clone(facts);
    if facts.expires_at <= svc.clock.now() {
        return Ok(None);
    }
    let Ok(who) = admit(svc, facts.allowed_member_statuses.as_deref(), facts.member) else {
        return Ok(None);
    };
    let scopes = Scopes::parse(&facts.scope).unwrap_or_default();
    let mut claims = person_claims(&who, &scopes);
    claims.insert("sub".into(), json!(subject_of(svc, &who).await?));
    Ok(Some(claims))
}

/// Token revocation (RFC 7009): a refresh token revokes its whole grant, an access token
/// itself. An unknown token, or another site's, changes nothing and is not an error.
pub async fn revoke(
    svc: &Services,
    meta: &RequestMeta,
    auth: ClientAuth,
    raw: &str,
) -> Result<(), OidcError> {
    let site = authenticate(svc, &auth).await?;
    let Some(token) = Token::from_presented(raw) else {
        return Ok(());
    };
    let hash = token.hash();
    for kind in [TokenKind::Refresh, TokenKind::Access] {
        let Some(held) = store::oidc::grants::find_token(&svc.db, &hash, kind).await? else {
            continue;
        };
        if held.client_id != site.client_id {
            return Ok(());
        }
        match kind {
            TokenKind::Refresh => store::oidc::grants::delete_grant(&svc.db, held.grant_id).await?,
            TokenKind::Access => store::oidc::grants::delete_token(&svc.db, &hash).await?,
        }
        let event = NewAuditEvent::new(
            AuditAction::SiteAccessRemoved,
            AuditActor::System,
            meta.client_ip.as_deref(),
        )
        .profile(held.profile_id)
        .detail(json!({ "clientId": site.client_id, "by": "SITE" }));
        audit::record(&svc.db, svc.clock.now(), event).await?;
        return Ok(());
    }
    Ok(())
}

/// Removes a site's access for the signed-in member ("Remove access" on the account page).
pub async fn remove_access(
    svc: &Services,
    meta: &RequestMeta,
    member: ProfileId,
    client_id: &str,
) -> AppResult<()> {
    let txn = store::begin_write(&svc.db).await?;
    store::oidc::grants::delete_for_member(&txn, member, Some(client_id)).await?;
    let event = NewAuditEvent::new(
        AuditAction::SiteAccessRemoved,
        AuditActor::Member(member.get()),
        meta.client_ip.as_deref(),
    )
    .profile(member)
    .detail(json!({ "clientId": client_id, "by": "MEMBER" }));
    audit::record(&txn, svc.clock.now(), event).await?;
    store::commit(txn).await?;
    Ok(())
}
