//! RP-initiated logout: reading the `id_token_hint` a site sends. The hint is an ID token
//! this provider signed; it may have expired (a member signs out long after signing in),
//! so only its signature and issuer are checked.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::issuer;
use crate::error::AppResult;
use crate::services::Services;

/// Who an ID token named, for which site, and from which sign-in.
pub struct Hint {
    pub subject: String,
    pub client_id: String,
    /// When the member signed in for the session the token came from (seconds).
    pub auth_time: Option<i64>,
}

#[derive(Deserialize)]
struct HintClaims {
    sub: String,
    aud: String,
    #[serde(default)]
    auth_time: Option<i64>,
}

/// The hint's subject and site, when it is an ID token this provider signed; `None` for
/// anything else.
pub async fn read_hint(svc: &Services, raw: &str) -> AppResult<Option<Hint>> {
    let Ok(header) = jsonwebtoken::decode_header(raw) else {
        return Ok(None);
    };
    let keys = svc.oidc_keys.keys(svc).await?;
    let Some(key) = keys.iter().find(|k| Some(&k.kid) == header.kid.as_ref()) else {
        return Ok(None);
    };
    let Ok(decoding) = DecodingKey::from_jwk(&key.jwk) else {
        return Ok(None);
    };
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.set_issuer(&[issuer(svc)]);
    validation.set_required_spec_claims(&["iss", "sub", "aud"]);
    Ok(
        jsonwebtoken::decode::<HintClaims>(raw, &decoding, &validation)
            .ok()
            .map(|d| Hint {
                subject: d.claims.sub,
                client_id: d.claims.aud,
                auth_time: d.claims.auth_time,
            }),
    )
}
