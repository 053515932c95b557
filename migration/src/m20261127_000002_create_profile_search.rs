//! Quick-search index. SQLite: an FTS5 trigram table kept in step by triggers, so a name,
//! email or username change is searchable in the same transaction. PostgreSQL: pg_trgm GIN
//! indexes over the same lower-cased keys, so `LIKE '%term%'` is answered from the index.
//! Fields are joined with U+001F, a character input validation never lets through, so a
//! match never spans two fields. "First Last" is indexed as one more field, so a full name
//! is found too.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_DOCUMENT: &str = "coalesce(p.first_name_key,'') || char(31) || coalesce(p.last_name_key,'') \
    || char(31) || coalesce(p.organization_name_key,'') || char(31) || coalesce(p.email_key,'') \
    || char(31) || coalesce((SELECT c.username_key FROM portal_credentials c WHERE c.profile_id = p.id),'') \
    || char(31) || coalesce(p.first_name_key,'') || ' ' || coalesce(p.last_name_key,'')";

fn sqlite_up() -> Vec<String> {
    let reindex = |id: &str| {
        format!(
            "DELETE FROM profile_search WHERE rowid = {id}; \
             INSERT INTO profile_search(rowid, document) SELECT p.id, {SQLITE_DOCUMENT} FROM profiles p WHERE p.id = {id};"
        )
    };
    vec![
        "CREATE VIRTUAL TABLE IF NOT EXISTS profile_search USING fts5(document, tokenize = 'trigram')".into(),
        format!("CREATE TRIGGER IF NOT EXISTS profiles_search_ai AFTER INSERT ON profiles BEGIN {} END", reindex("new.id")),
        format!(
            "CREATE TRIGGER IF NOT EXISTS profiles_search_au AFTER UPDATE OF first_name_key, last_name_key, \
             organization_name_key, email_key ON profiles BEGIN {} END",
            reindex("new.id")
        ),
        "CREATE TRIGGER IF NOT EXISTS profiles_search_ad AFTER DELETE ON profiles BEGIN \
         DELETE FROM profile_search WHERE rowid = old.id; END"
            .into(),
        format!(
            "CREATE TRIGGER IF NOT EXISTS credentials_search_ai AFTER INSERT ON portal_credentials BEGIN {} END",
            reindex("new.profile_id")
        ),
        format!(
            "CREATE TRIGGER IF NOT EXISTS credentials_search_au AFTER UPDATE OF username_key ON portal_credentials BEGIN {} END",
            reindex("new.profile_id")
        ),
        format!(
            "CREATE TRIGGER IF NOT EXISTS credentials_search_ad AFTER DELETE ON portal_credentials BEGIN {} END",
            reindex("old.profile_id")
        ),
    ]
}

const POSTGRES_UP: &[&str] = &[
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "ALTER TABLE profiles ADD COLUMN IF NOT EXISTS search_document text GENERATED ALWAYS AS (\
       coalesce(first_name_key,'') || chr(31) || coalesce(last_name_key,'') || chr(31) || \
       coalesce(organization_name_key,'') || chr(31) || coalesce(email_key,'') || chr(31) || \
       coalesce(first_name_key,'') || ' ' || coalesce(last_name_key,'')) STORED",
    "CREATE INDEX IF NOT EXISTS idx_profiles_search_trgm ON profiles USING gin (search_document gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS idx_portal_credentials_username_trgm ON portal_credentials USING gin (username_key gin_trgm_ops)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => {
                for sql in sqlite_up() {
                    db.execute_unprepared(&sql).await?;
                }
            }
            DatabaseBackend::Postgres => {
                for sql in POSTGRES_UP {
                    db.execute_unprepared(sql).await?;
                }
            }
            other => {
                return Err(DbErr::Migration(format!(
                    "unsupported database backend {other:?}"
                )));
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let statements: &[&str] = match manager.get_database_backend() {
            DatabaseBackend::Sqlite => &[
                "DROP TRIGGER IF EXISTS profiles_search_ai",
                "DROP TRIGGER IF EXISTS profiles_search_au",
                "DROP TRIGGER IF EXISTS profiles_search_ad",
                "DROP TRIGGER IF EXISTS credentials_search_ai",
                "DROP TRIGGER IF EXISTS credentials_search_au",
                "DROP TRIGGER IF EXISTS credentials_search_ad",
                "DROP TABLE IF EXISTS profile_search",
            ],
            _ => &[
                "DROP INDEX IF EXISTS idx_portal_credentials_username_trgm",
                "DROP INDEX IF EXISTS idx_profiles_search_trgm",
                "ALTER TABLE profiles DROP COLUMN IF EXISTS search_document",
            ],
        };
        for sql in statements {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
