//! Quick search. Results come in tiers, best first, and in ID order inside a tier:
//! 0. the exact profile ID;
//! 1. a name, email or username equal to the term;
//! 2. one that starts with the term (B-tree range scans on the search keys);
//! 3. one that contains it (SQLite FTS5 trigram, PostgreSQL pg_trgm), for terms of 3+ chars.
//!
//! Each tier is read with a keyset on ID and stops as soon as the page is full, so a common
//! term never scores or sorts every match. The cursor is (tier, last ID).

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, EntityTrait};

use super::profiles::{push_filter, scalar_count, to_records};
use super::sql::Sql;
use crate::domain::{Profile, ProfileFilter, SearchTerm};
use crate::entities::profile;

/// Where a page ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchCursor {
    pub tier: u8,
    pub id: i64,
}

/// One result and the tier it matched in.
#[derive(Debug, Clone)]
pub struct SearchHit {
    pub tier: u8,
    pub profile: Profile,
}

const LAST_TIER: u8 = 3;

fn prefix_upper_bound(key: &str) -> String {
    format!("{key}\u{10FFFF}")
}

fn push_exact(sql: &mut Sql, key: &str) {
    sql.push("(p.first_name_key = ").param(key);
    sql.push(" OR p.last_name_key = ").param(key);
    sql.push(" OR p.organization_name_key = ").param(key);
    sql.push(" OR p.email_key = ").param(key);
    sql.push(" OR p.id IN (SELECT profile_id FROM portal_credentials WHERE username_key = ")
        .param(key);
    sql.push("))");
}

fn push_prefix(sql: &mut Sql, key: &str) {
    let hi = prefix_upper_bound(key);
    sql.push("(");
    for (i, col) in [
        "p.first_name_key",
        "p.last_name_key",
        "p.organization_name_key",
        "p.email_key",
    ]
    .iter()
    .enumerate()
    {
        if i > 0 {
            sql.push(" OR ");
        }
        sql.push("(")
            .push(col)
            .push(" >= ")
            .param(key)
            .push(" AND ")
            .push(col)
            .push(" < ")
            .param(hi.clone())
            .push(")");
    }
    sql.push(" OR p.id IN (SELECT profile_id FROM portal_credentials WHERE username_key >= ")
        .param(key);
    sql.push(" AND username_key < ").param(hi).push("))");
}

fn fts_phrase(key: &str) -> String {
    format!("\"{}\"", key.replace('"', "\"\""))
}

fn like_pattern(key: &str) -> String {
    let escaped = key
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// The substring condition on alias `p`, for counting.
fn push_substring(sql: &mut Sql, key: &str) {
    match sql.backend() {
        DatabaseBackend::Postgres => {
            let pattern = like_pattern(key);
            sql.push("(p.search_document LIKE ")
                .param(pattern.clone())
                .push(" ESCAPE '\\'");
            sql.push(
                " OR p.id IN (SELECT profile_id FROM portal_credentials WHERE username_key LIKE ",
            )
            .param(pattern)
            .push(" ESCAPE '\\'))");
        }
        _ => {
            sql.push("p.id IN (SELECT rowid FROM profile_search WHERE profile_search MATCH ")
                .param(fts_phrase(key))
                .push(")");
        }
    }
}

fn push_not_exact_id(sql: &mut Sql, term: &SearchTerm) {
    if let Some(id) = term.exact_id {
        sql.push(" AND p.id <> ").param(id.get());
    }
}

fn tier_query(
    backend: DatabaseBackend,
    tier: u8,
    term: &SearchTerm,
    filter: &ProfileFilter,
    after_id: Option<i64>,
    limit: u64,
) -> Option<Sql> {
    let mut sql = Sql::new(backend);
    let key = term.key.as_str();
    match tier {
        0 => {
            let id = term.exact_id?;
            if after_id.is_some() {
                return None;
            }
            sql.push("SELECT p.* FROM profiles p WHERE p.id = ")
                .param(id.get());
        }
        1 => {
            sql.push("SELECT p.* FROM profiles p WHERE ");
            push_exact(&mut sql, key);
        }
        2 => {
            sql.push("SELECT p.* FROM profiles p WHERE ");
            push_prefix(&mut sql, key);
            sql.push(" AND ");
            push_exact(&mut sql, key);
            sql.push(" IS NOT TRUE");
        }
        _ => {
            if !term.allows_substring() {
                return None;
            }
            match backend {
                DatabaseBackend::Postgres => {
                    sql.push("SELECT p.* FROM profiles p WHERE ");
                    push_substring(&mut sql, key);
                }
                _ => {
                    // Joining the FTS table lets FTS5 hand rows over in rowid order and stop at
                    // the LIMIT, instead of materialising every match.
                    sql.push("SELECT p.* FROM profile_search JOIN profiles p ON p.id = profile_search.rowid WHERE profile_search MATCH ")
                        .param(fts_phrase(key));
                }
            }
            sql.push(" AND ");
            push_prefix(&mut sql, key);
            sql.push(" IS NOT TRUE");
        }
    }
    if tier > 0 {
        push_not_exact_id(&mut sql, term);
    }
    push_filter(&mut sql, filter);
    if let Some(after) = after_id {
        sql.push(" AND p.id > ").param(after);
    }
    sql.push(" ORDER BY p.id LIMIT ").param(limit as i64);
    Some(sql)
}

/// Up to `limit` hits after `after`, best tier first.
pub async fn search(
    db: &impl ConnectionTrait,
    term: &SearchTerm,
    filter: &ProfileFilter,
    after: Option<SearchCursor>,
    limit: u64,
) -> Result<Vec<SearchHit>, DbErr> {
    let backend = db.get_database_backend();
    let mut hits = Vec::new();
    let start = after.map_or(0, |c| c.tier);
    for tier in start..=LAST_TIER {
        let remaining = limit.saturating_sub(hits.len() as u64);
        if remaining == 0 {
            break;
        }
        let after_id = after.filter(|c| c.tier == tier).map(|c| c.id);
        let Some(sql) = tier_query(backend, tier, term, filter, after_id, remaining) else {
            continue;
        };
        let rows = profile::Entity::find()
            .from_raw_sql(sql.build())
            .all(db)
            .await?;
        hits.extend(
            to_records(rows)?
                .into_iter()
                .map(|profile| SearchHit { tier, profile }),
        );
    }
    Ok(hits)
}

/// How many profiles match the term and filter, over all tiers.
pub async fn count(
    db: &impl ConnectionTrait,
    term: &SearchTerm,
    filter: &ProfileFilter,
) -> Result<u64, DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT COUNT(*) AS n FROM profiles p WHERE (");
    push_prefix(&mut sql, &term.key);
    if let Some(id) = term.exact_id {
        sql.push(" OR p.id = ").param(id.get());
    }
    if term.allows_substring() {
        sql.push(" OR ");
        push_substring(&mut sql, &term.key);
    }
    sql.push(")");
    push_filter(&mut sql, filter);
    scalar_count(db, sql).await
}
