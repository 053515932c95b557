//! Indexes for housekeeping's deletes of expired sessions and tokens. (Whether a mass
//! communication still has deliveries in flight is answered by
//! `idx_outbound_emails_mass_status`, from an earlier migration.)

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: [(&str, &str, &[&str]); 3] = [
    (
        "staff_sessions",
        "idx_staff_sessions_expires",
        &["expires_at"],
    ),
    (
        "member_sessions",
        "idx_member_sessions_expires",
        &["expires_at"],
    ),
    (
        "credential_tokens",
        "idx_credential_tokens_expires",
        &["expires_at"],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, name, cols) in INDEXES {
            let mut idx = Index::create();
            idx.name(name).table(table).if_not_exists();
            for c in cols {
                idx.col(*c);
            }
            manager.create_index(idx.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, name, _) in INDEXES {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
