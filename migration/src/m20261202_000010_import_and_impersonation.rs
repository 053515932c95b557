//! Moving in, and viewing the portal as a member.
//!
//! - `profiles.external_id`: profiles moved in from another system keep that system's ID, so
//!   running the same import again updates them instead of adding them twice. Unique where
//!   set; profiles created here have none.
//! - `member_sessions.impersonated_by`: the staff user viewing the portal as this member, for
//!   a read-only session a staff user started; null for the member's own sessions.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer_null, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("profiles")
                    .add_column(text_null("external_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("profiles_external_id")
                    .table("profiles")
                    .col("external_id")
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("member_sessions")
                    .add_column(big_integer_null("impersonated_by"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("member_sessions")
                    .drop_column("impersonated_by")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("profiles_external_id")
                    .table("profiles")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("profiles")
                    .drop_column("external_id")
                    .to_owned(),
            )
            .await
    }
}
