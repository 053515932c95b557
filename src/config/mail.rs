//! The mail settings: which provider, the sender, links, the delivery worker and the queue's
//! limits, with their defaults and how they are read from `MEMBERKEY_*` variables.

use std::path::PathBuf;
use std::str::FromStr;

use chrono::Duration;

use super::{ConfigError, minutes, optional, var};

/// Which provider the delivery worker hands mail to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailTransportKind {
    /// An `.eml` file per message in `outbox_dir`.
    Outbox,
    /// Amazon SES v2.
    Ses,
    /// Any SMTP server (Microsoft 365, Google Workspace, the host's, a provider's relay).
    Smtp,
}

impl FromStr for MailTransportKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "outbox" => Ok(Self::Outbox),
            "ses" => Ok(Self::Ses),
            "smtp" => Ok(Self::Smtp),
            _ => Err("must be \"outbox\", \"ses\" or \"smtp\"".into()),
        }
    }
}

impl MailSettings {
    /// Where mail goes, in a sentence for the `serve` banner: an operator reading it knows
    /// whether members will receive anything.
    pub fn destination(&self) -> String {
        match self.transport {
            MailTransportKind::Outbox => {
                let dir = std::path::absolute(&self.outbox_dir)
                    .unwrap_or_else(|_| self.outbox_dir.clone());
                format!(
                    "written as .eml files to {} and not sent (MEMBERKEY_MAIL_TRANSPORT=outbox; set it to smtp or ses to send)",
                    dir.display()
                )
            }
            MailTransportKind::Ses => format!(
                "sent through Amazon SES in {}{}",
                self.ses_region,
                self.ses_endpoint
                    .as_deref()
                    .map(|e| format!(" at {e}"))
                    .unwrap_or_default()
            ),
            MailTransportKind::Smtp => match &self.smtp {
                Some(s) => format!("sent over SMTP to {}", s.describe()),
                None => "sent over SMTP (MEMBERKEY_SMTP_URL is not set)".into(),
            },
        }
    }
}

/// How to reach the SMTP server (`MEMBERKEY_MAIL_TRANSPORT=smtp`).
#[derive(Clone)]
pub struct SmtpSettings {
    /// `MEMBERKEY_SMTP_URL` in lettre's form: `smtps://user:pass@host:465`,
    /// `smtp://user@host:587?tls=required`. It may hold the password, so it is never shown.
    pub url: url::Url,
    /// The password from `MEMBERKEY_SMTP_PASSWORD_FILE`, which wins over one in the URL.
    pub password: Option<super::Secret>,
    /// PEM certificates to trust besides the system's (`MEMBERKEY_SMTP_CA_FILE`), for a
    /// server with a private CA.
    pub ca_pem: Option<Vec<u8>>,
    /// How long one SMTP command may take (`MEMBERKEY_SMTP_TIMEOUT_SECONDS`).
    pub timeout: std::time::Duration,
    /// DKIM signing of every message, when `MEMBERKEY_DKIM_KEY_FILE` is set.
    pub dkim: Option<DkimSettings>,
}

/// DKIM signing for SMTP (`MEMBERKEY_DKIM_*`). SES signs with its own Easy DKIM instead.
#[derive(Clone)]
pub struct DkimSettings {
    /// The selector: the record is published at `<selector>._domainkey.<domain>`.
    pub selector: String,
    /// The signing domain (`d=`), by default the sender's.
    pub domain: String,
    /// The RSA private key, PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`).
    pub key_pem: super::Secret,
}

