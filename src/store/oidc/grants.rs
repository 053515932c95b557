//! What members hold at connected sites: their stable subject, authorization codes, and
//! grants with their access and refresh tokens. Codes and tokens are kept only as digests.
//! Deleting a grant revokes every token issued under it (the foreign key cascades).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use super::super::sql::Sql;
use super::members::{self, MemberFacts};
use crate::domain::{MemberStatus, ProfileId, TokenHash};
use crate::store::StoreResult;

/// The subject (`sub`) of `profile`, made from `fresh` the first time it is asked for.
pub async fn subject(
    db: &impl ConnectionTrait,
    profile: ProfileId,
    fresh: &str,
) -> StoreResult<String> {
    // Read first: the subject exists after a member's first site sign-in, and a read does
    // not wait for SQLite's one writer.
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT subject FROM oidc_subjects WHERE profile_id = ")
        .param(profile.get());
    if let Some(row) = db.query_one_raw(sql.build()).await? {
        return Ok(row.try_get("", "subject")?);
    }
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("INSERT INTO oidc_subjects (profile_id, subject) VALUES (")
        .param(profile.get())
        .push(", ")
        .param(fresh)
        .push(") ON CONFLICT (profile_id) DO NOTHING");
    db.execute_raw(sql.build()).await?;
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT subject FROM oidc_subjects WHERE profile_id = ")
        .param(profile.get());
    let row = db
        .query_one_raw(sql.build())
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound("oidc_subjects".into()))?;
    Ok(row.try_get("", "subject")?)
}

/// An authorization code as issued.
#[derive(Clone)]
pub struct CodeRecord {
    pub client_id: String,
    pub profile_id: ProfileId,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub scope: String,
    pub auth_time: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

pub async fn insert_code(
    db: &impl ConnectionTrait,
    hash: &TokenHash,
    code: &CodeRecord,
) -> StoreResult<()> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "INSERT INTO oidc_codes (code_hash, client_id, profile_id, redirect_uri, code_challenge, \
         nonce, scope, auth_time, expires_at) VALUES (",
    )
    .param(hash.as_str())
    .push(", ")
    .param(code.client_id.as_str())
    .push(", ")
    .param(code.profile_id.get())
    .push(", ")
    .param(code.redirect_uri.as_str())
    .push(", ")
    .param(code.code_challenge.clone())
    .push(", ")
    .param(code.nonce.clone())
    .push(", ")
    .param(code.scope.as_str())
    .push(", ")
    .param(code.auth_time)
    .push(", ")
    .param(code.expires_at)
    .push(")");
    db.execute_raw(sql.build()).await?;
    Ok(())
}

/// The code with this digest and, in the same read, the member it was issued for (`None`
/// when the profile is gone).
pub async fn find_code(
    db: &impl ConnectionTrait,
    hash: &TokenHash,
) -> StoreResult<Option<(CodeRecord, Option<MemberFacts>)>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(&format!(
        "SELECT {}, o.client_id, o.profile_id AS code_profile_id, o.redirect_uri, \
         o.code_challenge, o.nonce, o.scope, o.auth_time, o.expires_at, o.used_at \
         FROM oidc_codes o",
        members::COLUMNS
    ));
    members::joins(&mut sql, "o.profile_id");
    sql.push(" WHERE o.code_hash = ").param(hash.as_str());
    let Some(r) = db.query_one_raw(sql.build()).await? else {
        return Ok(None);
    };
    let code = CodeRecord {
        client_id: r.try_get("", "client_id")?,
        profile_id: ProfileId::from_db(r.try_get("", "code_profile_id")?),
        redirect_uri: r.try_get("", "redirect_uri")?,
        code_challenge: r.try_get("", "code_challenge")?,
        nonce: r.try_get("", "nonce")?,
        scope: r.try_get("", "scope")?,
        auth_time: r.try_get("", "auth_time")?,
        expires_at: r.try_get("", "expires_at")?,
        used_at: r.try_get("", "used_at")?,
    };
    Ok(Some((code, members::read(&r)?)))
}

