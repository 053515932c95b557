//! Every SeaORM query lives here. Functions take a connection or transaction and return
//! domain records, so services never see an entity.

pub mod audit;
pub mod credentials;
pub mod delivery_pause;
pub mod erasure;
pub mod housekeeping;
pub mod links;
pub mod mass;
pub mod oidc;
pub mod outbound;
pub mod profiles;
pub mod rate_limits;
pub mod search;
pub mod second_factor;
pub mod send_rate;
pub mod sessions;
pub mod sign_in_clients;
pub mod sns_messages;
pub mod sql;
pub mod staff;
pub mod suppressions;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbErr, ExecResult, QueryResult, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait,
};

/// The database: a connection pool and, on a SQLite file, the one connection every write
/// goes through. Layers above the store name it only through this type, so SeaORM stays
/// inside `store`, `entities` and `migration`.
///
/// Why one writer on SQLite: SQLite lets one connection write at a time. Writers spread over
/// the pool wait for each other in SQLite's busy handler, which sleeps 1, 2, 5, 10 ms and
/// more between tries, and each starts with a cold page cache, since a connection drops its
/// cache whenever another one has committed. Through one connection, writers queue in order
/// inside the process and find the pages they touched last still in memory.
#[derive(Clone)]
pub struct Db {
    pool: DatabaseConnection,
    /// SQLite file only: write transactions and statements that are not a `SELECT`.
    writer: Option<DatabaseConnection>,
}

impl Db {
    /// Where a statement runs: a `SELECT` on the pool, anything else on the writer.
    fn route(&self, sql: &str) -> &DatabaseConnection {
        match &self.writer {
            Some(writer) if !is_select(sql) => writer,
            _ => &self.pool,
        }
    }