impl DkimSettings {
    /// Reads the DKIM settings; `None` when no key file is set. `from` gives the default domain.
    fn from_env(from: &str) -> Result<Option<Self>, ConfigError> {
        let mut file = String::new();
        var("MEMBERKEY_DKIM_KEY_FILE", &mut file)?;
        let mut selector = String::new();
        var("MEMBERKEY_DKIM_SELECTOR", &mut selector)?;
        let mut domain = String::new();
        var("MEMBERKEY_DKIM_DOMAIN", &mut domain)?;
        if file.is_empty() {
            if !selector.is_empty() || !domain.is_empty() {
                return Err(ConfigError {
                    var: "MEMBERKEY_DKIM_KEY_FILE",
                    message: "is needed with MEMBERKEY_DKIM_SELECTOR and MEMBERKEY_DKIM_DOMAIN; without it nothing is signed".into(),
                });
            }
            return Ok(None);
        }
        if selector.is_empty()
            || !selector
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            return Err(ConfigError {
                var: "MEMBERKEY_DKIM_SELECTOR",
                message: "is needed with MEMBERKEY_DKIM_KEY_FILE: the selector of the DNS record, e.g. memberkey2026".into(),
            });
        }
        if domain.is_empty() {
            domain = from
                .rsplit('@')
                .next()
                .unwrap_or_default()
                .trim_end_matches('>')
                .trim()
                .to_ascii_lowercase();
        }
        if domain.is_empty() || !domain.contains('.') {
            return Err(ConfigError {
                var: "MEMBERKEY_DKIM_DOMAIN",
                message: "names no domain, and MEMBERKEY_MAIL_FROM gives none".into(),
            });
        }
        let pem = std::fs::read_to_string(&file).map_err(|e| ConfigError {
            var: "MEMBERKEY_DKIM_KEY_FILE",
            message: format!("cannot read {file}: {e}"),
        })?;
        Ok(Some(Self {
            selector,
            domain,
            key_pem: super::Secret::from(pem.as_str()),
        }))
    }
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("server", &self.describe())
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("ca_pem", &self.ca_pem.as_ref().map(Vec::len))
            .field("timeout", &self.timeout)
            .field(
                "dkim",
                &self
                    .dkim
                    .as_ref()
                    .map(|d| format!("{}._domainkey.{}", d.selector, d.domain)),
            )
            .finish()
    }
}

impl SmtpSettings {
    /// Host, port and TLS mode, never the user or password: for banners, logs and errors.
    pub fn describe(&self) -> String {
        let host = self.url.host_str().unwrap_or("?");
        let tls = self
            .url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let (port, mode) = match (self.url.scheme(), tls.as_deref()) {
            ("smtps", _) => (465, "TLS"),
            (_, Some("required")) => (587, "STARTTLS required"),
            (_, Some("opportunistic")) => (587, "STARTTLS if offered"),
            _ => (25, "no TLS"),
        };
        format!("{host}:{} ({mode})", self.url.port().unwrap_or(port))
    }

    /// Reads and checks the SMTP settings. The URL is never repeated in an error: it may hold
    /// the password.
    fn from_env(from: &str) -> Result<Self, ConfigError> {
        const URL: &str = "MEMBERKEY_SMTP_URL";
        let mut raw = String::new();
        var(URL, &mut raw)?;
        if raw.is_empty() {
            return Err(ConfigError {
                var: URL,
                message: "is required with MEMBERKEY_MAIL_TRANSPORT=smtp, e.g. smtps://user:password@smtp.example.org:465 or smtp://user@smtp.example.org:587?tls=required".into(),
            });
        }
        let url = url::Url::parse(&raw).map_err(|e| ConfigError {
            var: URL,
            message: format!("is not a URL ({e}); the form is smtps://user:password@host:465 or smtp://user@host:587?tls=required"),
        })?;
        let tls = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let encrypted = match (url.scheme(), tls.as_deref()) {
            ("smtps", None) => true,
            ("smtp", Some("required")) => true,
            ("smtp", None | Some("opportunistic")) => false,
            ("smtp", Some(other)) => {
                return Err(ConfigError {
                    var: URL,
                    message: format!(
                        "tls={other:?} is not known: use tls=required (or tls=opportunistic without a password)"
                    ),
                });
            }
            (scheme, _) => {
                return Err(ConfigError {
                    var: URL,
                    message: format!("the scheme must be smtp or smtps, not {scheme:?}"),
                });
            }
        };
        if url.host_str().is_none_or(str::is_empty) {
            return Err(ConfigError {
                var: URL,
                message: "names no server host".into(),
            });
        }
        let mut password_file = String::new();
        var("MEMBERKEY_SMTP_PASSWORD_FILE", &mut password_file)?;
        let password = if password_file.is_empty() {
            None
        } else {
            let read = std::fs::read_to_string(&password_file).map_err(|e| ConfigError {
                var: "MEMBERKEY_SMTP_PASSWORD_FILE",
                message: format!("cannot read {password_file}: {e}"),
            })?;
            let line = read.lines().next().unwrap_or("").to_owned();
            if line.is_empty() {
                return Err(ConfigError {
                    var: "MEMBERKEY_SMTP_PASSWORD_FILE",
                    message: format!("{password_file} is empty"),
                });
            }
            Some(super::Secret::from(line.as_str()))
        };
        let signs_in = password.is_some() || url.password().is_some();
        if signs_in && !encrypted {
            return Err(ConfigError {
                var: URL,
                message: "would send the SMTP password unencrypted: use smtps:// (port 465) or smtp://…?tls=required (port 587)".into(),
            });
        }
        if password.is_some() && url.username().is_empty() {
            return Err(ConfigError {
                var: URL,
                message: "names no user for the password in MEMBERKEY_SMTP_PASSWORD_FILE: smtp://user@host:587?tls=required".into(),
            });
        }
        let mut ca_file = String::new();
        var("MEMBERKEY_SMTP_CA_FILE", &mut ca_file)?;
        let ca_pem = if ca_file.is_empty() {
            None
        } else {
            Some(std::fs::read(&ca_file).map_err(|e| ConfigError {
                var: "MEMBERKEY_SMTP_CA_FILE",
                message: format!("cannot read {ca_file}: {e}"),
            })?)
        };
        let mut seconds: u64 = 30;
        var("MEMBERKEY_SMTP_TIMEOUT_SECONDS", &mut seconds)?;
        if !(1..=600).contains(&seconds) {
            return Err(ConfigError {
                var: "MEMBERKEY_SMTP_TIMEOUT_SECONDS",
                message: "must be between 1 and 600".into(),
            });
        }
        Ok(Self {
            url,
            password,
            ca_pem,
            timeout: std::time::Duration::from_secs(seconds),
            dkim: DkimSettings::from_env(from)?,
        })
    }
}