/// Marks these codes used, unless they were; returns the digests of those it marked (the
/// others were spent already, by an earlier or concurrent request).
pub async fn spend_codes(
    db: &impl ConnectionTrait,
    hashes: &[&TokenHash],
    now: DateTime<Utc>,
) -> StoreResult<Vec<String>> {
    if hashes.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("UPDATE oidc_codes SET used_at = ")
        .param(now)
        .push(" WHERE used_at IS NULL AND code_hash IN (")
        .list(hashes.iter().map(|h| h.as_str()))
        .push(") RETURNING code_hash");
    db.query_all_raw(sql.build())
        .await?
        .iter()
        .map(|r| Ok(r.try_get("", "code_hash")?))
        .collect()
}

/// New grants, one per exchanged code: what each exchange gave a site. Returns their IDs,
/// in the order given.
pub async fn create_grants(
    db: &impl ConnectionTrait,
    codes: &[(&CodeRecord, &TokenHash)],
    now: DateTime<Utc>,
) -> StoreResult<Vec<i64>> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "INSERT INTO oidc_grants (client_id, profile_id, code_hash, scope, auth_time, created_at) \
         VALUES ",
    );
    for (i, (code, code_hash)) in codes.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" })
            .param(code.client_id.as_str())
            .push(", ")
            .param(code.profile_id.get())
            .push(", ")
            .param(code_hash.as_str())
            .push(", ")
            .param(code.scope.as_str())
            .push(", ")
            .param(code.auth_time)
            .push(", ")
            .param(now)
            .push(")");
    }
    sql.push(" RETURNING id, code_hash");
    // RETURNING promises no order: each row is matched to its code.
    let mut ids = std::collections::HashMap::new();
    for r in db.query_all_raw(sql.build()).await? {
        ids.insert(
            r.try_get::<String>("", "code_hash")?,
            r.try_get::<i64>("", "id")?,
        );
    }
    codes
        .iter()
        .map(|(_, hash)| {
            ids.get(hash.as_str())
                .copied()
                .ok_or_else(|| sea_orm::DbErr::RecordNotInserted.into())
        })
        .collect()
}

/// Which kind of token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    fn as_db(self) -> &'static str {
        match self {
            TokenKind::Access => "ACCESS",
            TokenKind::Refresh => "REFRESH",
        }
    }
}

/// A new token: its digest, the grant it is issued under, its kind and its end.
pub type NewToken<'a> = (&'a TokenHash, i64, TokenKind, DateTime<Utc>);

/// New tokens, in one statement.
pub async fn insert_tokens(db: &impl ConnectionTrait, tokens: &[NewToken<'_>]) -> StoreResult<()> {
    if tokens.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("INSERT INTO oidc_tokens (token_hash, grant_id, kind, expires_at) VALUES ");
    for (i, (hash, grant_id, kind, expires_at)) in tokens.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" })
            .param(hash.as_str())
            .push(", ")
            .param(*grant_id)
            .push(", ")
            .param(kind.as_db())
            .push(", ")
            .param(*expires_at)
            .push(")");
    }
    db.execute_raw(sql.build()).await?;
    Ok(())
}

/// A token and the grant it was issued under.
pub struct TokenRecord {
    pub grant_id: i64,
    pub client_id: String,
    pub profile_id: ProfileId,
    pub scope: String,
    pub auth_time: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

const TOKEN_COLUMNS: &str = "t.grant_id, g.client_id, g.profile_id AS grant_profile_id, g.scope, g.auth_time, \
     t.expires_at, t.used_at";

fn token_record(r: &sea_orm::QueryResult) -> StoreResult<TokenRecord> {
    Ok(TokenRecord {
        grant_id: r.try_get("", "grant_id")?,
        client_id: r.try_get("", "client_id")?,
        profile_id: ProfileId::from_db(r.try_get("", "grant_profile_id")?),
        scope: r.try_get("", "scope")?,
        auth_time: r.try_get("", "auth_time")?,
        expires_at: r.try_get("", "expires_at")?,
        used_at: r.try_get("", "used_at")?,
    })
}

/// The token of `kind` with this digest, expired or not, while its grant stands.
pub async fn find_token(
    db: &impl ConnectionTrait,
    hash: &TokenHash,
    kind: TokenKind,
) -> StoreResult<Option<TokenRecord>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(&format!(
        "SELECT {TOKEN_COLUMNS} FROM oidc_tokens t JOIN oidc_grants g ON g.id = t.grant_id \
         WHERE t.token_hash = "
    ))
    .param(hash.as_str())
    .push(" AND t.kind = ")
    .param(kind.as_db());
    let Some(r) = db.query_one_raw(sql.build()).await? else {
        return Ok(None);
    };
    Ok(Some(token_record(&r)?))
}

