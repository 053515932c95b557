//! Marks the moment a message is handed to the provider. After a crash, only rows handed over
//! without a recorded outcome may have gone out, so only those are flagged as possible
//! duplicates; the rest of a dead worker's batch was never sent.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::timestamp_with_time_zone_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("outbound_emails")
                    .add_column(timestamp_with_time_zone_null("handed_over_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("outbound_emails")
                    .drop_column("handed_over_at")
                    .to_owned(),
            )
            .await
    }
}