/// Mail, links and the delivery worker.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// Whether this process runs a delivery worker (API-only processes may leave it off).
    pub worker: bool,
    pub transport: MailTransportKind,
    pub outbox_dir: PathBuf,
    pub from: String,
    pub reply_to: Option<String>,
    /// The other senders staff may choose for a mass communication (`MEMBERKEY_MAIL_SENDERS`);
    /// the default sender is always allowed and is not in this list.
    pub senders: Vec<crate::domain::MailSender>,
    pub ses_region: String,
    pub ses_endpoint: Option<String>,
    pub ses_configuration_set: Option<String>,
    /// The SMTP server, read when the transport is `smtp`.
    pub smtp: Option<SmtpSettings>,
    /// Messages per second, never exceeded in any one-second window.
    pub max_send_rate: f64,
    /// Messages being handed to the provider at once.
    pub send_concurrency: usize,
    /// How long a claimed message stays leased to one worker before another may take it. A
    /// live worker renews it every third of this, so it only bounds how long a dead worker's
    /// messages wait.
    pub lease: Duration,
    /// How often the worker looks for due mail when nothing woke it.
    pub poll: std::time::Duration,
    /// Where set-password links point; `None` means the built-in page.
    pub set_password_url: Option<String>,
    pub staff_link_ttl: Duration,
    pub member_link_ttl: Duration,
    pub mass_link_ttl: Duration,
    /// "Forgot Login" emails per address per hour.
    pub resets_per_address_per_hour: i32,
    /// How long ended account mail (resets, notices, test copies) stays in the queue table.
    /// A mass communication's deliveries stay with it: they are its ledger.
    pub retention: Duration,
    /// How often housekeeping deletes what has expired.
    pub housekeeping_every: std::time::Duration,
    /// How often each process looks for scheduled communications that are due: the most a
    /// scheduled send starts late. Not a setting; tests shorten it.
    pub schedule_check_every: std::time::Duration,
    /// When a mass communication whose deliveries keep failing stops itself.
    pub mass_pause: crate::domain::MassPauseRule,
    /// The SNS topic ARNs whose notifications `POST /webhooks/ses` accepts; empty refuses all.
    pub sns_topics: Vec<String>,
    /// Origins trusted to serve SNS signing certificates and subscription URLs besides SNS's
    /// own hosts. Only tests set this (they sign with a certificate they serve themselves);
    /// no variable reads it, so a deployment cannot widen what it trusts by mistake.
    pub sns_test_origins: Vec<String>,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            worker: true,
            transport: MailTransportKind::Outbox,
            outbox_dir: PathBuf::from("outbox"),
            from: "Members Only <no-reply@memberkey.invalid>".into(),
            reply_to: None,
            senders: Vec::new(),
            ses_region: "us-east-1".into(),
            ses_endpoint: None,
            ses_configuration_set: None,
            smtp: None,
            max_send_rate: 14.0,
            send_concurrency: 8,
            lease: Duration::seconds(30),
            poll: std::time::Duration::from_millis(500),
            set_password_url: None,
            staff_link_ttl: Duration::hours(24),
            member_link_ttl: Duration::minutes(60),
            mass_link_ttl: Duration::days(7),
            resets_per_address_per_hour: 3,
            retention: Duration::days(90),
            housekeeping_every: std::time::Duration::from_secs(3600),
            schedule_check_every: std::time::Duration::from_secs(10),
            mass_pause: crate::domain::MassPauseRule::default(),
            sns_topics: Vec::new(),
            sns_test_origins: Vec::new(),
        }
    }
}

