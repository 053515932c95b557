//! A draft may be scheduled: `send_at` is when the server sends it by itself, on behalf of
//! `scheduled_by_staff_id`; `schedule_problem` says why a scheduled start did not happen.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        let columns = [
            ColumnDef::new("send_at")
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new("scheduled_by_staff_id")
                .big_integer()
                .null()
                .to_owned(),
            ColumnDef::new("schedule_problem")
                .string_len(500)
                .null()
                .to_owned(),
        ];
        for column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table("mass_communications")
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        // The scheduler asks every few seconds which drafts are due.
        manager
            .create_index(
                Index::create()
                    .name("idx_mass_communications_send_at")
                    .table("mass_communications")
                    .col("send_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_mass_communications_send_at")
                    .table("mass_communications")
                    .to_owned(),
            )
            .await?;
        for column in ["schedule_problem", "scheduled_by_staff_id", "send_at"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("mass_communications")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
