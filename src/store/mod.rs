//! Every SeaORM query lives here. Functions take a connection or transaction and return
//! domain records, so services never see an entity.

pub mod audit;
pub mod credentials;
pub mod delivery_pause;
pub mod housekeeping;
pub mod mass;
pub mod outbound;
pub mod profiles;
pub mod rate_limits;
pub mod search;
pub mod second_factor;
pub mod send_rate;
pub mod sessions;
pub mod sql;
pub mod staff;
pub mod staff_tokens;
pub mod suppressions;
pub mod tokens;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::error::AppError;

/// The connection pool. Layers above the store name it only through this alias, so SeaORM
/// stays inside `store`, `entities` and `migration`.
pub type Db = DatabaseConnection;

/// An open transaction; `commit` it, or drop it to roll back.
pub type Txn = DatabaseTransaction;

/// Anything a store function runs on: the pool or a transaction.
pub trait Conn: ConnectionTrait {}

impl<T: ConnectionTrait> Conn for T {}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        AppError::internal(err)
    }
}

/// Parses a stored vocabulary value. A spelling memberkey does not know is logged and is an
/// error: a silent default could widen a saved filter or misstate where a message stands.
pub(crate) fn stored<T>(column: &'static str, raw: &str) -> Result<T, DbErr>
where
    T: std::str::FromStr<Err = String>,
{
    raw.parse().map_err(|e: String| {
        tracing::error!(column, error = %e, "a stored value is not one this version knows");
        DbErr::Type(format!("{column}: {e}"))
    })
}

/// Opens the pool. SQLite gets WAL, foreign keys, a busy timeout and synchronous=NORMAL
/// (durable in WAL mode across process crashes; a power loss may drop the last commits).
/// Every statement bumps `statements`, which tests and diagnostics read.
pub async fn connect(
    url: &str,
    max_connections: u32,
    statements: Arc<AtomicU64>,
) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
        });
    let mut db = Database::connect(opts).await?;
    db.set_metric_callback(move |_| {
        statements.fetch_add(1, Ordering::Relaxed);
    });
    if db.get_database_backend() == DatabaseBackend::Sqlite {
        verify_sqlite_pragmas(&db).await?;
    }
    Ok(db)
}

/// Refuses to run on a SQLite connection that lost WAL or foreign keys.
async fn verify_sqlite_pragmas(db: &DatabaseConnection) -> Result<(), DbErr> {
    for (pragma, expected) in [("journal_mode", "wal"), ("foreign_keys", "1")] {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                DatabaseBackend::Sqlite,
                format!("PRAGMA {pragma}"),
            ))
            .await?;
        let value = match row {
            Some(r) => r
                .try_get_by_index::<String>(0)
                .or_else(|_| r.try_get_by_index::<i64>(0).map(|v| v.to_string()))?,
            None => String::new(),
        };
        // An in-memory database reports "memory"; that is only ever used by throwaway tools.
        if value != expected && !(pragma == "journal_mode" && value == "memory") {
            return Err(DbErr::Custom(format!(
                "SQLite PRAGMA {pragma} is {value:?}, expected {expected:?}"
            )));
        }
    }
    Ok(())
}

/// Starts a transaction that will write. On SQLite it begins as a writer (`BEGIN IMMEDIATE`),
/// so two writers queue on the busy timeout instead of failing with `SQLITE_BUSY` mid-way.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let options = TransactionOptions {
        sqlite_transaction_mode: (db.get_database_backend() == DatabaseBackend::Sqlite)
            .then_some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    db.begin_with_options(options).await
}

/// How many migrations are applied and which are pending, without changing anything.
pub async fn migration_state(db: &DatabaseConnection) -> Result<(usize, Vec<String>), DbErr> {
    use migration::MigratorTrait;
    let applied = migration::Migrator::get_applied_migrations_read_only(db).await?;
    let pending = migration::Migrator::get_pending_migrations_read_only(db).await?;
    Ok((
        applied.len(),
        pending.iter().map(|m| m.name().to_owned()).collect(),
    ))
}

/// Applies pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    use migration::MigratorTrait;
    migration::Migrator::up(db, None).await
}