/// `MEMBERKEY_MAIL_SENDERS`: mailboxes separated by commas, `"Events Team" <events@x.org>`,
/// each a display name for From and the address replies go to.
fn parse_senders(raw: &str) -> Result<Vec<crate::domain::MailSender>, String> {
    if raw.trim().is_empty() {
        return Ok(Vec::new());
    }
    let list = lettre::message::Mailboxes::from_str(raw).map_err(|_| {
        format!(
            "{raw:?} is not a list of senders such as \"Harbour Chamber Events\" <events@chamber.example>, Membership <membership@chamber.example>"
        )
    })?;
    let mut senders: Vec<crate::domain::MailSender> = Vec::new();
    for mailbox in list {
        let address = mailbox.email.to_string();
        let name = mailbox
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                format!(
                    "<{address}> has no name: write it as \"The name shown on From\" <{address}>"
                )
            })?;
        crate::domain::reject_control_chars(name).map_err(|e| format!("{name:?} {e}"))?;
        let reply_to =
            crate::domain::EmailAddress::parse(&address).map_err(|e| format!("<{address}> {e}"))?;
        if senders
            .iter()
            .any(|s| s.reply_to.as_str().eq_ignore_ascii_case(reply_to.as_str()))
        {
            return Err(format!(
                "<{reply_to}> is listed twice: each sender needs its own reply address"
            ));
        }
        senders.push(crate::domain::MailSender {
            name: name.to_owned(),
            reply_to,
        });
    }
    Ok(senders)
}

