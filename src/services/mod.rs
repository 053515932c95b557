//! Use cases. Each public function is one thing a client can do: it checks rights, parses
//! input into domain types, runs the store calls in a transaction and writes the audit trail.
//! Resolvers call exactly one of these.

pub mod audit;
pub mod auth;
pub mod credentials;
pub mod delivery_state;
pub mod erasure;
pub mod feedback;
pub mod foreign_hashes;
pub mod grouped;
mod hash_memory;
pub mod hash_pool;
pub mod hashing;
pub mod impersonation;
pub mod import;
pub mod loaders;
pub mod lockout;
pub mod mass;
pub mod member_auth;
pub mod oidc;
pub mod passwords;
pub mod personal_data;
pub mod portal_logins;
pub mod principal;
pub mod profile_import;
pub mod profiles;
pub mod rate_limit;
pub mod resets;
pub mod sealing;
pub mod set_password;
pub mod staff;
pub mod suppressions;
pub mod unsubscribe;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crate::config::Config;
use crate::domain::{Clock, PasswordPolicy};

pub use hashing::PasswordHasher;
pub use principal::{Principal, RequestMeta};

/// What every use case needs: the database, the clock, settings and the hash pool.
#[derive(Clone)]
pub struct Services {
    pub db: crate::store::Db,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    pub hasher: PasswordHasher,
    /// SQL statements issued since start (diagnostics and the DataLoader test).
    pub statements: Arc<AtomicU64>,
    /// Seals staff-assigned passwords; `None` when revealing them is turned off.
    pub sealer: Option<sealing::Sealer>,
    /// The same key, always there: it seals staff TOTP secrets and sign-in challenges.
    pub vault: sealing::Sealer,
    /// Wakes the delivery worker when a request queued mail.
    pub mail_wakeup: Arc<tokio::sync::Notify>,
    /// Whether mail leaves this server (false for the outbox folder), so staff screens can
    /// say "queued" rather than "on its way".
    pub mail_is_sent: bool,
    /// Checks the provider's SNS notifications, caching their signing certificates.
    pub sns: Arc<crate::mail::sns::SnsVerifier>,
    /// The keys that sign ID tokens for connected sites, kept in memory for a minute.
    pub oidc_keys: Arc<oidc::keys::KeyRing>,
    /// Authorization codes waiting to be spent together (group commits).
    pub oidc_codes: Arc<oidc::spend::CodeSpender>,
    /// Access tokens waiting to be read together (userinfo).
    pub oidc_access: Arc<oidc::access::AccessReader>,
}

impl Services {
    /// Tells the delivery worker that mail is waiting, so it need not wait for its next poll.
    pub fn wake_delivery(&self) {
        self.mail_wakeup.notify_waiters();
    }

    pub fn password_policy(&self) -> PasswordPolicy {
        PasswordPolicy {
            min_chars: self.config.password_min_chars,
        }
    }
}

/// A store failure reaches a client only as an internal error: the cause is logged under a
/// correlation id.
impl From<crate::store::StoreError> for crate::error::AppError {
    fn from(err: crate::store::StoreError) -> Self {
        crate::error::AppError::internal(err)
    }
}
