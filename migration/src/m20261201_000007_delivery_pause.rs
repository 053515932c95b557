//! The queue-wide delivery pause. The provider refusing the whole account or sender (account
//! suspended, sending paused, sender not verified) stops every send until staff resume it,
//! instead of failing the messages one by one. A row means "paused"; there is at most one.
//!
//! A single communication pauses itself when too many of its deliveries fail: the counters
//! the worker keeps for that, and the reason staff read.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{integer, text, text_null, timestamp_with_time_zone};

const MASS_COLUMNS: [&str; 4] = [
    "pause_reason",
    "outcomes_seen",
    "window_failures",
    "failure_streak",
];

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
            .await?;
        // One column per statement: SQLite alters a table one column at a time.
        for column in MASS_COLUMNS {
            let def = match column {
                "pause_reason" => text_null(column),
                _ => integer(column).default(0).take(),
            };
            manager
                .alter_table(
                    Table::alter()
                        .table("mass_communications")
                        .add_column(def)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in MASS_COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table("mass_communications")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table("delivery_pause").to_owned())
            .await
    }
}