/// The refresh token with this digest, as [`find_token`], and in the same read the member
/// it was issued for (`None` when the profile is gone).
pub async fn find_refresh(
    db: &impl ConnectionTrait,
    hash: &TokenHash,
) -> StoreResult<Option<(TokenRecord, Option<MemberFacts>)>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(&format!(
        "SELECT {}, {TOKEN_COLUMNS} FROM oidc_tokens t JOIN oidc_grants g ON g.id = t.grant_id",
        members::COLUMNS
    ));
    members::joins(&mut sql, "g.profile_id");
    sql.push(" WHERE t.token_hash = ")
        .param(hash.as_str())
        .push(" AND t.kind = ")
        .param(TokenKind::Refresh.as_db());
    let Some(r) = db.query_one_raw(sql.build()).await? else {
        return Ok(None);
    };
    Ok(Some((token_record(&r)?, members::read(&r)?)))
}

/// What userinfo needs to answer for a presented access token, in one read: the token and
/// its grant, the site's allowed statuses, and the member.
#[derive(Clone)]
pub struct AccessFacts {
    pub scope: String,
    pub expires_at: DateTime<Utc>,
    pub allowed_member_statuses: Option<Vec<MemberStatus>>,
    /// `None` when the profile is gone.
    pub member: Option<MemberFacts>,
}

/// What userinfo needs for each of these access-token digests that is known, in one read
/// (concurrent userinfo requests are answered together), keyed by digest.
pub async fn access_facts(
    db: &impl ConnectionTrait,
    hashes: &[&TokenHash],
) -> StoreResult<HashMap<String, AccessFacts>> {
    if hashes.is_empty() {
        return Ok(HashMap::new());
    }
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(&format!(
        "SELECT {}, t.token_hash, g.scope, t.expires_at, c.allowed_member_statuses \
         FROM oidc_tokens t JOIN oidc_grants g ON g.id = t.grant_id \
         JOIN oidc_clients c ON c.client_id = g.client_id",
        members::COLUMNS
    ));
    members::joins(&mut sql, "g.profile_id");
    sql.push(" WHERE t.token_hash IN (")
        .list(hashes.iter().map(|h| h.as_str()))
        .push(") AND t.kind = ")
        .param(TokenKind::Access.as_db());
    db.query_all_raw(sql.build())
        .await?
        .iter()
        .map(|r| {
            let facts = AccessFacts {
                scope: r.try_get("", "scope")?,
                expires_at: r.try_get("", "expires_at")?,
                allowed_member_statuses: super::sites::statuses(
                    r.try_get("", "allowed_member_statuses")?,
                )?,
                member: members::read(r)?,
            };
            Ok((r.try_get("", "token_hash")?, facts))
        })
        .collect()
}

/// Marks a refresh token used; `false` when it was used already.
pub async fn use_token(
    db: &impl ConnectionTrait,
    hash: &TokenHash,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("UPDATE oidc_tokens SET used_at = ")
        .param(now)
        .push(" WHERE used_at IS NULL AND token_hash = ")
        .param(hash.as_str());
    Ok(db.execute_raw(sql.build()).await?.rows_affected() == 1)
}

/// Deletes one token.
pub async fn delete_token(db: &impl ConnectionTrait, hash: &TokenHash) -> StoreResult<()> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("DELETE FROM oidc_tokens WHERE token_hash = ")
        .param(hash.as_str());
    db.execute_raw(sql.build()).await?;
    Ok(())
}

