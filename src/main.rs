//! The `memberkey` command line.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use memberkey::domain::Right;
use memberkey::services::{self, RequestMeta};
use memberkey::{App, Config};
use tracing_subscriber::EnvFilter;

/// The version, with a short hash of the GraphQL schema: two builds with the same hash serve
/// the same API.
static VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{} (schema {})",
        env!("CARGO_PKG_VERSION"),
        memberkey::graphql::schema_hash()
    )
});

/// memberkey: the credentials back end of a Members Only portal. Settings come from MEMBERKEY_*
/// environment variables (see the README).
#[derive(Parser)]
#[command(version = VERSION.as_str(), about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run pending migrations, then serve the GraphQL API.
    Serve {
        /// Seed a sample association (only into an empty database) and print a staff sign-in.
        #[arg(long)]
        demo: bool,
    },
    /// Run pending migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL). Needs no database.
    Schema {
        /// Print the console's enum lists (`src/http/staff/enums.js`) instead.
        #[arg(long)]
        console_enums: bool,
    },
    /// Check the settings and the environment (database, sealing key, outbox or SES) without
    /// serving; exits non-zero if any check fails.
    Check,
    /// Manage staff users.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Portal credentials.
    #[command(subcommand)]
    Credentials(CredentialsCommand),
    /// Member profiles.
    #[command(subcommand)]
    Profiles(ProfilesCommand),
    /// Copy a SQLite database to FILE, consistently, while `serve` keeps running (nothing is
    /// migrated or stopped). Keep the sealing key with the copy. For PostgreSQL it prints the
    /// pg_dump command to use instead.
    Backup {
        /// The new file to write; an existing file is never overwritten.
        file: PathBuf,
    },
    /// The association's sites that sign members in through memberkey (OpenID Connect
    /// clients).
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// The keys that sign ID tokens for connected sites.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Subcommand)]
enum ClientsCommand {
    /// Register a site and print its client ID and, unless --public, its secret (shown only
    /// this once).
    Create {
        /// The name members see when they sign in.
        #[arg(long)]
        name: String,
        /// An address a sign-in may return to, exactly as the site sends it; repeat for more.
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// An address signing out may return to; repeat for more.
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// A public site (a browser or phone app): no secret, PKCE required.
        #[arg(long)]
        public: bool,
        /// A membership status the site admits (ACTIVE, PROSPECT, LAPSED, NON_MEMBER); repeat
        /// for more. Without it, every status that may sign in is admitted.
        #[arg(long = "status")]
        statuses: Vec<String>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Publish a new signing key at once; it signs after a day, so sites that cache the key
    /// set learn it first. Keys no token can still need are retired.
    Rotate,
}

#[derive(Subcommand)]
enum ProfilesCommand {
    /// Import profiles from another system's CSV export. The header row names the columns,
    /// in any order: external_id and kind (ORGANIZATION or INDIVIDUAL) are required;
    /// first_name, last_name, organization_name, parent_external_id, email, member_status,
    /// username and password_hash (Argon2, PBKDF2, scrypt or bcrypt) are optional. Running
    /// the same file again updates the profiles it made, never duplicates them.
    Import {
        /// The CSV file; `-` for standard input.
        file: String,
        /// Check every line and report what would change, writing nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print everything memberkey holds about one person as a JSON document, for their
    /// request to see their data. Audited on the profile.
    Export {
        /// The profile's ID.
        id: String,
    },
}

#[derive(Subcommand)]
enum CredentialsCommand {
    /// Import accounts from another system. FILE has one account per line,
    /// `profile_id,username,password_hash` (username may be empty; the hash is an Argon2,
    /// PBKDF2 or scrypt PHC string). A header line starting with `profile_id` is skipped.
    /// Members sign in with their old passwords, which are then rehashed with Argon2id.
    Import {
        /// The file to read; `-` for standard input.
        file: String,
    },
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Create a staff user. The password is read from standard input, or prompted for on a terminal.
    Create(StaffCreate),
    /// End a staff user's sign-in lock at once (for the last administrator, who has no one to
    /// unlock them through the API).
    Unlock {
        /// The staff user's sign-in name.
        #[arg(long)]
        username: String,
    },
    /// Set a staff user's password (read from standard input, or prompted for on a
    /// terminal), end their sessions and lift any sign-in lock: for the last administrator,
    /// who has no one to reset it through the API.
    ResetPassword {
        /// The staff user's sign-in name.
        #[arg(long)]
        username: String,
    },
    /// Remove a staff user's second factor and end their sessions: for an administrator who
    /// lost both their phone and their recovery codes. Nobody can remove their own through
    /// the API, so this is the way back for the last administrator.
    ResetSecondFactor {
        /// The staff user's sign-in name.
        #[arg(long)]
        username: String,
    },
}

#[derive(Args)]
struct StaffCreate {
    /// Sign-in name.
    #[arg(long)]
    username: String,
    /// Where their set-password link goes (sendStaffPasswordReset); optional.
    #[arg(long)]
    email: Option<String>,
    /// A right to grant; repeat for several (e.g. --right MANAGE_STAFF).
    #[arg(long = "right", value_parser = parse_right)]
    rights: Vec<Right>,
    /// Grant every right.
    #[arg(long, conflicts_with = "rights")]
    all_rights: bool,
}

fn parse_right(raw: &str) -> Result<Right, String> {
    raw.parse()
}

fn read_password() -> Result<String, String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").map_err(|e| e.to_string())?;
        let again = rpassword::prompt_password("Repeat password: ").map_err(|e| e.to_string())?;
        if first != again {
            return Err("the passwords do not match".into());
        }
        Ok(first)
    } else {
        let mut input = String::new();
        std::io::stdin()
            .read_to_string(&mut input)
            .map_err(|e| e.to_string())?;
        Ok(input.trim_end_matches(['\r', '\n']).to_owned())
    }
}

