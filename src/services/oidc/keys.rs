//! The keys that sign ID tokens (RS256). A key is made the first time one is needed and
//! stored sealed with the sealing key, bound to its `kid`. `memberkey keys rotate` publishes
//! a new key at once and signs with it only after [`GRACE`], so sites that cache the JWKS
//! learn it first; the previous key stays published until a newer one has signed for
//! longer than any token lives.

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use super::super::Services;
use crate::error::{AppError, AppResult};
use crate::store::{self, oidc::keys::KeyRecord};

/// How long a new key is published before it signs.
pub const GRACE: Duration = Duration::hours(24);
/// How long the keys are kept in memory before the database is asked again (another
/// process may have rotated them).
const RELOAD: Duration = Duration::seconds(60);

/// A key ready to sign, with its public half as a JWK.
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pub encoding: EncodingKey,
    pub jwk: Jwk,
    pub signs_from: DateTime<Utc>,
}

impl SigningKey {
    /// Signs `claims` as a JWT (RS256, naming this key's `kid`). An RSA signature takes a
    /// good part of a millisecond of CPU, so it runs on a blocking thread: on an async
    /// worker it held up whichever request was inside SQLite's one write transaction, and
    /// with it every other request waiting to write.
    pub async fn sign(&self, claims: &impl serde::Serialize) -> AppResult<String> {
        let claims = serde_json::to_value(claims).map_err(AppError::internal)?;
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        let key = self.encoding.clone();
        tokio::task::spawn_blocking(move || jsonwebtoken::encode(&header, &claims, &key))
            .await
            .map_err(AppError::internal)?
            .map_err(|e| AppError::internal(format!("could not sign an ID token: {e}")))
    }
}

/// The keys in memory, reloaded from the database every [`RELOAD`].
#[derive(Default)]
pub struct KeyRing {
    loaded: Mutex<Option<(DateTime<Utc>, Vec<SigningKey>)>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyRing(<keys redacted>)")
    }
}

fn context(kid: &str) -> Vec<u8> {
    format!("oidc-signing-key:{kid}").into_bytes()
}

/// A fresh RSA-2048 key from aws-lc-rs, as the PKCS#1 DER jsonwebtoken signs with.
fn generate() -> AppResult<Vec<u8>> {
    use aws_lc_rs::encoding::AsDer;
    use pkcs8::der::Decode;
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
        .map_err(|_| AppError::internal("could not make an RSA key"))?;
    let pkcs8_der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair)
        .map_err(|_| AppError::internal("could not write the RSA key"))?;
    let info = pkcs8::PrivateKeyInfo::from_der(pkcs8_der.as_ref())
        .map_err(|e| AppError::internal(format!("could not read the RSA key: {e}")))?;
    Ok(info.private_key.to_vec())
}

fn open(svc: &Services, record: &KeyRecord) -> AppResult<SigningKey> {
    let der = svc
        .vault
        .open_bytes(&record.sealed_private_key, &context(&record.kid))
        .ok_or_else(|| {
            AppError::internal(format!(
                "signing key {} does not open with this sealing key",
                record.kid
            ))
        })?;
    let encoding = EncodingKey::from_rsa_der(&der);
    let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::RS256)
        .map_err(|e| AppError::internal(format!("signing key {}: {e}", record.kid)))?;
    jwk.common.key_id = Some(record.kid.clone());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    jwk.common.key_algorithm = Some(KeyAlgorithm::RS256);
    Ok(SigningKey {
        kid: record.kid.clone(),
        encoding,
        jwk,
        signs_from: record.signs_from,
    })
}

/// Makes, seals and stores a new key that signs from `signs_from`.
async fn add(svc: &Services, signs_from: DateTime<Utc>) -> AppResult<String> {
    let der = tokio::task::spawn_blocking(generate)
        .await
        .map_err(AppError::internal)??;
    let kid = uuid::Uuid::new_v4().simple().to_string();
    let record = KeyRecord {
        sealed_private_key: svc.vault.seal_bytes(&der, &context(&kid))?,
        kid: kid.clone(),
        created_at: svc.clock.now(),
        signs_from,
    };
    store::oidc::keys::insert(&svc.db, &record).await?;
    Ok(kid)
}

impl KeyRing {
    fn cached(&self, now: DateTime<Utc>) -> Option<Vec<SigningKey>> {
        let guard = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .filter(|(at, keys)| !keys.is_empty() && now - *at < RELOAD && *at <= now)
            .map(|(_, keys)| keys.clone())
    }

    /// Forgets the keys in memory (after a rotation in this process).
    pub fn forget(&self) {
        *self.loaded.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Every published key, newest first; the first one is made if there is none.
    pub async fn keys(&self, svc: &Services) -> AppResult<Vec<SigningKey>> {
        let now = svc.clock.now();
        if let Some(keys) = self.cached(now) {
            return Ok(keys);
        }
        let mut records = store::oidc::keys::all(&svc.db).await?;
        if records.is_empty() {
            add(svc, now).await?;
            records = store::oidc::keys::all(&svc.db).await?;
        }
        let keys = records
            .iter()
            .map(|r| open(svc, r))
            .collect::<AppResult<Vec<_>>>()?;
        *self.loaded.lock().unwrap_or_else(|e| e.into_inner()) = Some((now, keys.clone()));
        Ok(keys)
    }

    /// The key that signs now: the newest one whose grace has passed.
    pub async fn signing(&self, svc: &Services) -> AppResult<SigningKey> {
        let now = svc.clock.now();
        let keys = self.keys(svc).await?;
        keys.iter()
            .find(|k| k.signs_from <= now)
            .or_else(|| keys.last())
            .cloned()
            .ok_or_else(|| AppError::internal("no signing key"))
    }

    /// The JWKS document: every published key.
    pub async fn jwks(&self, svc: &Services) -> AppResult<JwkSet> {
        Ok(JwkSet {
            keys: self.keys(svc).await?.into_iter().map(|k| k.jwk).collect(),
        })
    }
}

/// What `memberkey keys rotate` did.
pub struct Rotated {
    pub kid: String,
    pub signs_from: DateTime<Utc>,
    /// Keys no longer published: a newer key has signed for longer than tokens live.
    pub retired: u64,
}

/// Publishes a new key that signs after [`GRACE`], and retires keys no token can still need.
pub async fn rotate(svc: &Services) -> AppResult<Rotated> {
    let now = svc.clock.now();
    // Make sure the current key exists first, so the new one has something to follow.
    svc.oidc_keys.keys(svc).await?;
    let signs_from = now + GRACE;
    let kid = add(svc, signs_from).await?;
    // Keep the newest key that already signs and everything newer; older ones signed
    // nothing that is still alive once a newer key has signed for a grace period.
    let records = store::oidc::keys::all(&svc.db).await?;
    let signing_since = records
        .iter()
        .map(|r| r.signs_from)
        .filter(|from| *from <= now - GRACE)
        .max();
    let retired = match signing_since {
        Some(from) => store::oidc::keys::delete_signing_before(&svc.db, from).await?,
        None => 0,
    };
    let event = crate::domain::NewAuditEvent::new(
        crate::domain::AuditAction::SigningKeyRotated,
        crate::domain::AuditActor::System,
        None,
    )
    .detail(serde_json::json!({ "kid": kid, "signsFrom": signs_from, "retired": retired }));
    super::super::audit::record(&svc.db, now, event).await?;
    svc.oidc_keys.forget();
    Ok(Rotated {
        kid,
        signs_from,
        retired,
    })
}
