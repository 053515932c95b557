//! Step-up, one-use sign-in challenges, lockout per client, and views tied to their session.
//!
//! - `staff_sessions.stepped_up_at`: when this session last proved its user again (password
//!   and second factor); the few actions that change how an account is proven need it to be
//!   recent. Null until the first proof: a sign-in alone does not count.
//! - `staff_second_factors.issued_challenges`, `.spent_challenge`: sign-in challenges are
//!   numbered per user; the number of the newest one used is kept, and a challenge whose
//!   number is not higher is dead, so each dies at its first successful use.
//! - `member_sessions.impersonated_from_session`: the staff session that started a read-only
//!   view as the member; the view ends with it.
//! - `sign_in_clients`: the clients (IPv4 address or IPv6 /64) an account last signed in
//!   from. While guessing from many clients has an account over its failure ceiling, these
//!   may still try, so the owner is not shut out. Pruned by housekeeping.
//! - `sns_messages`: the MessageIds of provider reports already applied, so a replayed one
//!   changes nothing. Kept a day (older messages are refused by their Timestamp anyway).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer_null, text, timestamp_with_time_zone, timestamp_with_time_zone_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("staff_sessions")
                    .add_column(timestamp_with_time_zone_null("stepped_up_at"))
                    .to_owned(),
            )
            .await?;
        for column in ["issued_challenges", "spent_challenge"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("staff_second_factors")
                        .add_column(big_integer_null(column))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("member_sessions")
                    .add_column(big_integer_null("impersonated_from_session"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("sign_in_clients")
                    .if_not_exists()
                    .col(text("account"))
                    .col(text("client"))
                    .col(timestamp_with_time_zone("last_success_at"))
                    .primary_key(Index::create().col("account").col("client"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sign_in_clients_last_success")
                    .table("sign_in_clients")
                    .col("last_success_at")
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("sns_messages")
                    .if_not_exists()
                    .col(text("message_id").primary_key())
                    .col(timestamp_with_time_zone("received_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sns_messages_received")
                    .table("sns_messages")
                    .col("received_at")
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["sns_messages", "sign_in_clients"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for (table, column) in [
            ("member_sessions", "impersonated_from_session"),
            ("staff_second_factors", "spent_challenge"),
            ("staff_second_factors", "issued_challenges"),
            ("staff_sessions", "stepped_up_at"),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