fn main() -> ExitCode {
    memberkey::app::tune_allocator();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(cli_main()),
        Err(e) => {
            eprintln!("memberkey: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn cli_main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Schema { console_enums } = cli.command {
        if console_enums {
            print!("{}", memberkey::graphql::console_enums_js());
        } else {
            print!("{}", memberkey::graphql::sdl());
        }
        return ExitCode::SUCCESS;
    }
    if let Command::Check = cli.command {
        // Checks read the settings themselves, so a broken one is reported, not fatal.
        let lines = memberkey::check::run().await;
        for line in &lines {
            println!("{line}");
        }
        return if lines.iter().all(|l| l.ok) {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("memberkey: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_new(&config.log_filter).unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into log files or collectors.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    // A misspelt setting would otherwise be silently ignored, leaving its default in force:
    // `MEMBERKEY_DATABSE_URL=postgres://…` would serve an empty SQLite file with a new key.
    let unknown = memberkey::config::unknown_settings();
    for (name, closest) in &unknown {
        let hint = match closest {
            Some(c) => format!("; did you mean {c}?"),
            None => "; see the README's Configuration table".into(),
        };
        if config.allow_unknown_settings {
            tracing::warn!("{name} is not a setting and is ignored{hint}");
        } else {
            eprintln!("memberkey: {name} is not a setting{hint}");
        }
    }
    if !unknown.is_empty() && !config.allow_unknown_settings {
        eprintln!(
            "memberkey: not starting with settings it does not know. Correct or remove them, or set MEMBERKEY_ALLOW_UNKNOWN_SETTINGS=1 to start anyway."
        );
        return ExitCode::from(2);
    }
    if let Command::Backup { file } = &cli.command {
        // No App: a backup neither migrates the database (it often comes just before an
        // upgrade) nor starts any worker.
        return match memberkey::backup::run(&config, file).await {
            Ok(copied) => {
                println!(
                    "Copied the database to {} ({} bytes).\nKeep the sealing key with it ({}): without it the copy's staff-assigned passwords and second factors cannot be opened.",
                    copied.file.display(),
                    copied.bytes,
                    copied.key
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("memberkey: {e}");
                ExitCode::FAILURE
            }
        };
    }
    match run(cli.command, config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("memberkey: {message}");
            ExitCode::FAILURE
        }
    }
}

fn describe(e: memberkey::error::AppError) -> String {
    e.log_text()
}

async fn run(command: Command, config: Config) -> Result<(), String> {
    let listen = config.listen;
    let public_url = config.public_url.clone();
    // A dry run changes nothing, not even the database's schema.
    let dry = matches!(
        command,
        Command::Profiles(ProfilesCommand::Import { dry_run: true, .. })
    );
    let app = if dry {
        App::build_unmigrated(config).await
    } else {
        App::build(config).await
    }
    .map_err(describe)?;
    match command {
        Command::Schema { .. } | Command::Check | Command::Backup { .. } => Ok(()),
        Command::Migrate => {
            println!("migrations are up to date");
            Ok(())
        }
        Command::Staff(StaffCommand::Create(args)) => {
            let password = read_password()?;
            let rights = if args.all_rights {
                Right::ALL.to_vec()
            } else {
                args.rights
            };
            let user = services::staff::create(
                app.services(),
                None,
                &RequestMeta::default(),
                &args.username,
                args.email.as_deref(),
                &password,
                &rights,
            )
            .await
            .map_err(describe)?;
            let names: Vec<_> = user.rights.iter().map(|r| r.as_str()).collect();
            let email = user
                .email
                .as_deref()
                .map(|e| format!(", email {e}"))
                .unwrap_or_default();
            println!(
                "created staff user {} (id {}{email}) with rights: {}",
                user.username,
                user.id,
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                }
            );
            Ok(())
        }
        Command::Staff(StaffCommand::Unlock { username }) => {
            let user = services::staff::find_by_username(app.services(), &username)
                .await
                .map_err(describe)?;
            services::staff::unlock(app.services(), None, &RequestMeta::default(), user.id)
                .await
                .map_err(describe)?;
            println!("unlocked staff user {} (id {})", user.username, user.id);
            Ok(())
        }
        Command::Staff(StaffCommand::ResetPassword { username }) => {
            let password = read_password()?;
            services::staff::password::reset(app.services(), &username, &password)
                .await
                .map_err(describe)?;
            println!("set a new password for staff user {username}; their sessions have ended");
            Ok(())
        }
        Command::Staff(StaffCommand::ResetSecondFactor { username }) => {
            let user = services::staff::second_factor::reset_by_operator(app.services(), &username)
                .await
                .map_err(describe)?;
            println!(
                "removed the second factor of staff user {} (id {}); their sessions have ended. They sign in with their password and can set up a new one",
                user.username, user.id
            );
            Ok(())
        }
        Command::Credentials(CredentialsCommand::Import { file }) => {
            import_credentials(app.services(), &file).await
        }
        Command::Profiles(ProfilesCommand::Import { file, dry_run }) => {
            import_profiles(app.services(), &file, dry_run).await
        }
        Command::Profiles(ProfilesCommand::Export { id }) => {
            let id = memberkey::domain::ProfileId::parse(&id)
                .map_err(|e| format!("profile ID {id:?}: {e}"))?;
            let document = services::personal_data::export_by_operator(app.services(), id)
                .await
                .map_err(describe)?;
            let pretty = serde_json::to_string_pretty(&document).map_err(|e| e.to_string())?;
            println!("{pretty}");
            Ok(())
        }
        Command::Clients(ClientsCommand::Create {
            name,
            redirect_uris,
            post_logout_redirect_uris,
            public,
            statuses,
        }) => {
            let statuses = statuses
                .iter()
                .map(|s| s.trim().to_ascii_uppercase().parse())
                .collect::<Result<Vec<memberkey::domain::MemberStatus>, String>>()?;
            let input = services::oidc::sites::SiteInput {
                name,
                redirect_uris,
                post_logout_redirect_uris,
                allowed_member_statuses: (!statuses.is_empty()).then_some(statuses),
            };
            let (site, secret) = services::oidc::sites::create(
                app.services(),
                None,
                &RequestMeta::default(),
                input,
                !public,
            )
            .await
            .map_err(describe)?;
            println!("registered {}", site.name);
            println!("  discovery URL:  {public_url}/.well-known/openid-configuration");
            println!("  client ID:      {}", site.client_id);
            match secret {
                Some(secret) => println!(
                    "  client secret:  {secret}\n  (shown only now: copy it into the site's settings)"
                ),
                None => println!("  public client: no secret; the site must use PKCE (S256)"),
            }
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate) => {
            let rotated = services::oidc::keys::rotate(app.services())
                .await
                .map_err(describe)?;
            println!(
                "published signing key {}; it signs from {} (UTC). {} retired key(s) removed",
                rotated.kid,
                rotated.signs_from.format("%Y-%m-%d %H:%M"),
                rotated.retired
            );
            Ok(())
        }
        Command::Serve { demo } => {
            if demo {
                match memberkey::demo::seed_if_empty(app.services())
                    .await
                    .map_err(describe)?
                {
                    Some(login) => println!(
                        "Demo data loaded.\n  Staff console:  {public_url}/staff/  (sign in with the demo staff user below)\n  Member sign-in: {public_url}/portal/sign-in\n  GraphiQL:       {public_url}/graphql  (sign in with the bar at the top)\n  Staff user:     username {}  password {}\nOther clients send the token that staffLogin returns as  Authorization: Bearer <token>\n  Demo site:      client ID {}; run  MEMBERKEY_ISSUER={public_url} cargo run --example oidc_site -- {}\n                  then open {}/ and sign in with a member login set in the console",
                        login.username,
                        login.password,
                        login.site_client_id,
                        login.site_client_id,
                        memberkey::demo::DEMO_SITE
                    ),
                    None => println!(
                        "The database already has data, so --demo added nothing. Sign in with the staff user created before, create one with `memberkey staff create`, or point MEMBERKEY_DATABASE_URL at a new file for a fresh demo."
                    ),
                }
            }
            // Installed before we announce readiness, so an early SIGTERM is still graceful.
            let shutdown = memberkey::app::shutdown_signal();
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
            let bound = listener.local_addr().map_err(|e| e.to_string())?;
            tracing::info!(listen = %bound, "memberkey is serving GraphQL at /graphql");
            println!("Mail is {}.", app.services().config.mail.destination());
            app.serve(listener, shutdown)
                .await
                .map_err(|e| e.to_string())
        }
    }
}

/// Imports a profile file with a progress bar on a terminal (plain lines otherwise), then
/// lists the refused lines and a summary. Exits non-zero when any line was refused.
async fn import_profiles(
    svc: &services::Services,
    file: &str,
    dry_run: bool,
) -> Result<(), String> {
    use memberkey::services::profile_import::import_csv;
    let input: Box<dyn Read> = if file == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(file).map_err(|e| format!("cannot read {file}: {e}"))?)
    };
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} lines  {per_sec}  ETA {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let started = std::time::Instant::now();
    let mut last_line = std::time::Instant::now();
    let mut progress = |done: usize, total: usize| match &bar {
        Some(bar) => {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
        // Not a terminal (a log, CI): a line every few seconds and one at the end.
        None if done == total || last_line.elapsed().as_secs() >= 5 => {
            eprintln!("{done} of {total} lines done");
            last_line = std::time::Instant::now();
        }
        None => {}
    };
    let report = import_csv(svc, std::io::BufReader::new(input), dry_run, &mut progress)
        .await
        .map_err(|e| e.message())?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    for problem in &report.problems {
        eprintln!("{problem}");
    }
    let (created, updated) = if dry_run {
        ("would create", "would update")
    } else {
        ("created", "updated")
    };
    println!(
        "{} lines in {:.1} s: {created} {}, {updated} {}, {} unchanged, credentials {} for {}; {} line(s) refused{}",
        report.lines,
        started.elapsed().as_secs_f64(),
        report.created,
        report.updated,
        report.unchanged,
        if dry_run { "would be set" } else { "set" },
        report.credentials_set,
        report.problems.len(),
        if dry_run {
            " (dry run: nothing was written)"
        } else {
            ""
        },
    );
    if !report.problems.is_empty() {
        return Err(format!(
            "{} line(s) were not imported; fix them and run the file again (imported lines are updated, not duplicated)",
            report.problems.len()
        ));
    }
    Ok(())
}

/// Imports every line it can and reports the ones it could not, by line number, so a
/// partly bad file can be fixed and run again (a line already imported is simply updated).
async fn import_credentials(svc: &services::Services, file: &str) -> Result<(), String> {
    use memberkey::domain::ProfileId;
    use memberkey::services::import::{ImportedCredential, import};
    let text = if file == "-" {
        let mut input = String::new();
        std::io::stdin()
            .read_to_string(&mut input)
            .map_err(|e| e.to_string())?;
        input
    } else {
        std::fs::read_to_string(file).map_err(|e| format!("cannot read {file}: {e}"))?
    };
    let (mut imported, mut failed) = (0usize, 0usize);
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (n == 0 && line.starts_with("profile_id")) {
            continue;
        }
        let fields: Vec<&str> = line.splitn(3, ',').map(str::trim).collect();
        let outcome = match fields.as_slice() {
            [id, username, hash] => match ProfileId::parse(id) {
                Ok(profile_id) => import(
                    svc,
                    ImportedCredential {
                        profile_id,
                        username: Some(username),
                        password_hash: hash,
                    },
                )
                .await
                .map(|_| ())
                .map_err(describe),
                Err(e) => Err(e.message),
            },
            _ => Err("expected profile_id,username,password_hash".into()),
        };
        match outcome {
            Ok(()) => imported += 1,
            Err(why) => {
                failed += 1;
                eprintln!("line {}: {why}", n + 1);
            }
        }
    }
    println!("imported {imported} account(s); {failed} line(s) refused");
    if failed > 0 {
        return Err(format!("{failed} line(s) were not imported"));
    }
    Ok(())
}
