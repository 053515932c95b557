//! Wiring: connect, migrate, build the schema and serve until asked to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::config::{Config, MailTransportKind, Secret};
use crate::delivery;
use crate::domain::{Clock, SystemClock};
use crate::error::AppError;
use crate::graphql;
use crate::housekeeping;
use crate::http::{self, AppState};
use crate::mail::{Envelope, MailTransport, outbox::OutboxTransport, ses::SesTransport};
use crate::services::sealing::Sealer;
use crate::services::{PasswordHasher, Services};
use crate::store;

/// A ready-to-serve memberkey: migrated database, services and schema.
pub struct App {
    state: AppState,
    transport: Arc<dyn MailTransport>,
}

impl App {
    /// Connects, runs pending migrations and prepares the services.
    pub async fn build(config: Config) -> Result<Self, AppError> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// As `build`, with an injected clock (tests move time with it).
    pub async fn build_with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<Self, AppError> {
        Self::build_with(config, clock, None).await
    }

    /// As `build`, but applies no migration: for commands that must change nothing (a dry
    /// run). A database with pending migrations is refused with what to do.
    pub async fn build_unmigrated(config: Config) -> Result<Self, AppError> {
        Self::build_inner(config, Arc::new(SystemClock), None, false).await
    }

    /// As `build`, with an injected clock and, optionally, an injected mail transport
    /// (tests); without one, the transport the settings name.
    pub async fn build_with(
        config: Config,
        clock: Arc<dyn Clock>,
        transport: Option<Arc<dyn MailTransport>>,
    ) -> Result<Self, AppError> {
        Self::build_inner(config, clock, transport, true).await
    }

    async fn build_inner(
        config: Config,
        clock: Arc<dyn Clock>,
        transport: Option<Arc<dyn MailTransport>>,
        migrate: bool,
    ) -> Result<Self, AppError> {
        // Only the outbox keeps mail on this machine; an injected transport (tests) delivers.
        let mail_is_sent = transport.is_some()
            || config.mail.transport != crate::config::MailTransportKind::Outbox;
        let transport = match transport {
            Some(t) => t,
            None => configured_transport(&config).await?,
        };
        let statements = Arc::new(AtomicU64::new(0));
        let db = store::connect(
            &config.database_url,
            config.db_max_connections,
            statements.clone(),
        )
        .await?;
        if migrate {
            store::migrate(&db).await?;
        } else {
            let (_, pending) = store::migration_state(&db).await?;
            if !pending.is_empty() {
                return Err(AppError::internal(format!(
                    "the database is not up to date ({} migrations pending) and a dry run changes nothing; run `memberkey migrate` first",
                    pending.len()
                )));
            }
        }
        let hasher = PasswordHasher::new(config.argon2, config.hash_workers, config.hash_queue)?;
        let vault = Sealer::load(
            config.sealing_key.as_ref().map(Secret::expose),
            &config.sealing_key_file,
        )
        .map_err(|e| AppError::internal(format!("sealing key: {e}")))?;
        let sealer = config.reveal_assigned_passwords.then(|| vault.clone());
        let config = Arc::new(config);
        let services = Services {
            db,
            clock,
            config: config.clone(),
            hasher,
            statements,
            sealer,
            vault,
            mail_wakeup: Arc::new(tokio::sync::Notify::new()),
            mail_is_sent,
            oidc_keys: Arc::new(crate::services::oidc::keys::KeyRing::default()),
            oidc_codes: Arc::new(crate::services::oidc::spend::CodeSpender::default()),
            oidc_access: Arc::new(crate::services::oidc::access::AccessReader::default()),
            sns: Arc::new(crate::mail::sns::SnsVerifier::new(
                config.mail.sns_test_origins.clone(),
            )),
        };
        let schema = graphql::build_schema(services.clone(), &config);
        Ok(Self {
            state: AppState::new(schema, services, config),
            transport,
        })
    }

    pub fn services(&self) -> &Services {
        &self.state.services
    }

    pub fn router(&self) -> axum::Router {
        http::router(self.state.clone())
    }

    /// What the delivery worker and housekeeping run on: the same pool, clock and settings
    /// as the use cases, and the bell the use cases ring when they queue mail.
    fn background(&self) -> delivery::Context {
        background(&self.state.services)
    }

    /// Serves on `listener`, with the delivery worker running, until `shutdown` resolves;
    /// then finishes in-flight requests and the messages the worker holds.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let router = self.router();
        let (stop_worker, stopped) = tokio::sync::watch::channel(false);
        let worker = self.state.config.mail.worker.then(|| {
            delivery::Worker::new(self.background(), self.transport.clone()).spawn(stopped.clone())
        });
        let scheduler = spawn_scheduler(self.state.services.clone(), stopped.clone());
        let housekeeping = housekeeping::spawn(self.background(), stopped);
        let served = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        let _ = stop_worker.send(true);
        if let Some(worker) = worker {
            let _ = worker.await;
        }
        let _ = housekeeping.await;
        let _ = scheduler.await;
        served
    }

    /// Binds `addr` (port 0 picks a free port) and serves in the background.
    pub async fn spawn(self, addr: SocketAddr) -> std::io::Result<RunningApp> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let services = self.state.services.clone();
        let transport = self.transport.clone();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(self.serve(listener, async move {
            let _ = stop_rx.await;
        }));
        Ok(RunningApp {
            addr,
            services,
            transport,
            stop: Some(stop_tx),
            handle,
        })
    }
}

