//! The whole product's data model: profiles, portal credentials, staff users and rights,
//! sessions, credential tokens, audit events, the mail queue and mass communications.
//! Later features extend these tables with new migrations instead of redoing them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Lower-cased search keys are compared byte-wise. PostgreSQL needs the "C" collation for
/// that (range scans for prefixes); SQLite compares bytes already.
fn key_column(manager: &SchemaManager, name: &'static str) -> ColumnDef {
    let mut col = string_null(name);
    if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        col.extra("COLLATE \"C\"");
    }
    col
}

fn index(table: &'static str, name: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(table).if_not_exists();
    for c in cols {
        idx.col(*c);
    }
    idx.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("profiles")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(string_len("kind", 16))
                    .col(string_len_null("first_name", 100))
                    .col(string_len_null("last_name", 100))
                    .col(string_len_null("organization_name", 200))
                    .col(string_len_null("email", 254))
                    .col(string_len("member_status", 16))
                    .col(big_integer_null("parent_id"))
                    .col(boolean("email_opt_out").default(false))
                    .col(key_column(manager, "first_name_key"))
                    .col(key_column(manager, "last_name_key"))
                    .col(key_column(manager, "organization_name_key"))
                    .col(key_column(manager, "email_key"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_profiles_parent")
                            .from("profiles", "parent_id")
                            .to("profiles", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_profiles_parent", "parent_id"),
            ("idx_profiles_first_name_key", "first_name_key"),
            ("idx_profiles_last_name_key", "last_name_key"),
            (
                "idx_profiles_organization_name_key",
                "organization_name_key",
            ),
            ("idx_profiles_email_key", "email_key"),
        ] {
            manager
                .create_index(index("profiles", name, &[col]))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table("portal_credentials")
                    .if_not_exists()
                    .col(big_integer("profile_id").primary_key())
                    .col(string_len_null("username", 64))
                    .col(key_column(manager, "username_key"))
                    .col(text_null("password_hash"))
                    .col(string_len_null("password_set_by", 16))
                    // Staff-assigned passwords sealed with an AEAD key, destroyed when the member
                    // chooses their own. Never a member-chosen password.
                    .col(text_null("sealed_password"))
                    .col(timestamp_with_time_zone_null("password_changed_at"))
                    .col(boolean("must_change_password").default(false))
                    .col(timestamp_with_time_zone_null("last_login_at"))
                    .col(integer("failed_login_count").default(0))
                    .col(timestamp_with_time_zone_null("locked_until"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_portal_credentials_profile")
                            .from("portal_credentials", "profile_id")
                            .to("profiles", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "portal_credentials",
                    "uq_portal_credentials_username_key",
                    &["username_key"],
                )
                .unique()
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("staff_users")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(string_len("username", 64))
                    .col(string_len_uniq("username_key", 64))
                    .col(text("password_hash"))
                    .col(boolean("active").default(true))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("deactivated_at"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("staff_rights")
                    .if_not_exists()
                    .col(big_integer("staff_user_id"))
                    .col(string_len("right", 40))
                    .primary_key(Index::create().col("staff_user_id").col("right"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_staff_rights_user")
                            .from("staff_rights", "staff_user_id")
                            .to("staff_users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        for (table, owner_col, owner_table) in [
            ("staff_sessions", "staff_user_id", "staff_users"),
            ("member_sessions", "profile_id", "profiles"),
        ] {
            manager
                .create_table(
                    Table::create()
                        .table(table)
                        .if_not_exists()
                        .col(big_pk_auto("id"))
                        .col(string_len_uniq("token_hash", 64))
                        .col(big_integer(owner_col))
                        .col(timestamp_with_time_zone("created_at"))
                        .col(timestamp_with_time_zone("expires_at"))
                        .col(timestamp_with_time_zone("last_seen_at"))
                        .foreign_key(
                            ForeignKey::create()
                                .from(table, owner_col)
                                .to(owner_table, "id")
                                .on_delete(ForeignKeyAction::Cascade),
                        )
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(index(
                "staff_sessions",
                "idx_staff_sessions_user",
                &["staff_user_id"],
            ))
            .await?;
        manager
            .create_index(index(
                "member_sessions",
                "idx_member_sessions_profile",
                &["profile_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("credential_tokens")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(string_len_uniq("token_hash", 64))
                    .col(string_len("purpose", 32))
                    .col(big_integer("profile_id"))
                    .col(big_integer_null("issued_by_staff_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("used_at"))
                    .col(timestamp_with_time_zone_null("invalidated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("credential_tokens", "profile_id")
                            .to("profiles", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("credential_tokens", "issued_by_staff_id")
                            .to("staff_users", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "credential_tokens",
                "idx_credential_tokens_profile",
                &["profile_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("audit_events")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(timestamp_with_time_zone("occurred_at"))
                    .col(string_len("action", 48))
                    .col(string_len("actor_kind", 16))
                    .col(big_integer_null("actor_staff_id"))
                    .col(big_integer_null("actor_profile_id"))
                    .col(big_integer_null("profile_id"))
                    .col(big_integer_null("target_staff_id"))
                    .col(string_len_null("client_ip", 64))
                    .col(text_null("detail"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "audit_events",
                "idx_audit_events_profile",
                &["profile_id", "id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("rate_limit_buckets")
                    .if_not_exists()
                    .col(string_len("bucket_key", 200).primary_key())
                    .col(timestamp_with_time_zone("window_started_at"))
                    .col(integer("hits").default(0))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("mass_communications")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(string_len("subject", 300))
                    .col(text("html"))
                    .col(text("recipients"))
                    .col(big_integer("link_validity_seconds"))
                    .col(string_len("status", 16))
                    .col(big_integer_null("created_by_staff_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("queued_at"))
                    .col(timestamp_with_time_zone_null("finished_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("mass_communications", "created_by_staff_id")
                            .to("staff_users", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("outbound_emails")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(string_len("kind", 32))
                    .col(big_integer_null("mass_communication_id"))
                    .col(big_integer_null("profile_id"))
                    .col(string_len_null("to_address", 254))
                    .col(string_len("status", 16))
                    .col(string_len_null("skip_reason", 32))
                    .col(text_null("payload"))
                    .col(big_integer_null("credential_token_id"))
                    .col(integer("attempts").default(0))
                    .col(timestamp_with_time_zone_null("next_attempt_at"))
                    .col(timestamp_with_time_zone_null("lease_until"))
                    .col(string_len_null("leased_by", 64))
                    .col(string_len_null("provider_message_id", 200))
                    .col(text_null("last_error"))
                    .col(boolean("possible_duplicate").default(false))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("sent_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("outbound_emails", "mass_communication_id")
                            .to("mass_communications", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("outbound_emails", "profile_id")
                            .to("profiles", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("outbound_emails", "credential_token_id")
                            .to("credential_tokens", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "outbound_emails",
                "idx_outbound_emails_due",
                &["status", "next_attempt_at"],
            ))
            .await?;
        manager
            .create_index(
                index(
                    "outbound_emails",
                    "uq_outbound_emails_mass_recipient",
                    &["mass_communication_id", "profile_id"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "outbound_emails",
            "mass_communications",
            "rate_limit_buckets",
            "audit_events",
            "credential_tokens",
            "member_sessions",
            "staff_sessions",
            "staff_rights",
            "staff_users",
            "portal_credentials",
            "profiles",
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
