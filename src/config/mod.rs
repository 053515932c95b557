//! Typed settings. This is the only module that reads the environment; everything else gets a
//! `Config` value, so tests build one directly.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;

use chrono::Duration;

use crate::domain::MemberStatus;

mod mail;

use mail::mail_from_env;
pub use mail::{DkimSettings, MailSettings, MailTransportKind, SmtpSettings};

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
    pub introspection: bool,
    pub staff_session_ttl: Duration,
    pub staff_session_idle: Duration,
    /// Every staff user must have a second factor: one without gets a session that can only
    /// set one up (`MEMBERKEY_STAFF_REQUIRE_SECOND_FACTOR`).
    pub staff_require_second_factor: bool,
    pub argon2: Argon2Settings,
    pub hash_workers: usize,
    pub hash_queue: usize,
    pub password_min_chars: usize,
    pub db_max_connections: u32,
    pub lockout_threshold: i32,
    pub lockout_duration: Duration,
    /// Failed member sign-ins one account may take from all clients together within
    /// `lockout_duration`; past it only clients that signed in to the account before may
    /// try until the window ends (`MEMBERKEY_LOCKOUT_ACCOUNT_CEILING`).
    pub lockout_account_ceiling: i32,
    /// How long a staff session's fresh proof (`confirmStaffIdentity`) lets it make the
    /// changes that need one (`MEMBERKEY_STAFF_STEP_UP_MINUTES`).
    pub staff_step_up: Duration,
    /// Start even with `MEMBERKEY_*` variables that are not settings (they are then only
    /// warned about); `MEMBERKEY_ALLOW_UNKNOWN_SETTINGS`.
    pub allow_unknown_settings: bool,
    pub member_session_ttl: Duration,
    pub member_session_idle: Duration,
    pub reveal_assigned_passwords: bool,
    pub sealing_key: Option<Secret>,
    pub sealing_key_file: PathBuf,
    /// Sign-in attempts one client IP may make per `login_ip_window`.
    pub login_ip_limit: i32,
    pub login_ip_window: Duration,
    /// Set-password token checks and uses one client IP may make per `login_ip_window`.
    pub token_ip_limit: i32,
    /// "Forgot Login" requests one client IP (IPv6: one /64) may make per `login_ip_window`.
    pub reset_ip_limit: i32,
    /// "Forgot Login" emails the whole service queues per hour, across all addresses.
    pub reset_mail_per_hour: i32,
    /// How long a WebSocket may take to send `connection_init`.
    pub ws_init_timeout: std::time::Duration,
    /// Reverse proxies whose `X-Forwarded-For` names the real client.
    pub trusted_proxies: Vec<IpAddr>,
    /// Browser origins (e.g. the association's SPA) allowed to call the API cross-origin.
    pub cors_origins: Vec<String>,
    /// The association's time zone: times in mail and on the set-password page use it.
    pub time_zone: chrono_tz::Tz,
    /// The Members Only portal's address, for "Go to the portal" links; `None` when unknown.
    pub portal_url: Option<String>,
    /// The membership statuses whose members may sign in to the portal; `None` allows all.
    pub sign_in_statuses: Option<Vec<MemberStatus>>,
    /// How long a mass communication's deliveries keep their address and profile after it
    /// finished (`MEMBERKEY_RETAIN_DELIVERIES_DAYS`); `None` keeps them.
    pub retain_deliveries: Option<Duration>,
    /// How long audit rows are kept (`MEMBERKEY_RETAIN_AUDIT_DAYS`); `None` keeps them.
    pub retain_audit: Option<Duration>,
    pub mail: MailSettings,
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
            max_complexity: 10_000,
            max_aliases: 30,
            graphiql: true,
            introspection: true,
            staff_session_ttl: Duration::hours(12),
            staff_session_idle: Duration::minutes(60),
            staff_require_second_factor: false,
            argon2: Argon2Settings::default(),
            hash_workers: cores,
            hash_queue: 64 * cores,
            password_min_chars: 12,
            db_max_connections: 16,
            lockout_threshold: 10,
            lockout_duration: Duration::minutes(15),
            lockout_account_ceiling: 100,
            staff_step_up: Duration::minutes(5),
            allow_unknown_settings: false,
            member_session_ttl: Duration::hours(12),
            member_session_idle: Duration::minutes(60),
            reveal_assigned_passwords: true,
            sealing_key: None,
            sealing_key_file: PathBuf::from("memberkey.key"),
            login_ip_limit: 100,
            login_ip_window: Duration::minutes(10),
            token_ip_limit: 100,
            reset_ip_limit: 10,
            reset_mail_per_hour: 500,
            ws_init_timeout: std::time::Duration::from_secs(10),
            trusted_proxies: Vec::new(),
            cors_origins: Vec::new(),
            time_zone: chrono_tz::Tz::UTC,
            portal_url: None,
            sign_in_statuses: None,
            retain_deliveries: None,
            retain_audit: None,
            mail: MailSettings::default(),
        }
    }
}