/// Starts scheduled mass communications when they are due: at once (so one due while the
/// server was down goes now), then every `schedule_check_every`.
fn spawn_scheduler(services: Services, stop: tokio::sync::watch::Receiver<bool>) -> JoinHandle<()> {
    let period = services.config.mail.schedule_check_every;
    crate::periodic::spawn(period, stop, move || {
        let services = services.clone();
        async move {
            match crate::services::mass::start_due(&services).await {
                Ok(0) => {}
                Ok(started) => tracing::info!(started, "scheduled mass communications started"),
                Err(e) => {
                    tracing::warn!(error = %e.log_text(), "scheduled sends could not be checked; trying again")
                }
            }
        }
    })
}

/// The background tasks' context, taken from the use cases' services.
fn background(services: &Services) -> delivery::Context {
    delivery::Context {
        db: services.db.clone(),
        clock: services.clock.clone(),
        config: services.config.clone(),
        wakeup: services.mail_wakeup.clone(),
        pseudonyms: services.vault.pseudonyms().clone(),
    }
}

/// The transport the settings name: the outbox directory by default, or Amazon SES.
async fn configured_transport(config: &Config) -> Result<Arc<dyn MailTransport>, AppError> {
    let mail = &config.mail;
    let envelope =
        Envelope::new(&mail.from, mail.reply_to.as_deref()).map_err(AppError::internal)?;
    Ok(match mail.transport {
        MailTransportKind::Outbox => Arc::new(
            OutboxTransport::new(mail.outbox_dir.clone(), envelope).map_err(|e| {
                AppError::internal(format!("outbox {}: {e}", mail.outbox_dir.display()))
            })?,
        ),
        MailTransportKind::Ses => Arc::new(SesTransport::new(mail, envelope, None).await),
        MailTransportKind::Smtp => Arc::new(smtp_transport(config, envelope)?),
    })
}

/// The SMTP transport the settings name, with one pooled connection per concurrent send.
pub fn smtp_transport(
    config: &Config,
    envelope: Envelope,
) -> Result<crate::mail::smtp::SmtpTransport, AppError> {
    let settings = config.mail.smtp.as_ref().ok_or_else(|| {
        AppError::internal("MEMBERKEY_MAIL_TRANSPORT=smtp needs MEMBERKEY_SMTP_URL")
    })?;
    crate::mail::smtp::SmtpTransport::new(settings, envelope, config.mail.send_concurrency as u32)
        .map_err(AppError::internal)
}

/// A memberkey serving in the background (tests, benchmarks).
pub struct RunningApp {
    pub addr: SocketAddr,
    pub services: Services,
    transport: Arc<dyn MailTransport>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: JoinHandle<std::io::Result<()>>,
}

impl RunningApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// SQL statements issued so far.
    pub fn sql_statements(&self) -> u64 {
        self.services.statements.load(Ordering::Relaxed)
    }

    /// Sends everything that is due, beside the running worker, until no message is due or
    /// held. After it returns, a message that was going to go out has gone out.
    pub async fn drain_mail(&self) -> Result<usize, delivery::DeliveryError> {
        delivery::Worker::new(background(&self.services), self.transport.clone())
            .drain()
            .await
    }

    /// Runs one housekeeping sweep now.
    pub async fn sweep(&self) -> Result<housekeeping::Swept, AppError> {
        housekeeping::sweep(&background(&self.services)).await
    }

    /// Stops accepting, lets in-flight requests finish, and closes the pool.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.handle).await;
        let _ = self.services.db.clone().close().await;
    }
}

/// Caps glibc's malloc arenas at two. By default glibc gives busy threads up to 8 arenas per
/// core, and a mass send then holds on to freed memory in each: the peak RSS of a
/// 100,000-recipient send drops from about 111 MiB to about 80 MiB with the cap, at no
/// measurable cost in speed (BENCHMARKS.md). Call it before the runtime starts its threads.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator parameters; M_ARENA_MAX takes a count.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM. The handlers are installed when this is called,
/// not when the future is first polled, so a signal that arrives while the server is still
/// starting is not lost (and does not kill the process with the default action).
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {},
                        _ = int.recv() => {},
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
            tracing::info!("shutdown requested; finishing in-flight requests");
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown requested; finishing in-flight requests");
    }
}
