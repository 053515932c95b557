//! Links each set-password token to the message that carried it. A token and its message are
//! written in one transaction; the link lets the worker and the progress view tell which
//! token a message holds and whether it was used.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::big_integer_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("credential_tokens")
                    .add_column(big_integer_null("outbound_email_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_credential_tokens_outbound")
                    .table("credential_tokens")
                    .col("outbound_email_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_outbound_emails_mass_status")
                    .table("outbound_emails")
                    .col("mass_communication_id")
                    .col("status")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_outbound_emails_mass_status")
                    .table("outbound_emails")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_credential_tokens_outbound")
                    .table("credential_tokens")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("credential_tokens")
                    .drop_column("outbound_email_id")
                    .to_owned(),
            )
            .await
    }
}
