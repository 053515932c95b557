//! Connected sites (`oidc_clients`). Their lists are stored as JSON arrays of strings.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, QueryResult};

use super::super::sql::Sql;
use crate::domain::{ConnectedSite, MemberStatus, RedirectUri, TokenHash};
use crate::store::{StoreError, StoreResult};

/// A site with the digest of its secret (none for a public site).
pub struct SiteRecord {
    pub site: ConnectedSite,
    pub secret_hash: Option<String>,
}

/// What staff give when registering or changing a site.
pub struct SiteFields<'a> {
    pub name: &'a str,
    pub redirect_uris: &'a [RedirectUri],
    pub post_logout_redirect_uris: &'a [RedirectUri],
    pub allowed_member_statuses: Option<&'a [MemberStatus]>,
}

fn unreadable(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::from(DbErr::Custom(format!("oidc_clients.{what}: {e}")))
}

fn uris(raw: &str, what: &str) -> StoreResult<Vec<RedirectUri>> {
    let list: Vec<String> = serde_json::from_str(raw).map_err(|e| unreadable(what, e))?;
    list.iter()
        .map(|u| RedirectUri::parse(u).map_err(|e| unreadable(what, e.message)))
        .collect()
}

fn json_uris(list: &[RedirectUri]) -> String {
    serde_json::Value::from(list.iter().map(|u| u.as_str()).collect::<Vec<_>>()).to_string()
}

fn json_statuses(list: Option<&[MemberStatus]>) -> Option<String> {
    list.map(|l| {
        serde_json::Value::from(l.iter().map(|s| s.as_db()).collect::<Vec<_>>()).to_string()
    })
}

/// The stored `allowed_member_statuses` (a JSON list, or NULL for every status).
pub(super) fn statuses(raw: Option<String>) -> StoreResult<Option<Vec<MemberStatus>>> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let list: Vec<String> =
        serde_json::from_str(&raw).map_err(|e| unreadable("allowed_member_statuses", e))?;
    list.iter()
        .map(|s| {
            s.parse()
                .map_err(|e| unreadable("allowed_member_statuses", e))
        })
        .collect::<StoreResult<Vec<MemberStatus>>>()
        .map(Some)
}

fn from_row(r: &QueryResult) -> StoreResult<SiteRecord> {
    let allowed_member_statuses = statuses(r.try_get("", "allowed_member_statuses")?)?;
    let secret_hash: Option<String> = r.try_get("", "secret_hash")?;
    Ok(SiteRecord {
        site: ConnectedSite {
            client_id: r.try_get("", "client_id")?,
            name: r.try_get("", "name")?,
            confidential: secret_hash.is_some(),
            redirect_uris: uris(&r.try_get::<String>("", "redirect_uris")?, "redirect_uris")?,
            post_logout_redirect_uris: uris(
                &r.try_get::<String>("", "post_logout_redirect_uris")?,
                "post_logout_redirect_uris",
            )?,
            allowed_member_statuses,
            created_at: r.try_get("", "created_at")?,
            updated_at: r.try_get("", "updated_at")?,
        },
        secret_hash,
    })
}

const COLUMNS: &str = "client_id, name, secret_hash, redirect_uris, post_logout_redirect_uris, \
    allowed_member_statuses, created_at, updated_at";

/// Registers a site. `secret` is `None` for a public site.
pub async fn create(
    db: &impl ConnectionTrait,
    client_id: &str,
    fields: &SiteFields<'_>,
    secret: Option<&TokenHash>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(&format!("INSERT INTO oidc_clients ({COLUMNS}) VALUES ("))
        .param(client_id)
        .push(", ")
        .param(fields.name)
        .push(", ")
        .param(secret.map(|s| s.as_str().to_owned()))
        .push(", ")
        .param(json_uris(fields.redirect_uris))
        .push(", ")
        .param(json_uris(fields.post_logout_redirect_uris))
        .push(", ")
        .param(json_statuses(fields.allowed_member_statuses))
        .push(", ")
        .param(now)
        .push(", ")
        .param(now)
        .push(")");
    db.execute_raw(sql.build()).await?;
    Ok(())
}

/// Changes a site's settings; `false` when there is no such site.
pub async fn update(
    db: &impl ConnectionTrait,
    client_id: &str,
    fields: &SiteFields<'_>,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("UPDATE oidc_clients SET name = ")
        .param(fields.name)
        .push(", redirect_uris = ")
        .param(json_uris(fields.redirect_uris))
        .push(", post_logout_redirect_uris = ")
        .param(json_uris(fields.post_logout_redirect_uris))
        .push(", allowed_member_statuses = ")
        .param(json_statuses(fields.allowed_member_statuses))
        .push(", updated_at = ")
        .param(now)
        .push(" WHERE client_id = ")
        .param(client_id);
    Ok(db.execute_raw(sql.build()).await?.rows_affected() == 1)
}

/// Replaces a confidential site's secret; `false` when there is no such confidential site.
pub async fn set_secret(
    db: &impl ConnectionTrait,
    client_id: &str,
    secret: &TokenHash,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("UPDATE oidc_clients SET secret_hash = ")
        .param(secret.as_str())
        .push(", updated_at = ")
        .param(now)
        .push(" WHERE secret_hash IS NOT NULL AND client_id = ")
        .param(client_id);
    Ok(db.execute_raw(sql.build()).await?.rows_affected() == 1)
}

/// Removes a site with everything members hold there; `false` when there is none.
pub async fn delete(db: &impl ConnectionTrait, client_id: &str) -> StoreResult<bool> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("DELETE FROM oidc_clients WHERE client_id = ")
        .param(client_id);
    Ok(db.execute_raw(sql.build()).await?.rows_affected() == 1)
}

pub async fn get(db: &impl ConnectionTrait, client_id: &str) -> StoreResult<Option<SiteRecord>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(&format!(
        "SELECT {COLUMNS} FROM oidc_clients WHERE client_id = "
    ))
    .param(client_id);
    db.query_one_raw(sql.build())
        .await?
        .map(|r| from_row(&r))
        .transpose()
}

/// Every site, by name.
pub async fn list(db: &impl ConnectionTrait) -> StoreResult<Vec<ConnectedSite>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(&format!(
        "SELECT {COLUMNS} FROM oidc_clients ORDER BY name, client_id"
    ));
    db.query_all_raw(sql.build())
        .await?
        .iter()
        .map(|r| from_row(r).map(|s| s.site))
        .collect()
}
