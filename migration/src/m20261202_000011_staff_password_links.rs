//! Set-password links for staff users.
//!
//! - `staff_users.email`: where a staff user's set-password link goes; null until an
//!   administrator records one.
//! - `staff_password_tokens`: those links, stored as the SHA-256 of the token like members'
//!   links. Kept apart from `credential_tokens`, whose rows always belong to a profile, so a
//!   member's link can never open a staff account or the other way round.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, text, text_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("staff_users")
                    .add_column(text_null("email"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("staff_password_tokens")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(text("token_hash"))
                    .col(big_integer("staff_user_id"))
                    .col(big_integer_null("issued_by_staff_id"))
                    .col(big_integer_null("outbound_email_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("used_at"))
                    .col(timestamp_with_time_zone_null("invalidated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_staff_password_tokens_user")
                            .from("staff_password_tokens", "staff_user_id")
                            .to("staff_users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("staff_password_tokens_hash")
                    .table("staff_password_tokens")
                    .col("token_hash")
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("staff_password_tokens_user")
                    .table("staff_password_tokens")
                    .col("staff_user_id")
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("staff_password_tokens").to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("staff_users")
                    .drop_column("email")
                    .to_owned(),
            )
            .await
    }
}
