//! Typed settings. This is the only module that reads the environment; everything else gets a
//! `Config` value, so tests build one directly.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use chrono::Duration;

/// Argon2id cost parameters for new hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Settings {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Argon2Settings {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// Every setting, with its embedded default. See the README's configuration table.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub listen: SocketAddr,
    pub public_url: String,
    pub log_filter: String,
    pub association_name: String,
    pub body_limit_bytes: usize,
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_aliases: usize,
    pub graphiql: bool,
    pub graphiql_assets_dir: Option<PathBuf>,
    pub introspection: bool,
    pub staff_session_ttl: Duration,
    pub staff_session_idle: Duration,
    pub argon2: Argon2Settings,
    pub hash_workers: usize,
    pub hash_queue: usize,
    pub password_min_chars: usize,
    pub db_max_connections: u32,
    pub lockout_threshold: i32,
    pub lockout_duration: Duration,
    pub member_session_ttl: Duration,
    pub member_session_idle: Duration,
    pub reveal_assigned_passwords: bool,
    pub sealing_key: Option<String>,
    pub sealing_key_file: PathBuf,
}

impl Default for Config {
    fn default() -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Self {
            database_url: "sqlite://memberkey.db?mode=rwc".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: "http://127.0.0.1:8080".into(),
            log_filter: "info".into(),
            association_name: "Members Only".into(),
            body_limit_bytes: 256 * 1024,
            max_depth: 12,
            max_complexity: 2_000,
            max_aliases: 30,
            graphiql: true,
            graphiql_assets_dir: None,
            introspection: true,
            staff_session_ttl: Duration::hours(12),
            staff_session_idle: Duration::minutes(60),
            argon2: Argon2Settings::default(),
            hash_workers: cores,
            hash_queue: 64 * cores,
            password_min_chars: 12,
            db_max_connections: 16,
            lockout_threshold: 10,
            lockout_duration: Duration::minutes(15),
            member_session_ttl: Duration::hours(12),
            member_session_idle: Duration::minutes(60),
            reveal_assigned_passwords: true,
            sealing_key: None,
            sealing_key_file: PathBuf::from("memberkey.key"),
        }
    }
}

/// A setting that could not be read, naming the variable.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

fn var<T: FromStr>(name: &'static str, target: &mut T) -> Result<(), ConfigError>
where
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(raw) if !raw.trim().is_empty() => {
            *target = raw.trim().parse().map_err(|e: T::Err| ConfigError {
                var: name,
                message: format!("{e} (got {raw:?})"),
            })?;
            Ok(())
        }
        Ok(_) | Err(std::env::VarError::NotPresent) => Ok(()),
        Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError {
            var: name,
            message: "is not valid UTF-8".into(),
        }),
    }
}

fn minutes(name: &'static str, target: &mut Duration) -> Result<(), ConfigError> {
    let mut m = target.num_minutes();
    var(name, &mut m)?;
    if m <= 0 {
        return Err(ConfigError {
            var: name,
            message: "must be a positive number of minutes".into(),
        });
    }
    *target = Duration::minutes(m);
    Ok(())
}

impl Config {
    /// Reads every `MEMBERKEY_*` variable over the embedded defaults.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut c = Config::default();
        var("MEMBERKEY_DATABASE_URL", &mut c.database_url)?;
        var("MEMBERKEY_LISTEN", &mut c.listen)?;
        c.public_url = format!("http://{}", c.listen);
        var("MEMBERKEY_PUBLIC_URL", &mut c.public_url)?;
        c.public_url = c.public_url.trim_end_matches('/').to_owned();
        var("MEMBERKEY_LOG", &mut c.log_filter)?;
        var("MEMBERKEY_ASSOCIATION_NAME", &mut c.association_name)?;
        var("MEMBERKEY_BODY_LIMIT_BYTES", &mut c.body_limit_bytes)?;
        var("MEMBERKEY_MAX_DEPTH", &mut c.max_depth)?;
        var("MEMBERKEY_MAX_COMPLEXITY", &mut c.max_complexity)?;
        var("MEMBERKEY_MAX_ALIASES", &mut c.max_aliases)?;
        var("MEMBERKEY_GRAPHIQL", &mut c.graphiql)?;
        let mut assets = String::new();
        var("MEMBERKEY_GRAPHIQL_ASSETS_DIR", &mut assets)?;
        c.graphiql_assets_dir = (!assets.is_empty()).then(|| PathBuf::from(assets));
        var("MEMBERKEY_INTROSPECTION", &mut c.introspection)?;
        minutes(
            "MEMBERKEY_STAFF_SESSION_TTL_MINUTES",
            &mut c.staff_session_ttl,
        )?;
        minutes(
            "MEMBERKEY_STAFF_SESSION_IDLE_MINUTES",
            &mut c.staff_session_idle,
        )?;
        var("MEMBERKEY_ARGON2_MEMORY_KIB", &mut c.argon2.memory_kib)?;
        var("MEMBERKEY_ARGON2_ITERATIONS", &mut c.argon2.iterations)?;
        var("MEMBERKEY_ARGON2_PARALLELISM", &mut c.argon2.parallelism)?;
        var("MEMBERKEY_HASH_WORKERS", &mut c.hash_workers)?;
        var("MEMBERKEY_HASH_QUEUE", &mut c.hash_queue)?;
        var("MEMBERKEY_PASSWORD_MIN_LENGTH", &mut c.password_min_chars)?;
        var("MEMBERKEY_DB_MAX_CONNECTIONS", &mut c.db_max_connections)?;
        var("MEMBERKEY_LOCKOUT_THRESHOLD", &mut c.lockout_threshold)?;
        var(
            "MEMBERKEY_REVEAL_ASSIGNED_PASSWORDS",
            &mut c.reveal_assigned_passwords,
        )?;
        let mut key = String::new();
        var("MEMBERKEY_SEALING_KEY", &mut key)?;
        c.sealing_key = (!key.is_empty()).then_some(key);
        let mut key_file = String::new();
        var("MEMBERKEY_SEALING_KEY_FILE", &mut key_file)?;
        if !key_file.is_empty() {
            c.sealing_key_file = PathBuf::from(key_file);
        }
        minutes("MEMBERKEY_LOCKOUT_MINUTES", &mut c.lockout_duration)?;
        minutes(
            "MEMBERKEY_MEMBER_SESSION_TTL_MINUTES",
            &mut c.member_session_ttl,
        )?;
        minutes(
            "MEMBERKEY_MEMBER_SESSION_IDLE_MINUTES",
            &mut c.member_session_idle,
        )?;
        if c.lockout_threshold < 1 {
            return Err(ConfigError {
                var: "MEMBERKEY_LOCKOUT_THRESHOLD",
                message: "must be at least 1".into(),
            });
        }
        if c.hash_workers == 0 {
            return Err(ConfigError {
                var: "MEMBERKEY_HASH_WORKERS",
                message: "must be at least 1".into(),
            });
        }
        if !(8..=128).contains(&c.password_min_chars) {
            return Err(ConfigError {
                var: "MEMBERKEY_PASSWORD_MIN_LENGTH",
                message: "must be between 8 and 128".into(),
            });
        }
        if !c.public_url.starts_with("http://") && !c.public_url.starts_with("https://") {
            return Err(ConfigError {
                var: "MEMBERKEY_PUBLIC_URL",
                message: "must start with http:// or https://".into(),
            });
        }
        Ok(c)
    }
}
