//! The queue-wide delivery pause. The provider refusing the whole account or sender (account
//! suspended, sending paused, sender not verified) stops every send until staff resume it,
//! instead of failing the messages one by one. A row means "paused"; there is at most one.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{integer, text, timestamp_with_time_zone};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("delivery_pause")
                    .if_not_exists()
                    .col(integer("id").primary_key())
                    .col(timestamp_with_time_zone("paused_since"))
                    .col(text("reason"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("delivery_pause").to_owned())
            .await
    }
}
