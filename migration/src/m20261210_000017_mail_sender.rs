//! A mass communication may name its sender (a display name on From and a Reply-To) from the
//! list the settings allow. Both empty is the default sender, which every earlier one used.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for (column, len) in [("sender_name", 200), ("sender_reply_to", 254)] {
            manager
                .alter_table(
                    Table::alter()
                        .table("mass_communications")
                        .add_column(ColumnDef::new(column).string_len(len).null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["sender_reply_to", "sender_name"] {
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
