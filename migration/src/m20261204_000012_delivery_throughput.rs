//! Two changes for mass sends at scale.
//!
//! - `idx_outbound_emails_mass_status` gains `next_attempt_at`: the delivery worker's claim
//!   of single messages (`mass_communication_id IS NULL`, due, oldest first) is then one index
//!   range. With the two-column index it walked every queued mass row, once per claimed
//!   batch, which made a 100,000-recipient send slower the more was still queued.
//! - Tokens now start with their creation time, so their stored key (`token_hash`) is 76
//!   hex digits instead of 64. PostgreSQL enforces the old `varchar(64)`; SQLite does not.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "idx_outbound_emails_mass_status";
const TOKEN_TABLES: [&str; 3] = ["credential_tokens", "staff_sessions", "member_sessions"];

fn mass_status_index(with_due_time: bool) -> IndexCreateStatement {
    let mut index = Index::create();
    index
        .name(INDEX)
        .table("outbound_emails")
        .col("mass_communication_id")
        .col("status");
    if with_due_time {
        index.col("next_attempt_at");
    }
    index.to_owned()
}

async fn token_hash_width(manager: &SchemaManager<'_>, width: u32) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    for table in TOKEN_TABLES {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "ALTER TABLE {table} ALTER COLUMN token_hash TYPE varchar({width})"
            ))
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table("outbound_emails")
                    .to_owned(),
            )
            .await?;
        manager.create_index(mass_status_index(true)).await?;
        token_hash_width(manager, 80).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Narrowing fails while tokens of the new shape are stored; they must expire first.
        token_hash_width(manager, 64).await?;
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table("outbound_emails")
                    .to_owned(),
            )
            .await?;
        manager.create_index(mass_status_index(false)).await
    }
}