pub(super) fn mail_from_env(m: &mut MailSettings) -> Result<(), ConfigError> {
    var("MEMBERKEY_DELIVERY_WORKER", &mut m.worker)?;
    var("MEMBERKEY_MAIL_TRANSPORT", &mut m.transport)?;
    var("MEMBERKEY_OUTBOX_DIR", &mut m.outbox_dir)?;
    var("MEMBERKEY_MAIL_FROM", &mut m.from)?;
    optional("MEMBERKEY_MAIL_REPLY_TO", &mut m.reply_to)?;
    let mut senders = String::new();
    var("MEMBERKEY_MAIL_SENDERS", &mut senders)?;
    m.senders = parse_senders(&senders).map_err(|message| ConfigError {
        var: "MEMBERKEY_MAIL_SENDERS",
        message,
    })?;
    var("MEMBERKEY_SES_REGION", &mut m.ses_region)?;
    optional("MEMBERKEY_SES_ENDPOINT", &mut m.ses_endpoint)?;
    optional(
        "MEMBERKEY_SES_CONFIGURATION_SET",
        &mut m.ses_configuration_set,
    )?;
    if m.transport == MailTransportKind::Smtp {
        m.smtp = Some(SmtpSettings::from_env(&m.from)?);
    }
    let mut topics = String::new();
    var("MEMBERKEY_SES_SNS_TOPICS", &mut topics)?;
    m.sns_topics = topics
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(bad) = m.sns_topics.iter().find(|t| !t.starts_with("arn:aws")) {
        return Err(ConfigError {
            var: "MEMBERKEY_SES_SNS_TOPICS",
            message: format!(
                "{bad:?} is not a topic ARN such as arn:aws:sns:us-east-1:123456789012:ses-events"
            ),
        });
    }
    var("MEMBERKEY_MAX_SEND_RATE", &mut m.max_send_rate)?;
    var("MEMBERKEY_SEND_CONCURRENCY", &mut m.send_concurrency)?;
    let mut lease = m.lease.num_seconds();
    var("MEMBERKEY_DELIVERY_LEASE_SECONDS", &mut lease)?;
    if lease < 1 {
        return Err(ConfigError {
            var: "MEMBERKEY_DELIVERY_LEASE_SECONDS",
            message: "must be at least 1".into(),
        });
    }
    m.lease = Duration::seconds(lease);
    let mut days = m.retention.num_days();
    var("MEMBERKEY_MAIL_RETENTION_DAYS", &mut days)?;
    if !(1..=36_500).contains(&days) {
        return Err(ConfigError {
            var: "MEMBERKEY_MAIL_RETENTION_DAYS",
            message: "must be between 1 and 36500".into(),
        });
    }
    m.retention = Duration::days(days);
    let mut every = m.housekeeping_every.as_secs() / 60;
    var("MEMBERKEY_HOUSEKEEPING_MINUTES", &mut every)?;
    if !(1..=10_080).contains(&every) {
        return Err(ConfigError {
            var: "MEMBERKEY_HOUSEKEEPING_MINUTES",
            message: "must be between 1 and 10080 (a week)".into(),
        });
    }
    m.housekeeping_every = std::time::Duration::from_secs(every * 60);
    // 0 turns a rule off.
    let mut percent = m.mass_pause.rate.map_or(0.0, |r| r * 100.0);
    var("MEMBERKEY_MASS_PAUSE_FAILURE_RATE", &mut percent)?;
    if !(0.0..=100.0).contains(&percent) {
        return Err(ConfigError {
            var: "MEMBERKEY_MASS_PAUSE_FAILURE_RATE",
            message: "must be a percentage between 0 (off) and 100".into(),
        });
    }
    m.mass_pause.rate = (percent > 0.0).then_some(percent / 100.0);
    var("MEMBERKEY_MASS_PAUSE_WINDOW", &mut m.mass_pause.window)?;
    if m.mass_pause.window == 0 {
        return Err(ConfigError {
            var: "MEMBERKEY_MASS_PAUSE_WINDOW",
            message: "must be at least 1".into(),
        });
    }
    let mut in_a_row = m.mass_pause.in_a_row.unwrap_or(0);
    var("MEMBERKEY_MASS_PAUSE_FAILURES_IN_A_ROW", &mut in_a_row)?;
    m.mass_pause.in_a_row = (in_a_row > 0).then_some(in_a_row);
    optional("MEMBERKEY_SET_PASSWORD_URL", &mut m.set_password_url)?;
    minutes("MEMBERKEY_STAFF_LINK_TTL_MINUTES", &mut m.staff_link_ttl)?;
    minutes("MEMBERKEY_MEMBER_LINK_TTL_MINUTES", &mut m.member_link_ttl)?;
    minutes("MEMBERKEY_MASS_LINK_TTL_MINUTES", &mut m.mass_link_ttl)?;
    var(
        "MEMBERKEY_RESETS_PER_ADDRESS_PER_HOUR",
        &mut m.resets_per_address_per_hour,
    )?;
    if !(m.max_send_rate > 0.0 && m.max_send_rate.is_finite()) {
        return Err(ConfigError {
            var: "MEMBERKEY_MAX_SEND_RATE",
            message: "must be a positive number of messages per second".into(),
        });
    }
    if m.send_concurrency == 0 {
        return Err(ConfigError {
            var: "MEMBERKEY_SEND_CONCURRENCY",
            message: "must be at least 1".into(),
        });
    }
    if lettre::message::Mailbox::from_str(&m.from).is_err() {
        return Err(ConfigError {
            var: "MEMBERKEY_MAIL_FROM",
            message: format!("is not a mail address: {:?}", m.from),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_senders;

    #[test]
    fn senders_parse_with_names_and_quoted_commas() {
        let got = parse_senders(
            r#""Harbour Chamber, Events" <events@Chamber.example>, Membership <membership@chamber.example>"#,
        )
        .unwrap();
        let pairs: Vec<(&str, &str)> = got
            .iter()
            .map(|s| (s.name.as_str(), s.reply_to.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("Harbour Chamber, Events", "events@chamber.example"),
                ("Membership", "membership@chamber.example")
            ]
        );
        assert!(parse_senders("  ").unwrap().is_empty());
    }

    #[test]
    fn senders_need_a_name_and_one_reply_address_each() {
        assert!(
            parse_senders("events@chamber.example")
                .unwrap_err()
                .contains("has no name")
        );
        assert!(
            parse_senders("A <x@chamber.example>, B <X@CHAMBER.example>")
                .unwrap_err()
                .contains("listed twice")
        );
        assert!(parse_senders("A <not an address>").is_err());
    }
}
