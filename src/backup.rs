//! `memberkey backup FILE`: a consistent copy of a SQLite database, made while `serve` runs,
//! and what must be kept with it. PostgreSQL has its own tool for that, so for it the command
//! only says which one to run.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crate::config::Config;
use crate::store;

/// A finished copy.
#[derive(Debug)]
pub struct Copied {
    pub file: PathBuf,
    pub bytes: u64,
    /// Where the sealing key the copy needs is kept.
    pub key: String,
}

/// Why no copy was made.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// PostgreSQL: the command to use instead, with the password left out of the address.
    #[error(
        "memberkey backup copies SQLite databases; for PostgreSQL use its own tool, e.g.\n  pg_dump --format=custom --file={file} '{url}'\n(the password from PGPASSWORD or ~/.pgpass), and keep the sealing key ({key}) with the dump"
    )]
    Postgres {
        file: String,
        url: String,
        key: String,
    },
    #[error("{0} already exists: choose a new file, so that no earlier backup is overwritten")]
    Exists(String),
    #[error("the database has no memberkey tables: check MEMBERKEY_DATABASE_URL")]
    Empty,
    #[error("could not copy the database: {0}")]
    Store(#[from] store::StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Copies the configured database to `target` without migrating it (a backup is often made
/// just before an upgrade) or stopping anything.
pub async fn run(config: &Config, target: &Path) -> Result<Copied, BackupError> {
    let key = match &config.sealing_key {
        Some(_) => "MEMBERKEY_SEALING_KEY".to_owned(),
        None => std::path::absolute(&config.sealing_key_file)?
            .display()
            .to_string(),
    };
    if config.database_url.starts_with("postgres") {
        return Err(BackupError::Postgres {
            file: target.display().to_string(),
            url: without_password(&config.database_url),
            key,
        });
    }
    if target.exists() {
        return Err(BackupError::Exists(target.display().to_string()));
    }
    let db = store::connect(&config.database_url, 1, Arc::new(AtomicU64::new(0))).await?;
    // A file without memberkey's migration table (a mistyped address) is not a backup.
    let applied = store::migration_state(&db).await.map_or(0, |(n, _)| n);
    if applied == 0 {
        db.close().await?;
        return Err(BackupError::Empty);
    }
    let file = std::path::absolute(target)?;
    db.copy_sqlite(&file.display().to_string()).await?;
    db.close().await?;
    let bytes = std::fs::metadata(&file)?.len();
    Ok(Copied { file, bytes, key })
}

/// The database address as it may be printed: without its password.
fn without_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::without_password;

    #[test]
    fn a_printed_address_keeps_no_password() {
        assert_eq!(
            without_password("postgres://app:s3cret@db.example:5432/memberkey"),
            "postgres://app@db.example:5432/memberkey"
        );
        assert_eq!(
            without_password("postgres://db.example/memberkey"),
            "postgres://db.example/memberkey"
        );
    }
}
