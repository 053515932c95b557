//! `memberkey check`: the configuration and the environment, checked without serving. One line
//! per check, `ok` or `FAIL`, and what to do about a failure; the command fails if any does.

use std::path::Path;
use std::sync::Arc;

use crate::config::{self, Config, MailTransportKind};

/// One check's outcome.
pub struct Line {
    pub ok: bool,
    pub what: &'static str,
    pub detail: String,
}

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mark = if self.ok { "ok  " } else { "FAIL" };
        write!(f, "{mark}  {}: {}", self.what, self.detail)
    }
}

fn line(ok: bool, what: &'static str, detail: impl Into<String>) -> Line {
    Line {
        ok,
        what,
        detail: detail.into(),
    }
}

/// Runs every check that the settings allow; returns the lines in order.
pub async fn run() -> Vec<Line> {
    let mut lines = Vec::new();
    let unknown = config::unknown_settings();
    if unknown.is_empty() {
        lines.push(line(
            true,
            "names",
            "every MEMBERKEY_* variable is a setting",
        ));
    }
    for (name, closest) in unknown {
        let hint = match closest {
            Some(c) => format!("did you mean {c}?"),
            None => "see the README's Configuration table".into(),
        };
        lines.push(line(
            false,
            "names",
            format!("{name} is not a setting; {hint}"),
        ));
    }
    let config = match Config::from_env() {
        Ok(c) => {
            lines.push(line(true, "settings", "every setting parses"));
            c
        }
        Err(e) => {
            lines.push(line(false, "settings", e.to_string()));
            // Without settings, nothing else can be checked as the service would see it.
            return lines;
        }
    };
    lines.push(database(&config).await);
    lines.push(sealing_key(&config));
    match config.mail.transport {
        MailTransportKind::Outbox => lines.push(outbox(&config.mail.outbox_dir)),
        MailTransportKind::Ses => lines.extend(ses(&config).await),
        MailTransportKind::Smtp => {
            lines.push(smtp(&config).await);
            if let Some(dkim) = config.mail.smtp.as_ref().and_then(|s| s.dkim.as_ref()) {
                lines.push(dkim_line(dkim));
            }
        }
    }
    lines
}

async fn database(config: &Config) -> Line {
    // Opening a SQLite URL with mode=rwc would create the file: a misspelt path must not look
    // like an empty database.
    if let Some(path) = sqlite_file(&config.database_url)
        && !path.exists()
    {
        return line(
            true,
            "database",
            format!(
                "{} does not exist yet; `serve` or `migrate` creates it. If you meant an existing database, check MEMBERKEY_DATABASE_URL",
                path.display()
            ),
        );
    }
    let db = match crate::store::connect(&config.database_url, 1, Arc::default()).await {
        Ok(db) => db,
        Err(e) => {
            return line(
                false,
                "database",
                format!(
                    "cannot connect to MEMBERKEY_DATABASE_URL ({e}); is the server running, and are the host, port, user and database right?"
                ),
            );
        }
    };
    match crate::store::migration_state(&db).await {
        Ok((applied, pending)) if pending.is_empty() => line(
            true,
            "database",
            format!("reachable; {applied} migrations applied, none pending"),
        ),
        Ok((applied, pending)) => line(
            true,
            "database",
            format!(
                "reachable; {applied} migrations applied, {} pending ({}), which `serve` or `migrate` will run",
                pending.len(),
                pending.join(", ")
            ),
        ),
        Err(e) => line(
            false,
            "database",
            format!("reachable, but its migration state cannot be read: {e}"),
        ),
    }
}

/// The file of a `sqlite://` URL, if it names one (not `:memory:`).
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| std::path::PathBuf::from(path))
}