/// A secret setting: `Debug` (and so any log of the `Config`) never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_owned())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
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

/// Every setting `Config::from_env` reads. A unit test keeps this list and `from_env` in step.
pub const SETTINGS: &[&str] = &[
    "MEMBERKEY_ALLOW_UNKNOWN_SETTINGS",
    "MEMBERKEY_ARGON2_ITERATIONS",
    "MEMBERKEY_ARGON2_MEMORY_KIB",
    "MEMBERKEY_ARGON2_PARALLELISM",
    "MEMBERKEY_ASSOCIATION_NAME",
    "MEMBERKEY_BODY_LIMIT_BYTES",
    "MEMBERKEY_CORS_ORIGINS",
    "MEMBERKEY_DATABASE_URL",
    "MEMBERKEY_DB_MAX_CONNECTIONS",
    "MEMBERKEY_DELIVERY_LEASE_SECONDS",
    "MEMBERKEY_DKIM_DOMAIN",
    "MEMBERKEY_DKIM_KEY_FILE",
    "MEMBERKEY_DKIM_SELECTOR",
    "MEMBERKEY_DELIVERY_WORKER",
    "MEMBERKEY_GRAPHIQL",
    "MEMBERKEY_HASH_QUEUE",
    "MEMBERKEY_HASH_WORKERS",
    "MEMBERKEY_HOUSEKEEPING_MINUTES",
    "MEMBERKEY_INTROSPECTION",
    "MEMBERKEY_LISTEN",
    "MEMBERKEY_LOCKOUT_ACCOUNT_CEILING",
    "MEMBERKEY_LOCKOUT_MINUTES",
    "MEMBERKEY_LOCKOUT_THRESHOLD",
    "MEMBERKEY_LOG",
    "MEMBERKEY_LOGIN_IP_LIMIT",
    "MEMBERKEY_LOGIN_IP_WINDOW_MINUTES",
    "MEMBERKEY_MAIL_FROM",
    "MEMBERKEY_MAIL_REPLY_TO",
    "MEMBERKEY_MAIL_RETENTION_DAYS",
    "MEMBERKEY_MAIL_SENDERS",
    "MEMBERKEY_MAIL_TRANSPORT",
    "MEMBERKEY_MASS_LINK_TTL_MINUTES",
    "MEMBERKEY_MASS_PAUSE_FAILURES_IN_A_ROW",
    "MEMBERKEY_MASS_PAUSE_FAILURE_RATE",
    "MEMBERKEY_MASS_PAUSE_WINDOW",
    "MEMBERKEY_MAX_ALIASES",
    "MEMBERKEY_MAX_COMPLEXITY",
    "MEMBERKEY_MAX_DEPTH",
    "MEMBERKEY_MAX_SEND_RATE",
    "MEMBERKEY_MEMBER_LINK_TTL_MINUTES",
    "MEMBERKEY_MEMBER_SESSION_IDLE_MINUTES",
    "MEMBERKEY_MEMBER_SESSION_TTL_MINUTES",
    "MEMBERKEY_OUTBOX_DIR",
    "MEMBERKEY_PASSWORD_MIN_LENGTH",
    "MEMBERKEY_PORTAL_URL",
    "MEMBERKEY_PUBLIC_URL",
    "MEMBERKEY_RESETS_PER_ADDRESS_PER_HOUR",
    "MEMBERKEY_RESET_IP_LIMIT",
    "MEMBERKEY_RESET_MAIL_PER_HOUR",
    "MEMBERKEY_RETAIN_AUDIT_DAYS",
    "MEMBERKEY_RETAIN_DELIVERIES_DAYS",
    "MEMBERKEY_REVEAL_ASSIGNED_PASSWORDS",
    "MEMBERKEY_SEALING_KEY",
    "MEMBERKEY_SEALING_KEY_FILE",
    "MEMBERKEY_SEND_CONCURRENCY",
    "MEMBERKEY_SES_CONFIGURATION_SET",
    "MEMBERKEY_SES_ENDPOINT",
    "MEMBERKEY_SES_REGION",
    "MEMBERKEY_SES_SNS_TOPICS",
    "MEMBERKEY_SET_PASSWORD_URL",
    "MEMBERKEY_SIGN_IN_STATUSES",
    "MEMBERKEY_SMTP_CA_FILE",
    "MEMBERKEY_SMTP_PASSWORD_FILE",
    "MEMBERKEY_SMTP_TIMEOUT_SECONDS",
    "MEMBERKEY_SMTP_URL",
    "MEMBERKEY_STAFF_LINK_TTL_MINUTES",
    "MEMBERKEY_STAFF_REQUIRE_SECOND_FACTOR",
    "MEMBERKEY_STAFF_SESSION_IDLE_MINUTES",
    "MEMBERKEY_STAFF_SESSION_TTL_MINUTES",
    "MEMBERKEY_STAFF_STEP_UP_MINUTES",
    "MEMBERKEY_TIMEZONE",
    "MEMBERKEY_TOKEN_IP_LIMIT",
    "MEMBERKEY_TRUSTED_PROXIES",
    "MEMBERKEY_WS_INIT_TIMEOUT_SECONDS",
];

