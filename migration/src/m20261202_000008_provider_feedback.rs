//! What the mail provider reports back, and the send rate all processes share.
//!
//! - `email_suppressions`: addresses that bounced for good or complained. Mass mail skips
//!   them and account mail to a hard-bounced address is refused, so an association does not
//!   keep mailing dead addresses until the provider suspends it. One row per address.
//! - An index on `outbound_emails.provider_message_id`: bounce, complaint and delivery events
//!   name the provider's message ID.
//! - `send_rate`: one row holding the next free send slot, so `MEMBERKEY_MAX_SEND_RATE` is
//!   the total for the database however many processes send.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, integer, text, text_null, timestamp_with_time_zone,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("email_suppressions")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    // The address's search key (trimmed, lower case), so any spelling matches.
                    .col(text("address_key").unique_key())
                    .col(text("address"))
                    .col(text("reason"))
                    .col(text_null("detail"))
                    // The provider's notification ID, for tracing a suppression to its event.
                    .col(text_null("event_id"))
                    .col(big_integer_null("outbound_email_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("outbound_emails_provider_message_id")
                    .table("outbound_emails")
                    .col("provider_message_id")
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("send_rate")
                    .if_not_exists()
                    .col(integer("id").primary_key())
                    // Microseconds since the Unix epoch of the next free slot.
                    .col(big_integer("next_slot_us"))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table("send_rate")
                    .columns(["id", "next_slot_us"])
                    .values_panic([1.into(), 0i64.into()])
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("send_rate").to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("outbound_emails_provider_message_id")
                    .table("outbound_emails")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table("email_suppressions").to_owned())
            .await
    }
}
