//! One-click unsubscribe (RFC 8058): a mass communication has a purpose (SERVICE, which every
//! member gets, or NEWS, which they may leave), and a profile's opt-out records when and how
//! it was made. Every communication so far counted as SERVICE.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("mass_communications")
                    .add_column(
                        ColumnDef::new("purpose")
                            .string_len(16)
                            .not_null()
                            .default("SERVICE"),
                    )
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table("profiles")
                    .add_column(
                        ColumnDef::new("email_opt_out_at")
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("profiles")
                    .add_column(ColumnDef::new("email_opt_out_via").string_len(16).null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            ("profiles", "email_opt_out_via"),
            ("profiles", "email_opt_out_at"),
            ("mass_communications", "purpose"),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