/// Names under `MEMBERKEY_` that belong to the test suite and benchmarks, not to the service.
const TOOLING_PREFIXES: &[&str] = &["MEMBERKEY_TEST_", "MEMBERKEY_TOOLS_", "MEMBERKEY_BENCH_"];

/// `MEMBERKEY_*` variables in the environment that are not settings, each with the closest
/// setting's name when one is near.
pub fn unknown_settings() -> Vec<(String, Option<&'static str>)> {
    let mut unknown: Vec<(String, Option<&'static str>)> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| k.starts_with("MEMBERKEY_"))
        .filter(|k| !SETTINGS.contains(&k.as_str()))
        .filter(|k| !TOOLING_PREFIXES.iter().any(|p| k.starts_with(p)))
        .map(|k| {
            let closest = crate::domain::closest(&k, SETTINGS.iter().copied(), 4);
            (k, closest)
        })
        .collect();
    unknown.sort();
    unknown
}

impl Config {
    /// Whether members with this membership status may sign in to the portal.
    pub fn may_sign_in(&self, status: MemberStatus) -> bool {
        self.sign_in_statuses
            .as_ref()
            .is_none_or(|allowed| allowed.contains(&status))
    }

    /// Reads every `MEMBERKEY_*` variable over the embedded defaults.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut c = Config::default();
        var("MEMBERKEY_DATABASE_URL", &mut c.database_url)?;
        var(
            "MEMBERKEY_ALLOW_UNKNOWN_SETTINGS",
            &mut c.allow_unknown_settings,
        )?;
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
        var("MEMBERKEY_INTROSPECTION", &mut c.introspection)?;
        var(
            "MEMBERKEY_STAFF_REQUIRE_SECOND_FACTOR",
            &mut c.staff_require_second_factor,
        )?;
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
            "MEMBERKEY_LOCKOUT_ACCOUNT_CEILING",
            &mut c.lockout_account_ceiling,
        )?;
        minutes("MEMBERKEY_STAFF_STEP_UP_MINUTES", &mut c.staff_step_up)?;
        retain_days("MEMBERKEY_RETAIN_DELIVERIES_DAYS", &mut c.retain_deliveries)?;
        retain_days("MEMBERKEY_RETAIN_AUDIT_DAYS", &mut c.retain_audit)?;
        var(
            "MEMBERKEY_REVEAL_ASSIGNED_PASSWORDS",
            &mut c.reveal_assigned_passwords,
        )?;
        let mut key = String::new();
        var("MEMBERKEY_SEALING_KEY", &mut key)?;
        c.sealing_key = (!key.is_empty()).then_some(Secret(key));
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
        var("MEMBERKEY_LOGIN_IP_LIMIT", &mut c.login_ip_limit)?;
        var("MEMBERKEY_TOKEN_IP_LIMIT", &mut c.token_ip_limit)?;
        minutes("MEMBERKEY_LOGIN_IP_WINDOW_MINUTES", &mut c.login_ip_window)?;
        var("MEMBERKEY_RESET_IP_LIMIT", &mut c.reset_ip_limit)?;
        var("MEMBERKEY_RESET_MAIL_PER_HOUR", &mut c.reset_mail_per_hour)?;
        let mut init_secs = c.ws_init_timeout.as_secs();
        var("MEMBERKEY_WS_INIT_TIMEOUT_SECONDS", &mut init_secs)?;
        if init_secs == 0 {
            return Err(ConfigError {
                var: "MEMBERKEY_WS_INIT_TIMEOUT_SECONDS",
                message: "must be at least 1".into(),
            });
        }
        c.ws_init_timeout = std::time::Duration::from_secs(init_secs);
        let mut proxies = String::new();
        var("MEMBERKEY_TRUSTED_PROXIES", &mut proxies)?;
        c.trusted_proxies = proxies
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse().map_err(|e| ConfigError {
                    var: "MEMBERKEY_TRUSTED_PROXIES",
                    message: format!("{e} (got {p:?})"),
                })
            })
            .collect::<Result<_, _>>()?;
        let mut origins = String::new();
        var("MEMBERKEY_CORS_ORIGINS", &mut origins)?;
        c.cors_origins = origins
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        let is_origin = |o: &String| match o.split_once("://") {
            Some((scheme, host)) => {
                matches!(scheme, "http" | "https") && !host.is_empty() && !host.contains('/')
            }
            None => false,
        };
        if let Some(bad) = c.cors_origins.iter().find(|o| !is_origin(o)) {
            return Err(ConfigError {
                var: "MEMBERKEY_CORS_ORIGINS",
                message: format!("{bad:?} is not an origin such as https://portal.example.org"),
            });
        }
        portal_from_env(&mut c)?;
        mail_from_env(&mut c.mail)?;
        if c.lockout_threshold < 1 {
            return Err(ConfigError {
                var: "MEMBERKEY_LOCKOUT_THRESHOLD",
                message: "must be at least 1".into(),
            });
        }
        if c.lockout_account_ceiling < c.lockout_threshold {
            return Err(ConfigError {
                var: "MEMBERKEY_LOCKOUT_ACCOUNT_CEILING",
                message: format!(
                    "must be at least MEMBERKEY_LOCKOUT_THRESHOLD ({})",
                    c.lockout_threshold
                ),
            });
        }
        if c.staff_step_up < Duration::minutes(1) || c.staff_step_up > Duration::minutes(60) {
            return Err(ConfigError {
                var: "MEMBERKEY_STAFF_STEP_UP_MINUTES",
                message: "must be between 1 and 60".into(),
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

/// The portal's address, time zone and who may sign in.
fn portal_from_env(c: &mut Config) -> Result<(), ConfigError> {
    let mut zone = String::new();
    var("MEMBERKEY_TIMEZONE", &mut zone)?;
    if !zone.is_empty() {
        c.time_zone = zone.parse().map_err(|_| ConfigError {
            var: "MEMBERKEY_TIMEZONE",
            message: format!(
                "{zone:?} is not an IANA time zone name such as Europe/Copenhagen or America/New_York"
            ),
        })?;
    }
    optional("MEMBERKEY_PORTAL_URL", &mut c.portal_url)?;
    if let Some(url) = &c.portal_url
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        return Err(ConfigError {
            var: "MEMBERKEY_PORTAL_URL",
            message: format!("must start with http:// or https:// (got {url:?})"),
        });
    }
    let mut statuses = String::new();
    var("MEMBERKEY_SIGN_IN_STATUSES", &mut statuses)?;
    if !statuses.is_empty() {
        let parsed = statuses
            .split(',')
            .map(|s| s.trim().to_ascii_uppercase())
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<MemberStatus>().map_err(|_| ConfigError {
                    var: "MEMBERKEY_SIGN_IN_STATUSES",
                    message: format!(
                        "{s:?} is not a membership status; use a comma-separated list of {}",
                        MemberStatus::ALL
                            .iter()
                            .map(|m| m.as_db())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        c.sign_in_statuses = Some(parsed);
    }
    Ok(())
}

/// A retention limit in whole days (1 to 36500); unset keeps everything.
fn retain_days(name: &'static str, target: &mut Option<Duration>) -> Result<(), ConfigError> {
    let mut days: Option<i64> = None;
    let mut raw = String::new();
    var(name, &mut raw)?;
    if !raw.is_empty() {
        let n: i64 = raw.parse().map_err(|_| ConfigError {
            var: name,
            message: format!(
                "must be a whole number of days (got {raw:?}); leave it unset to keep everything"
            ),
        })?;
        if !(1..=36_500).contains(&n) {
            return Err(ConfigError {
                var: name,
                message: format!(
                    "must be between 1 and 36500 days (got {n}); leave it unset to keep everything"
                ),
            });
        }
        days = Some(n);
    }
    *target = days.map(Duration::days);
    Ok(())
}

fn optional(name: &'static str, target: &mut Option<String>) -> Result<(), ConfigError> {
    let mut raw = String::new();
    var(name, &mut raw)?;
    if !raw.is_empty() {
        *target = Some(raw);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_sealing_key() {
        let config = Config {
            sealing_key: Some(Secret::from("c2VjcmV0LWtleS1ieXRlcw")),
            ..Config::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("c2VjcmV0LWtleS1ieXRlcw"), "{shown}");
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn the_settings_list_names_every_variable_from_env_reads() {
        let source = include_str!("mod.rs");
        let start = source.find("pub fn from_env").unwrap();
        let end = source.find("#[cfg(test)]").unwrap();
        // The mail settings are read in mail.rs, all of which is reading settings.
        let body = format!("{}{}", &source[start..end], include_str!("mail.rs"));
        let mut read: Vec<&str> = body
            .split('"')
            .filter(|w| {
                w.len() > "MEMBERKEY_".len()
                    && w.starts_with("MEMBERKEY_")
                    && w.chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            })
            .collect();
        read.sort();
        read.dedup();
        let mut listed = SETTINGS.to_vec();
        listed.sort();
        assert_eq!(read, listed);
    }
}