fn sealing_key(config: &Config) -> Line {
    const WHAT: &str = "sealing key";
    if !config.reveal_assigned_passwords {
        return line(
            true,
            WHAT,
            "not used (MEMBERKEY_REVEAL_ASSIGNED_PASSWORDS=false)",
        );
    }
    if let Some(raw) = &config.sealing_key {
        return match crate::services::sealing::Sealer::load(Some(raw.expose()), Path::new("")) {
            Ok(_) => line(true, WHAT, "MEMBERKEY_SEALING_KEY holds a valid key"),
            Err(e) => line(false, WHAT, format!("MEMBERKEY_SEALING_KEY: {e}")),
        };
    }
    let file = &config.sealing_key_file;
    let meta = match std::fs::metadata(file) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return line(
                true,
                WHAT,
                format!(
                    "{} does not exist yet; `serve` creates it (mode 0600). Back it up with the database",
                    file.display()
                ),
            );
        }
        Err(e) => return line(false, WHAT, format!("{}: {e}", file.display())),
    };
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return line(
            false,
            WHAT,
            format!(
                "{} can be read by others (mode {mode:o}); run chmod 600 on it",
                file.display()
            ),
        );
    }
    match crate::services::sealing::Sealer::load(None, file) {
        Ok(_) => line(
            true,
            WHAT,
            format!(
                "{} holds a valid key, readable only by its owner",
                file.display()
            ),
        ),
        Err(e) => line(false, WHAT, e),
    }
}

fn outbox(dir: &Path) -> Line {
    const WHAT: &str = "outbox";
    // A check changes nothing: a folder that does not exist yet is judged by its parent.
    if !dir.exists() {
        let parent = dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        return if parent.is_dir() {
            line(
                true,
                WHAT,
                format!(
                    "{} does not exist yet; `serve` creates it in {}",
                    dir.display(),
                    parent.display()
                ),
            )
        } else {
            line(
                false,
                WHAT,
                format!(
                    "{} cannot be created: {} is not a folder",
                    dir.display(),
                    parent.display()
                ),
            )
        };
    }
    let probe = dir.join(format!(".memberkey-check-{}", std::process::id()));
    match std::fs::write(&probe, b"") {
        Ok(()) => {
            let _ = std::fs::remove_file(&probe);
            line(true, WHAT, format!("{} is writable", dir.display()))
        }
        Err(e) => line(
            false,
            WHAT,
            format!("{} is not writable: {e}", dir.display()),
        ),
    }
}

/// The SMTP server: connects, says EHLO, starts TLS, signs in and says NOOP; sends nothing.
pub async fn smtp(config: &Config) -> Line {
    const WHAT: &str = "smtp";
    let server = config
        .mail
        .smtp
        .as_ref()
        .map(|s| s.describe())
        .unwrap_or_default();
    let envelope =
        match crate::mail::Envelope::new(&config.mail.from, config.mail.reply_to.as_deref()) {
            Ok(e) => e,
            Err(e) => return line(false, WHAT, format!("MEMBERKEY_MAIL_FROM: {e}")),
        };
    let transport = match crate::app::smtp_transport(config, envelope) {
        Ok(t) => t,
        Err(e) => return line(false, WHAT, e.log_text()),
    };
    match transport.check().await {
        Ok(()) => line(
            true,
            WHAT,
            format!("{server} answers: TLS, sign-in and NOOP work (nothing was sent)"),
        ),
        Err(e) => line(false, WHAT, format!("{server}: {e}")),
    }
}

/// The DKIM key, and the DNS record to publish for it.
pub fn dkim_line(settings: &crate::config::DkimSettings) -> Line {
    match crate::mail::smtp::dkim_record(settings) {
        Ok((name, value)) => line(
            true,
            "dkim",
            format!("mail is signed; publish this TXT record: {name} TXT \"{value}\""),
        ),
        Err(e) => line(false, "dkim", e),
    }
}

/// The sending account and identity, asked of SES itself.
async fn ses(config: &Config) -> Vec<Line> {
    let client = crate::mail::ses::client(&config.mail, None).await;
    let mut lines = vec![ses_account(&client, &config.mail.ses_region).await];
    lines.push(ses_identity(&client, &config.mail.from).await);
    lines
}

