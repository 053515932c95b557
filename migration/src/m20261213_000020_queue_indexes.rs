//! Fewer index entries per mass message on PostgreSQL (issue 35; measured with `bench_mass
//! --postgres-only`, BENCHMARKS.md).
//!
//! `idx_outbound_emails_mass_status` (communication, status, due time) took a new entry at
//! every status change of every row: at queueing, at the claim and at the outcome. Its readers
//! are served as well without it:
//!
//! - the claim of single messages (`mass_communication_id IS NULL`, due, oldest first) gets
//!   an index over single messages only, which mass rows never enter;
//! - "does this communication still have rows queued or being sent" reads the live-rows-only
//!   `idx_outbound_emails_due` (its statements write the statuses into their text);
//! - a communication's counts read its rows through the (communication, profile) index.
//!
//! SQLite keeps the index: its writes are per page, not per record, and its planner would use
//! a partial index only for the exact predicate.
//!
//! The claim changes no indexed column on PostgreSQL, so it is a heap-only (HOT) update: no
//! index names `status` any more. Instead only QUEUED and SENDING rows have a due time
//! (`next_attempt_at`), a row that ends loses it, and `idx_outbound_emails_due` holds the rows
//! that have one. A claimed row keeps its due time while it is held; the queries for held
//! rows name it, and walk the live rows (the workers look for abandoned ones once in a while,
//! not at every round).
//!
//! PostgreSQL also drops two foreign keys to `profiles`, from `outbound_emails` and from
//! `credential_tokens`. Each checked insert locks the profile row it names, one WAL record per
//! message at queueing and one per link. A profile is deleted only by erasure, which now clears
//! both itself (`store::erasure::erase_deliveries_of`, `store::links::delete_for`), on both
//! databases; SQLite keeps the keys, since its locks write nothing.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const MASS_STATUS: &str = "idx_outbound_emails_mass_status";
const SINGLE_DUE: &str = "idx_outbound_emails_single_due";
const DUE: &str = "idx_outbound_emails_due";
const TOKEN_EXPIRY: &str = "idx_credential_tokens_expires";
/// The foreign keys to `profiles` PostgreSQL named when the tables were created, with their
/// rule on delete for `down`.
const PROFILE_KEYS: [(&str, &str, &str); 2] = [
    (
        "outbound_emails",
        "outbound_emails_profile_id_fkey",
        "SET NULL",
    ),
    (
        "credential_tokens",
        "credential_tokens_profile_id_fkey",
        "CASCADE",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // Both databases keep the rule that only live rows have a due time.
        db.execute_unprepared(
            "UPDATE outbound_emails SET next_attempt_at = NULL \
             WHERE status NOT IN ('QUEUED', 'SENDING')",
        )
        .await?;
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        db.execute_unprepared("ALTER TABLE outbound_emails SET (fillfactor = 40)")
            .await?;
        db.execute_unprepared(&format!("DROP INDEX {DUE}")).await?;
        db.execute_unprepared(&format!(
            "CREATE INDEX {DUE} ON outbound_emails (next_attempt_at) \
             WHERE next_attempt_at IS NOT NULL"
        ))
        .await?;
        db.execute_unprepared(&format!(
            "CREATE INDEX {SINGLE_DUE} ON outbound_emails (next_attempt_at) \
             WHERE mass_communication_id IS NULL AND next_attempt_at IS NOT NULL"
        ))
        .await?;
        db.execute_unprepared(&format!("DROP INDEX {MASS_STATUS}"))
            .await?;
        // Housekeeping deletes expired links by this index; a mass communication's links stay
        // with its deliveries and are never looked up by expiry.
        db.execute_unprepared(&format!("DROP INDEX {TOKEN_EXPIRY}"))
            .await?;
        db.execute_unprepared(&format!(
            "CREATE INDEX {TOKEN_EXPIRY} ON credential_tokens (expires_at) \
             WHERE purpose <> 'MASS'"
        ))
        .await?;
        for (table, key, _) in PROFILE_KEYS {
            db.execute_unprepared(&format!("ALTER TABLE {table} DROP CONSTRAINT {key}"))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for (table, key, on_delete) in PROFILE_KEYS {
            db.execute_unprepared(&format!(
                "ALTER TABLE {table} ADD CONSTRAINT {key} FOREIGN KEY (profile_id) \
                 REFERENCES profiles (id) ON DELETE {on_delete}"
            ))
            .await?;
        }
        db.execute_unprepared(&format!(
            "CREATE INDEX {MASS_STATUS} ON outbound_emails \
             (mass_communication_id, status, next_attempt_at)"
        ))
        .await?;
        db.execute_unprepared(&format!("DROP INDEX {SINGLE_DUE}"))
            .await?;
        db.execute_unprepared(&format!("DROP INDEX {TOKEN_EXPIRY}"))
            .await?;
        db.execute_unprepared(&format!(
            "CREATE INDEX {TOKEN_EXPIRY} ON credential_tokens (expires_at)"
        ))
        .await?;
        db.execute_unprepared("ALTER TABLE outbound_emails SET (fillfactor = 80)")
            .await?;
        db.execute_unprepared(&format!("DROP INDEX {DUE}")).await?;
        db.execute_unprepared(&format!(
            "CREATE INDEX {DUE} ON outbound_emails (status, next_attempt_at) \
             WHERE status IN ('QUEUED', 'SENDING')"
        ))
        .await?;
        Ok(())
    }
}
