//! `staff_password_tokens.purpose`: staff links get the purpose column members' links have,
//! so one store reads and writes both kinds of link with the same statements. Every staff
//! link so far was a set-password link, which is the default.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("staff_password_tokens")
                    .add_column(
                        ColumnDef::new("purpose")
                            .text()
                            .not_null()
                            .default("STAFF_PASSWORD"),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("staff_password_tokens")
                    .drop_column("purpose")
                    .to_owned(),
            )
            .await
    }
}
