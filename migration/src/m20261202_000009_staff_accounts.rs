//! Staff accounts: a second factor (an authenticator app's TOTP secret and single-use
//! recovery codes), and where each staff session was opened from.
//!
//! - `staff_second_factors`: one row per staff user who started enrolment. `pending_secret`
//!   holds the secret shown at enrolment until a code confirms it; `secret` is the confirmed
//!   one. Both are sealed with the sealing key. `last_step` is the newest 30-second step a
//!   code was accepted for, so a code cannot be used twice.
//! - `staff_recovery_codes`: the SHA-256 of each recovery code, and when it was used.
//! - `staff_sessions.client_ip` and `.user_agent`: shown in the staff user's session list, so
//!   they can tell their sessions apart and end one they do not recognise.
//! - `credential_tokens.short_code_hash`, `.short_code_expires_at` and
//!   `.short_code_attempts`: the short code staff read out over the phone with a link, stored
//!   hashed, with its own (shorter) lifetime and a count of wrong tries.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, integer, text, text_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("staff_second_factors")
                    .if_not_exists()
                    .col(big_integer("staff_user_id").primary_key())
                    .col(text_null("pending_secret"))
                    .col(text_null("secret"))
                    .col(big_integer_null("last_step"))
                    .col(timestamp_with_time_zone_null("enabled_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_staff_second_factors_user")
                            .from("staff_second_factors", "staff_user_id")
                            .to("staff_users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("staff_recovery_codes")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(big_integer("staff_user_id"))
                    .col(text("code_hash"))
                    .col(timestamp_with_time_zone_null("used_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_staff_recovery_codes_user")
                            .from("staff_recovery_codes", "staff_user_id")
                            .to("staff_users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("staff_recovery_codes_user_hash")
                    .table("staff_recovery_codes")
                    .col("staff_user_id")
                    .col("code_hash")
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        for column in ["client_ip", "user_agent"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("staff_sessions")
                        .add_column(text_null(column))
                        .to_owned(),
                )
                .await?;
        }
        for column in [
            text_null("short_code_hash"),
            timestamp_with_time_zone_null("short_code_expires_at"),
            integer("short_code_attempts").default(0).to_owned(),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table("credential_tokens")
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            "short_code_attempts",
            "short_code_expires_at",
            "short_code_hash",
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("credential_tokens")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in ["user_agent", "client_ip"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("staff_sessions")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table("staff_recovery_codes").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("staff_second_factors").to_owned())
            .await
    }
}