/// Revokes a grant and every token issued under it.
pub async fn delete_grant(db: &impl ConnectionTrait, grant_id: i64) -> StoreResult<()> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("DELETE FROM oidc_grants WHERE id = ")
        .param(grant_id);
    db.execute_raw(sql.build()).await?;
    Ok(())
}

/// Revokes what was issued from a code (it was presented a second time). Returns how many
/// grants.
pub async fn delete_for_code(db: &impl ConnectionTrait, code: &TokenHash) -> StoreResult<u64> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("DELETE FROM oidc_grants WHERE code_hash = ")
        .param(code.as_str());
    Ok(db.execute_raw(sql.build()).await?.rows_affected())
}

/// Revokes everything a member holds at sites; at one site when `client_id` is given.
/// Unused codes go too. Returns how many grants.
pub async fn delete_for_member(
    db: &impl ConnectionTrait,
    profile: ProfileId,
    client_id: Option<&str>,
) -> StoreResult<u64> {
    let mut revoked = 0;
    for table in ["oidc_grants", "oidc_codes"] {
        let mut sql = Sql::new(db.get_database_backend());
        sql.push(&format!("DELETE FROM {table} WHERE profile_id = "))
            .param(profile.get());
        if let Some(client) = client_id {
            sql.push(" AND client_id = ").param(client);
        }
        let n = db.execute_raw(sql.build()).await?.rows_affected();
        if table == "oidc_grants" {
            revoked = n;
        }
    }
    Ok(revoked)
}

/// A site a member holds a grant at, for their account page and their data export.
pub struct SiteHeld {
    pub client_id: String,
    pub name: String,
    /// When the member first signed in to it among the grants still held.
    pub since: DateTime<Utc>,
    /// When the member last signed in to it.
    pub last: DateTime<Utc>,
}

/// The sites a member holds grants at, by name.
pub async fn sites_of_member(
    db: &impl ConnectionTrait,
    profile: ProfileId,
) -> StoreResult<Vec<SiteHeld>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "SELECT c.client_id, c.name, MIN(g.created_at) AS since, MAX(g.created_at) AS last \
         FROM oidc_grants g JOIN oidc_clients c ON c.client_id = g.client_id \
         WHERE g.profile_id = ",
    )
    .param(profile.get())
    .push(" GROUP BY c.client_id, c.name ORDER BY c.name");
    db.query_all_raw(sql.build())
        .await?
        .into_iter()
        .map(|r| {
            Ok(SiteHeld {
                client_id: r.try_get("", "client_id")?,
                name: r.try_get("", "name")?,
                since: r.try_get("", "since")?,
                last: r.try_get("", "last")?,
            })
        })
        .collect()
}

/// Deletes codes and tokens past their end, and grants left with no token. Returns how many
/// rows, in bounded batches of `limit` per table. A grant gets its first tokens just after it
/// is made, so only grants older than an hour are taken for empty.
pub async fn prune(db: &impl ConnectionTrait, now: DateTime<Utc>, limit: u64) -> StoreResult<u64> {
    let mut gone = 0;
    for (table, key) in [("oidc_codes", "code_hash"), ("oidc_tokens", "token_hash")] {
        let mut sql = Sql::new(db.get_database_backend());
        sql.push(&format!(
            "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE expires_at < "
        ))
        .param(now)
        .push(" LIMIT ")
        .param(limit as i64)
        .push(")");
        gone += db.execute_raw(sql.build()).await?.rows_affected();
    }
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "DELETE FROM oidc_grants WHERE id IN (SELECT g.id FROM oidc_grants g WHERE NOT EXISTS \
         (SELECT 1 FROM oidc_tokens t WHERE t.grant_id = g.id) AND g.created_at < ",
    )
    .param(now - chrono::Duration::hours(1))
    .push(" LIMIT ")
    .param(limit as i64)
    .push(")");
    gone += db.execute_raw(sql.build()).await?.rows_affected();
    Ok(gone)
}