async fn ses_account(client: &aws_sdk_sesv2::Client, region: &str) -> Line {
    const WHAT: &str = "ses account";
    let account = match client.get_account().send().await {
        Ok(a) => a,
        Err(e) => {
            return line(
                false,
                WHAT,
                format!(
                    "GetAccount in {region} failed: {}. Check the AWS credentials, MEMBERKEY_SES_REGION and MEMBERKEY_SES_ENDPOINT",
                    describe(&e)
                ),
            );
        }
    };
    let quota = account
        .send_quota()
        .map(|q| {
            format!(
                "; quota {} per 24 h ({} sent), {} per second",
                q.max24_hour_send(),
                q.sent_last24_hours(),
                q.max_send_rate()
            )
        })
        .unwrap_or_default();
    let sandbox = if account.production_access_enabled() {
        ""
    } else {
        "; in the SES sandbox, so only verified recipients receive mail"
    };
    if account.sending_enabled() {
        line(
            true,
            WHAT,
            format!("credentials work and sending is enabled{quota}{sandbox}"),
        )
    } else {
        line(
            false,
            WHAT,
            format!("sending is disabled for this account{quota}; see the SES console"),
        )
    }
}

/// The address of `MEMBERKEY_MAIL_FROM`, or its domain, must be verified for sending.
async fn ses_identity(client: &aws_sdk_sesv2::Client, from: &str) -> Line {
    const WHAT: &str = "ses identity";
    let Some(address) = sender_address(from) else {
        return line(
            false,
            WHAT,
            format!("MEMBERKEY_MAIL_FROM {from:?} holds no address"),
        );
    };
    let domain = address.rsplit('@').next().unwrap_or_default().to_owned();
    let mut findings = Vec::new();
    for identity in [address.clone(), domain] {
        match client
            .get_email_identity()
            .email_identity(&identity)
            .send()
            .await
        {
            Ok(found) if found.verified_for_sending_status() => {
                return line(
                    true,
                    WHAT,
                    format!("{address} may send (identity {identity} is verified)"),
                );
            }
            Ok(_) => findings.push(format!("{identity} is not verified for sending yet")),
            Err(e) => findings.push(format!("{identity}: {}", describe(&e))),
        }
    }
    line(
        false,
        WHAT,
        format!(
            "{address} may not send ({}). Verify the address or its domain in SES",
            findings.join("; ")
        ),
    )
}

/// An SDK error in one line: the service's error code and message, or why no answer came.
fn describe<E>(
    e: &aws_sdk_sesv2::error::SdkError<E, aws_sdk_sesv2::config::http::HttpResponse>,
) -> String
where
    E: aws_sdk_sesv2::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    use aws_sdk_sesv2::error::SdkError;
    match e {
        SdkError::ServiceError(se) => {
            let meta = se.err();
            match (meta.code(), meta.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_owned(),
                _ => format!("HTTP {} with no SES error", se.raw().status().as_u16()),
            }
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            // The innermost cause says it best, e.g. "Connection refused (os error 111)".
            let mut cause: &dyn std::error::Error = e;
            while let Some(next) = cause.source() {
                cause = next;
            }
            format!("no answer from SES: {cause}")
        }
        other => aws_sdk_sesv2::error::DisplayErrorContext(other).to_string(),
    }
}

/// `Members Only <members@example.org>` → `members@example.org`.
fn sender_address(from: &str) -> Option<String> {
    let addr = match (from.rfind('<'), from.rfind('>')) {
        (Some(l), Some(r)) if l < r => &from[l + 1..r],
        _ => from,
    };
    let addr = addr.trim();
    addr.contains('@').then(|| addr.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sender_address_is_read_from_a_display_name() {
        assert_eq!(
            sender_address("Members Only <members@example.org>").as_deref(),
            Some("members@example.org")
        );
        assert_eq!(
            sender_address("members@example.org").as_deref(),
            Some("members@example.org")
        );
        assert_eq!(sender_address("Members Only"), None);
    }
}
