//! Less database work per delivered message (issue 35; measured with `bench_mass
//! --postgres-only`, BENCHMARKS.md). Every change of a queue row's `status` writes a new
//! entry into each of the table's indexes, so indexes hold only the rows their readers look
//! for:
//!
//! - `provider_message_id` only where there is one: a queued or sending row has none, and
//!   provider reports always look one up by its value.
//! - PostgreSQL: `fillfactor` 80 leaves room on each page, so the hand-over mark (which
//!   changes no indexed column) stays a heap-only (HOT) update with no index entries.
//! - PostgreSQL: `idx_outbound_emails_due` holds only QUEUED and SENDING rows, the ones the
//!   delivery worker claims, renews and looks for; a row that ends leaves it instead of
//!   adding an entry. The worker's statements write those statuses into their text
//!   (`Sql::code`), so the index serves them under a generic plan too. SQLite would use a
//!   partial index only for the exact predicate, so it keeps the full one.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const PROVIDER: &str = "outbound_emails_provider_message_id";
const DUE: &str = "idx_outbound_emails_due";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(&format!("DROP INDEX {PROVIDER}"))
            .await?;
        db.execute_unprepared(&format!(
            "CREATE INDEX {PROVIDER} ON outbound_emails (provider_message_id) \
             WHERE provider_message_id IS NOT NULL"
        ))
        .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared("ALTER TABLE outbound_emails SET (fillfactor = 80)")
                .await?;
            db.execute_unprepared(&format!("DROP INDEX {DUE}")).await?;
            db.execute_unprepared(&format!(
                "CREATE INDEX {DUE} ON outbound_emails (status, next_attempt_at) \
                 WHERE status IN ('QUEUED', 'SENDING')"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared("ALTER TABLE outbound_emails RESET (fillfactor)")
                .await?;
            db.execute_unprepared(&format!("DROP INDEX {DUE}")).await?;
            db.execute_unprepared(&format!(
                "CREATE INDEX {DUE} ON outbound_emails (status, next_attempt_at)"
            ))
            .await?;
        }
        db.execute_unprepared(&format!("DROP INDEX {PROVIDER}"))
            .await?;
        db.execute_unprepared(&format!(
            "CREATE INDEX {PROVIDER} ON outbound_emails (provider_message_id)"
        ))
        .await?;
        Ok(())
    }
}
