//! Argon2id hashing off the async threads, on the low-priority threads of `hash_pool` (one
//! per core by default). A job is handed over only when a thread is free, so a request that
//! is abandoned while it waits costs no hashing; a bounded queue in front answers
//! `RATE_LIMITED` when full, so a flood of logins costs bounded memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::config::Argon2Settings;
use crate::domain::Password;
use crate::error::{AppError, AppResult};

#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    /// The PHC prefix every hash with the current parameters starts with.
    current_prefix: String,
    /// One permit per hashing thread.
    workers: Semaphore,
    queue: Semaphore,
    /// A real hash of a random secret: unknown accounts verify against it, so their answer
    /// takes as long as a wrong password.
    dummy_hash: String,
    evaluations: AtomicU64,
    pool: super::hash_pool::HashPool,
}

impl PasswordHasher {
    pub fn new(settings: Argon2Settings, workers: usize, queue: usize) -> Result<Self, AppError> {
        let params = Params::new(
            settings.memory_kib,
            settings.iterations,
            settings.parallelism,
            None,
        )
        .map_err(|e| AppError::internal(format!("invalid Argon2 parameters: {e}")))?;
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| AppError::internal(e.to_string()))?;
        let dummy_hash = hash_blocking(&params, &secret)?;
        Ok(Self {
            inner: Arc::new(Inner {
                current_prefix: format!(
                    "$argon2id$v=19$m={},t={},p={}$",
                    settings.memory_kib, settings.iterations, settings.parallelism
                ),
                params,
                workers: Semaphore::new(workers.max(1)),
                queue: Semaphore::new(queue.max(1)),
                dummy_hash,
                evaluations: AtomicU64::new(0),
                pool: super::hash_pool::HashPool::new(workers).map_err(|e| {
                    AppError::internal(format!("cannot start hashing threads: {e}"))
                })?,
            }),
        })
    }

    /// True when a stored hash was made with another algorithm or other parameters, so a
    /// successful sign-in should replace it.
    pub fn needs_rehash(&self, stored: &str) -> bool {
        !stored.starts_with(&self.inner.current_prefix)
    }

    /// How many Argon2 evaluations ran (hashes and verifications).
    pub fn evaluations(&self) -> u64 {
        self.inner.evaluations.load(Ordering::Relaxed)
    }

    /// Hashes a new password into a PHC string with the configured parameters.
    pub async fn hash(&self, password: &Password) -> AppResult<String> {
        let secret = password.expose().as_bytes().to_vec();
        self.run(move |params| hash_blocking(params, &secret))
            .await?
    }

    /// Checks a candidate against a stored PHC string, or against the dummy hash when there
    /// is none (unknown or password-less account), which always fails but costs the same.
    pub async fn verify(
        &self,
        candidate: Option<&Password>,
        stored: Option<&str>,
    ) -> AppResult<bool> {
        let (phc, real) = match stored {
            Some(s) => (s.to_owned(), true),
            None => (self.inner.dummy_hash.clone(), false),
        };
        let secret = candidate
            .map(|p| p.expose().as_bytes().to_vec())
            .unwrap_or_default();
        let ok = self
            .run(move |_| {
                if let Some(cost) = bcrypt_cost(&phc) {
                    return verify_bcrypt(&secret, &phc, cost);
                }
                let parsed = PasswordHash::new(&phc)
                    .map_err(|e| AppError::internal(format!("stored hash unreadable: {e}")))?;
                verify_phc(&secret, &parsed)
            })
            .await??;
        Ok(ok && real && candidate.is_some())
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Params) -> T + Send + 'static,
    ) -> AppResult<T> {
        let _queued = self
            .inner
            .queue
            .try_acquire()
            .map_err(|_| AppError::RateLimited)?;
        let _worker = self
            .inner
            .workers
            .acquire()
            .await
            .map_err(AppError::internal)?;
        let inner = self.inner.clone();
        self.inner
            .pool
            .run(move || {
                inner.evaluations.fetch_add(1, Ordering::Relaxed);
                job(&inner.params)
            })
            .await
    }
}

/// Whether a hash from another system is one we can verify: an Argon2, PBKDF2 or scrypt PHC
/// string, or a bcrypt hash, well formed and within the cost limits. bcrypt is checked by
/// its shape alone, so an import of many accounts costs no bcrypt rounds.
pub fn accepts_imported(phc: &str) -> bool {
    if let Some(cost) = bcrypt_cost(phc) {
        return cost <= MAX_BCRYPT_COST && phc.parse::<bcrypt::HashParts>().is_ok();
    }
    PasswordHash::new(phc).is_ok_and(|parsed| verify_phc(b"", &parsed).is_ok())
}

/// The cost of a bcrypt hash (`$2a$`, `$2b$` or `$2y$`), or `None` for anything else. bcrypt
/// hashes are not PHC strings, so they are told apart by their prefix.
fn bcrypt_cost(hash: &str) -> Option<u32> {
    let rest = ["$2a$", "$2b$", "$2y$"]
        .iter()
        .find_map(|p| hash.strip_prefix(p))?;
    let (cost, _) = rest.split_once('$')?;
    (cost.len() == 2).then(|| cost.parse().ok()).flatten()
}

fn verify_bcrypt(secret: &[u8], hash: &str, cost: u32) -> AppResult<bool> {
    if cost > MAX_BCRYPT_COST {
        return Err(AppError::internal(
            "imported bcrypt hash exceeds the cost limit",
        ));
    }
    // Like every bcrypt implementation, only the first 72 bytes count: the member's old
    // system truncated the same way.
    bcrypt::verify(secret, hash).map_err(|e| AppError::internal(format!("bcrypt: {e}")))
}

/// Imported hashes above these costs are refused rather than verified: one sign-in must not
/// be able to tie a core up for seconds.
const MAX_PBKDF2_ROUNDS: u32 = 2_000_000;
const MAX_SCRYPT_LOG_N: u32 = 20;
/// Cost 14 is about a second on one core; real systems use 10 to 12.
const MAX_BCRYPT_COST: u32 = 14;

/// Verifies against a stored PHC string of any algorithm we accept: Argon2 (our own hashes)
/// and PBKDF2 or scrypt (accounts imported from other systems).
fn verify_phc(secret: &[u8], parsed: &PasswordHash) -> AppResult<bool> {
    let cost = |name: &str| parsed.params.get_decimal(name).unwrap_or(0);
    let ok = match parsed.algorithm.as_str() {
        "argon2id" | "argon2i" | "argon2d" => Argon2::default().verify_password(secret, parsed),
        "pbkdf2-sha256" | "pbkdf2-sha512" => {
            if cost("i") > MAX_PBKDF2_ROUNDS {
                return Err(AppError::internal(
                    "imported PBKDF2 hash exceeds the round limit",
                ));
            }
            pbkdf2::Pbkdf2::default().verify_password(secret, parsed)
        }
        "scrypt" => {
            if cost("ln") > MAX_SCRYPT_LOG_N {
                return Err(AppError::internal(
                    "imported scrypt hash exceeds the cost limit",
                ));
            }
            scrypt::Scrypt::default().verify_password(secret, parsed)
        }
        other => {
            return Err(AppError::internal(format!(
                "stored hash uses an unsupported algorithm {other:?}"
            )));
        }
    };
    Ok(ok.is_ok())
}

fn hash_blocking(params: &Params, secret: &[u8]) -> AppResult<String> {
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    argon
        .hash_password(secret)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(format!("hashing failed: {e}")))
}
