//! Use cases. Each public function is one thing a client can do: it checks rights, parses
//! input into domain types, runs the store calls in a transaction and writes the audit trail.
//! Resolvers call exactly one of these.

pub mod audit;
pub mod auth;
pub mod credentials;
pub mod hashing;
pub mod member_auth;
pub mod profiles;
pub mod sealing;
pub mod staff;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use sea_orm::DatabaseConnection;

use crate::config::Config;
use crate::domain::{Clock, PasswordPolicy};

pub use auth::{Principal, RequestMeta};
pub use hashing::PasswordHasher;

/// What every use case needs: the database, the clock, settings and the hash pool.
#[derive(Clone)]
pub struct Services {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    pub hasher: PasswordHasher,
    /// SQL statements issued since start (diagnostics and the DataLoader test).
    pub statements: Arc<AtomicU64>,
    /// Seals staff-assigned passwords; `None` when revealing them is turned off.
    pub sealer: Option<sealing::Sealer>,
}

impl Services {
    pub fn password_policy(&self) -> PasswordPolicy {
        PasswordPolicy {
            min_chars: self.config.password_min_chars,
        }
    }
}