    /// The connection write transactions run on.
    fn for_writing(&self) -> &DatabaseConnection {
        self.writer.as_ref().unwrap_or(&self.pool)
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> StoreResult<()> {
        Ok(self.pool.ping().await?)
    }

    /// Whether this is a SQLite database (a file to copy) rather than PostgreSQL.
    pub fn is_sqlite(&self) -> bool {
        self.pool.get_database_backend() == DatabaseBackend::Sqlite
    }

    /// Copies a SQLite database to the new file `target` as one consistent snapshot
    /// (`VACUUM INTO`), while other connections, a running `serve` among them, keep reading
    /// and writing. Fails if `target` exists and is not empty.
    pub async fn copy_sqlite(&self, target: &str) -> StoreResult<()> {
        let statement = sea_orm::Statement::from_sql_and_values(
            DatabaseBackend::Sqlite,
            "VACUUM INTO ?",
            [target.into()],
        );
        self.pool.execute_raw(statement).await?;
        Ok(())
    }

    /// Closes every connection.
    pub async fn close(self) -> StoreResult<()> {
        if let Some(writer) = self.writer {
            writer.close().await?;
        }
        Ok(self.pool.close().await?)
    }
}

/// Whether a statement only reads. Anything else (a `WITH … UPDATE`, a `PRAGMA`, DDL) counts
/// as a write, which is always safe: the writer can read too.
fn is_select(sql: &str) -> bool {
    sql.trim_start()
        .get(..6)
        .is_some_and(|head| head.eq_ignore_ascii_case("select"))
}

#[async_trait::async_trait]
impl ConnectionTrait for Db {
    fn get_database_backend(&self) -> DatabaseBackend {
        self.pool.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.route(&stmt.sql).execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.route(sql).execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.route(&stmt.sql).query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.route(&stmt.sql).query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.pool.support_returning()
    }
}

/// An open transaction; `commit` it, or drop it to roll back.
pub type Txn = DatabaseTransaction;

/// Anything a store function runs on: the pool or a transaction.
pub trait Conn: ConnectionTrait {}

impl<T: ConnectionTrait> Conn for T {}

/// A failure of the database, or a stored value this version cannot read. Its text is for the
/// logs; the services turn it into an internal error that tells the client nothing more.
#[derive(Debug, thiserror::Error)]
#[error("database: {0}")]
pub struct StoreError(#[from] DbErr);

/// What every store function returns.
pub type StoreResult<T> = Result<T, StoreError>;

/// Commits a transaction a use case opened with `begin_write`.
pub async fn commit(txn: Txn) -> StoreResult<()> {
    Ok(txn.commit().await?)
}

/// Rolls a transaction back on purpose (a dry run); dropping it does the same silently.
pub async fn rollback(txn: Txn) -> StoreResult<()> {
    Ok(txn.rollback().await?)
}

/// Parses a stored vocabulary value. A spelling memberkey does not know is logged and is an
/// error: a silent default could widen a saved filter or misstate where a message stands.
pub(crate) fn stored<T>(column: &'static str, raw: &str) -> StoreResult<T>
where
    T: std::str::FromStr<Err = String>,
{
    raw.parse().map_err(|e: String| {
        tracing::error!(column, error = %e, "a stored value is not one this version knows");
        StoreError(DbErr::Type(format!("{column}: {e}")))
    })
}

/// Opens the database. SQLite gets WAL, foreign keys, a busy timeout and synchronous=NORMAL
/// (durable in WAL mode across process crashes; a power loss may drop the last commits), and
/// a file gets its own writer connection (see `Db`) with a larger page cache. Every statement
/// bumps `statements`, which tests and diagnostics read.
pub async fn connect(
    url: &str,
    max_connections: u32,
    statements: Arc<AtomicU64>,
) -> StoreResult<Db> {
    let pool = open(url, max_connections, None, statements.clone()).await?;
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let writer = if pool.get_database_backend() == DatabaseBackend::Sqlite && !in_memory {
        Some(open(url, 1, Some(WRITER_CACHE_KIB), statements).await?)
    } else {
        None
    };
    Ok(Db { pool, writer })
}

/// The SQLite writer's page cache: the queue's rows and indexes a mass send keeps touching.
/// Pages are allocated only as they are used.
const WRITER_CACHE_KIB: u32 = 16 * 1024;

/// One pool of up to `max_connections`, with SQLite's settings when it is SQLite.
async fn open(
    url: &str,
    max_connections: u32,
    cache_kib: Option<u32>,
    statements: Arc<AtomicU64>,
) -> StoreResult<DatabaseConnection> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(max_connections)
        // No minimum, no idle timeout and no maximum lifetime, so sqlx 0.9.0 starts no
        // background task: its reaper loops over an idle-connection counter that can wrap
        // below zero and then never yields (a hung test with one core at 100 %), and a
        // minimum opens a second connection beside the one `connect` opens, racing it on
        // SQLite's WAL switch ("database is locked"). The connection `connect` opens stays
        // idle in the pool; one that fails is replaced on use.
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(10))
        .idle_timeout(None::<Duration>)
        .max_lifetime(None::<Duration>)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |o| {
            let o = o
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            match cache_kib {
                // A negative cache size is in KiB rather than pages.
                Some(kib) => o.pragma("cache_size", format!("-{kib}")),
                None => o,
            }
        });
    if url.starts_with("sqlite:") {
        // A ping before every use is a round trip to the connection's thread; a local file
        // does not go away the way a server connection can.
        opts.test_before_acquire(false);
    } else {
        opts.test_before_acquire_if_idle_for(Duration::from_secs(5));
    }
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
async fn verify_sqlite_pragmas(db: &DatabaseConnection) -> StoreResult<()> {
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
            return Err(StoreError(DbErr::Custom(format!(
                "SQLite PRAGMA {pragma} is {value:?}, expected {expected:?}"
            ))));
        }
    }
    Ok(())
}

/// Starts a transaction that will write. On SQLite it begins as a writer (`BEGIN IMMEDIATE`),
/// so two writers queue on the busy timeout instead of failing with `SQLITE_BUSY` mid-way.
pub async fn begin_write(db: &Db) -> StoreResult<DatabaseTransaction> {
    let db = db.for_writing();
    let options = TransactionOptions {
        sqlite_transaction_mode: (db.get_database_backend() == DatabaseBackend::Sqlite)
            .then_some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    Ok(db.begin_with_options(options).await?)
}

/// How many migrations are applied and which are pending, without changing anything.
pub async fn migration_state(db: &Db) -> StoreResult<(usize, Vec<String>)> {
    use migration::MigratorTrait;
    let applied = migration::Migrator::get_applied_migrations_read_only(&db.pool).await?;
    let pending = migration::Migrator::get_pending_migrations_read_only(&db.pool).await?;
    Ok((
        applied.len(),
        pending.iter().map(|m| m.name().to_owned()).collect(),
    ))
}

/// Applies pending migrations.
pub async fn migrate(db: &Db) -> StoreResult<()> {
    use migration::MigratorTrait;
    Ok(migration::Migrator::up(db.for_writing(), None).await?)
}
