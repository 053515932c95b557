//! The OpenID Connect provider: the association's sites (clients), the keys that sign ID
//! tokens, and what members hold at those sites.
//!
//! - `oidc_clients`: a connected site. The secret is kept as a SHA-256 digest (it is 256
//!   random bits, so a slow hash buys nothing); a public client has none. The lists are JSON
//!   arrays of strings; `allowed_member_statuses` null means every status that may sign in.
//! - `oidc_signing_keys`: RS256 keys. The private key is sealed with the sealing key, bound
//!   to its `kid`; `signs_from` lets a new key be published before it is used.
//! - `oidc_subjects`: the random, stable `sub` of each profile that has signed in to a site.
//! - `oidc_codes`: authorization codes, by digest; single use, bound to client, redirect URI
//!   and PKCE challenge.
//! - `oidc_grants` and `oidc_tokens`: one grant per code exchange, holding its access and
//!   refresh tokens (by digest). Deleting the grant revokes them all.
//! - `portal_credentials.email_verified_key`: the search key of the address a mailed link
//!   was last used from; `email_verified` is true while it is still the profile's address.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn cascade(
    table: &'static str,
    column: &'static str,
    to: (&'static str, &'static str),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn index(table: &'static str, name: &'static str, col: &'static str) -> IndexCreateStatement {
    Index::create()
        .name(name)
        .table(table)
        .col(col)
        .if_not_exists()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("oidc_clients")
                    .if_not_exists()
                    .col(text("client_id").primary_key())
                    .col(text("name"))
                    .col(text_null("secret_hash"))
                    .col(text("redirect_uris"))
                    .col(text("post_logout_redirect_uris"))
                    .col(text_null("allowed_member_statuses"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("oidc_signing_keys")
                    .if_not_exists()
                    .col(text("kid").primary_key())
                    .col(text("sealed_private_key"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("signs_from"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("oidc_subjects")
                    .if_not_exists()
                    .col(big_integer("profile_id").primary_key())
                    .col(text("subject").unique_key())
                    .foreign_key(&mut cascade(
                        "oidc_subjects",
                        "profile_id",
                        ("profiles", "id"),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("oidc_codes")
                    .if_not_exists()
                    .col(text("code_hash").primary_key())
                    .col(text("client_id"))
                    .col(big_integer("profile_id"))
                    .col(text("redirect_uri"))
                    .col(text_null("code_challenge"))
                    .col(text_null("nonce"))
                    .col(text("scope"))
                    .col(timestamp_with_time_zone("auth_time"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("used_at"))
                    .foreign_key(&mut cascade(
                        "oidc_codes",
                        "client_id",
                        ("oidc_clients", "client_id"),
                    ))
                    .foreign_key(&mut cascade("oidc_codes", "profile_id", ("profiles", "id")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("oidc_grants")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(text("client_id"))
                    .col(big_integer("profile_id"))
                    .col(text_null("code_hash"))
                    .col(text("scope"))
                    .col(timestamp_with_time_zone("auth_time"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut cascade(
                        "oidc_grants",
                        "client_id",
                        ("oidc_clients", "client_id"),
                    ))
                    .foreign_key(&mut cascade(
                        "oidc_grants",
                        "profile_id",
                        ("profiles", "id"),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("oidc_grants", "oidc_grants_profile", "profile_id"))
            .await?;
        manager
            .create_index(index("oidc_grants", "oidc_grants_code", "code_hash"))
            .await?;
        manager
            .create_index(index("oidc_codes", "oidc_codes_expires", "expires_at"))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("oidc_tokens")
                    .if_not_exists()
                    .col(text("token_hash").primary_key())
                    .col(big_integer("grant_id"))
                    .col(text("kind"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("used_at"))
                    .foreign_key(&mut cascade(
                        "oidc_tokens",
                        "grant_id",
                        ("oidc_grants", "id"),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("oidc_tokens", "oidc_tokens_grant", "grant_id"))
            .await?;
        manager
            .create_index(index("oidc_tokens", "oidc_tokens_expires", "expires_at"))
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("portal_credentials")
                    .add_column(text_null("email_verified_key"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "oidc_tokens",
            "oidc_grants",
            "oidc_codes",
            "oidc_subjects",
            "oidc_signing_keys",
            "oidc_clients",
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("portal_credentials")
                    .drop_column("email_verified_key")
                    .to_owned(),
            )
            .await
    }
}
