//! Argon2id hashing off the async threads, on the low-priority threads of `hash_pool` (one
//! per core by default). A job is handed over only when a thread is free, so a request that
//! is abandoned while it waits costs no hashing; a bounded queue in front answers
//! `RATE_LIMITED` when full, so a flood of logins costs bounded memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use argon2::password_hash::PasswordHasher as _;
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use super::foreign_hashes::{self, HashLimits};
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
    /// What a stored hash may cost before it is refused unverified.
    limits: HashLimits,
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
                limits: HashLimits::for_settings(&settings),
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
        // A stored hash over the cost limits (imported before they existed, or edited in the
        // database) is never evaluated: it answers like a wrong password, at the dummy's cost.
        let usable = stored.filter(|s| match self.inner.limits.check(s) {
            Ok(()) => true,
            Err(why) => {
                tracing::warn!(
                    reason = %why,
                    "a stored password hash is over the cost limits and was not verified; set a new password for the account"
                );
                false
            }
        });
        let (phc, real) = match usable {
            Some(s) => (s.to_owned(), true),
            None => (self.inner.dummy_hash.clone(), false),
        };
        let secret = candidate
            .map(|p| p.expose().as_bytes().to_vec())
            .unwrap_or_default();
        let ok = self
            .run(move |_| foreign_hashes::verify(&secret, &phc).map_err(AppError::internal))
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

fn hash_blocking(params: &Params, secret: &[u8]) -> AppResult<String> {
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    argon
        .hash_password(secret)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(format!("hashing failed: {e}")))
}
