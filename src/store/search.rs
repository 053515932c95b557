//! Quick search. Results come in tiers, best first, and in ID order inside a tier:
//! 0. the exact profile ID;
//! 1. a name, email or username equal to the term;
//! 2. one that starts with the term (B-tree range scans on the search keys);
//! 3. one that contains it (SQLite FTS5 trigram, PostgreSQL pg_trgm), for terms of 3+ chars.
//!
//! Each tier is read with a keyset on ID and stops as soon as the page is full, so a common
//! term never scores or sorts every match: tiers 1 and 2 take at most a page from each key
//! column's index, and a better tier is excluded row by row rather than by materialising it.
//! The cursor is (tier, last ID).

use crate::store::StoreResult;
use sea_orm::{ConnectionTrait, DatabaseBackend, EntityTrait};

use super::profiles::{push_filter, scalar_count, to_records};
use super::sql::Sql;
use crate::domain::{Profile, ProfileFilter, SearchCursor, SearchTerm};
use crate::entities::profile;

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

const KEY_COLUMNS: [&str; 4] = [
    "first_name_key",
    "last_name_key",
    "organization_name_key",
    "email_key",
];

/// IDs of profiles with a key starting with the term: index range scans, unioned.
fn push_prefix_ids(sql: &mut Sql, key: &str) {
    let hi = prefix_upper_bound(key);
    sql.push("(");
    for col in KEY_COLUMNS {
        sql.push("SELECT id FROM profiles WHERE ")
            .push(col)
            .push(" >= ")
            .param(key);
        sql.push(" AND ")
            .push(col)
            .push(" < ")
            .param(hi.clone())
            .push(" UNION ");
    }
    sql.push("SELECT profile_id FROM portal_credentials WHERE username_key >= ")
        .param(key);
    sql.push(" AND username_key < ").param(hi).push(")");
}

fn fts_phrase(key: &str) -> String {
    format!("\"{}\"", key.replace('"', "\"\""))
}

fn like_pattern(key: &str) -> String {
    super::sql::contains_pattern(key)
}

/// IDs of profiles containing the term anywhere, for counting.
fn push_substring_ids(sql: &mut Sql, key: &str) {
    match sql.backend() {
        DatabaseBackend::Postgres => {
            let pattern = like_pattern(key);
            sql.push("(SELECT id FROM profiles WHERE search_document LIKE ")
                .param(pattern.clone())
                .push(" ESCAPE '\\'");
            sql.push(" UNION SELECT profile_id FROM portal_credentials WHERE username_key LIKE ")
                .param(pattern)
                .push(" ESCAPE '\\')");
        }
        _ => {
            sql.push("(SELECT rowid FROM profile_search WHERE profile_search MATCH ")
                .param(fts_phrase(key))
                .push(")");
        }
    }
}

/// Where the substring tier reads its candidates from.
#[derive(Clone, Copy)]
enum SubstringSource {
    /// SQLite: the FTS5 table, which hands rows over in rowid order and stops at the LIMIT.
    Fts,
    /// PostgreSQL: names and emails. A plain condition on `profiles` lets the planner either
    /// walk the primary key and stop early (common terms) or use the trigram index (rare ones).
    ProfileDocument,
    /// PostgreSQL: usernames.
    Username,
}

struct TierQuery<'a> {
    tier: u8,
    term: &'a SearchTerm,
    filter: &'a ProfileFilter,
    after_id: Option<i64>,
    limit: u64,
}

/// True (for the row `p`) when a key equals the term. Checked per candidate row, so
/// excluding a better tier never materialises that tier's whole result.
fn push_row_is_exact(sql: &mut Sql, key: &str) {
    sql.push("(");
    for col in KEY_COLUMNS {
        sql.push("p.").push(col).push(" = ").param(key).push(" OR ");
    }
    sql.push("EXISTS (SELECT 1 FROM portal_credentials c2 WHERE c2.profile_id = p.id AND c2.username_key = ")
        .param(key)
        .push("))");
}

/// True (for the row `p`) when a key starts with the term.
fn push_row_is_prefix(sql: &mut Sql, key: &str) {
    let hi = prefix_upper_bound(key);
    sql.push("(");
    for col in KEY_COLUMNS {
        sql.push("(p.")
            .push(col)
            .push(" >= ")
            .param(key)
            .push(" AND p.")
            .push(col)
            .push(" < ")
            .param(hi.clone());
        sql.push(") OR ");
    }
    sql.push("EXISTS (SELECT 1 FROM portal_credentials c2 WHERE c2.profile_id = p.id AND c2.username_key >= ")
        .param(key)
        .push(" AND c2.username_key < ")
        .param(hi)
        .push("))");
}

/// The conditions every branch shares: not the exact-ID hit, the filter, the keyset.
fn push_common(sql: &mut Sql, q: &TierQuery<'_>, id_col: &str) {
    if q.tier > 0
        && let Some(id) = q.term.exact_id
    {
        sql.push(" AND p.id <> ").param(id.get());
    }
    push_filter(sql, q.filter);
    if let Some(after) = q.after_id {
        sql.push(" AND ").push(id_col).push(" > ").param(after);
    }
    sql.push(" ORDER BY ")
        .push(id_col)
        .push(" LIMIT ")
        .param(q.limit as i64);
}

/// Tiers 1 and 2: one branch per key column, each returning at most `limit` IDs in ID
/// order from its own index, then merged. The first `limit` of the union are exactly the first
/// `limit` of the tier, without reading every match of a common name.
fn exact_or_prefix_sql(backend: DatabaseBackend, q: &TierQuery<'_>) -> Sql {
    let mut sql = Sql::new(backend);
    let key = q.term.key.as_str();
    let hi = prefix_upper_bound(key);
    sql.push("SELECT p.* FROM profiles p WHERE p.id IN (");
    let branches = KEY_COLUMNS.iter().map(Some).chain([None]);
    for (i, col) in branches.enumerate() {
        if i > 0 {
            sql.push(" UNION ");
        }
        sql.push("SELECT id FROM (SELECT p.id AS id FROM profiles p");
        match col {
            Some(col) => {
                sql.push(" WHERE p.").push(col);
                if q.tier == 1 {
                    sql.push(" = ").param(key);
                } else {
                    sql.push(" >= ")
                        .param(key)
                        .push(" AND p.")
                        .push(col)
                        .push(" < ")
                        .param(hi.clone());
                }
            }
            None => {
                sql.push(" JOIN portal_credentials c ON c.profile_id = p.id WHERE c.username_key");
                if q.tier == 1 {
                    sql.push(" = ").param(key);
                } else {
                    sql.push(" >= ")
                        .param(key)
                        .push(" AND c.username_key < ")
                        .param(hi.clone());
                }
            }
        }
        if q.tier == 2 {
            sql.push(" AND ");
            push_row_is_exact(&mut sql, key);
            sql.push(" IS NOT TRUE");
        }
        push_common(&mut sql, q, "p.id");
        sql.push(") b").push(&i.to_string());
    }
    sql.push(") ORDER BY p.id LIMIT ").param(q.limit as i64);
    sql
}

fn tier_sql(backend: DatabaseBackend, q: &TierQuery<'_>, source: SubstringSource) -> Option<Sql> {
    let key = q.term.key.as_str();
    match q.tier {
        0 => {
            let id = q.term.exact_id?;
            if q.after_id.is_some() {
                return None;
            }
            let mut sql = Sql::new(backend);
            sql.push("SELECT p.* FROM profiles p WHERE p.id = ")
                .param(id.get());
            push_filter(&mut sql, q.filter);
            Some(sql)
        }
        1 | 2 => Some(exact_or_prefix_sql(backend, q)),
        _ => {
            if !q.term.allows_substring() {
                return None;
            }
            let mut sql = Sql::new(backend);
            let mut id_col = "p.id";
            match source {
                SubstringSource::Fts => {
                    sql.push(
                        "SELECT p.* FROM profile_search JOIN profiles p ON p.id = profile_search.rowid \
                         WHERE profile_search MATCH ",
                    )
                    .param(fts_phrase(key));
                    id_col = "profile_search.rowid";
                }
                SubstringSource::ProfileDocument => {
                    sql.push("SELECT p.* FROM profiles p WHERE p.search_document LIKE ")
                        .param(like_pattern(key))
                        .push(" ESCAPE '\\'");
                }
                SubstringSource::Username => {
                    sql.push(
                        "SELECT p.* FROM profiles p WHERE p.id IN \
                         (SELECT profile_id FROM portal_credentials WHERE username_key LIKE ",
                    )
                    .param(like_pattern(key))
                    .push(" ESCAPE '\\')");
                }
            }
            sql.push(" AND ");
            push_row_is_prefix(&mut sql, key);
            sql.push(" IS NOT TRUE");
            push_common(&mut sql, q, id_col);
            Some(sql)
        }
    }
}

async fn run_tier(db: &impl ConnectionTrait, q: &TierQuery<'_>) -> StoreResult<Vec<Profile>> {
    let backend = db.get_database_backend();
    let sources: &[SubstringSource] = match (q.tier, backend) {
        (3, DatabaseBackend::Postgres) => {
            &[SubstringSource::ProfileDocument, SubstringSource::Username]
        }
        _ => &[SubstringSource::Fts],
    };
    let mut found: Vec<Profile> = Vec::new();
    for source in sources {
        let Some(sql) = tier_sql(backend, q, *source) else {
            continue;
        };
        found.extend(to_records(
            profile::Entity::find()
                .from_raw_sql(sql.build())
                .all(db)
                .await?,
        )?);
    }
    // Two sources are merged back into ID order.
    found.sort_by_key(|p| p.id);
    found.dedup_by_key(|p| p.id);
    found.truncate(q.limit as usize);
    Ok(found)
}

/// Up to `limit` hits after `after`, best tier first.
pub async fn search(
    db: &impl ConnectionTrait,
    term: &SearchTerm,
    filter: &ProfileFilter,
    after: Option<SearchCursor>,
    limit: u64,
) -> StoreResult<Vec<SearchHit>> {
    let mut hits = Vec::new();
    let start = after.map_or(0, |c| c.tier);
    for tier in start..=LAST_TIER {
        let remaining = limit.saturating_sub(hits.len() as u64);
        if remaining == 0 {
            break;
        }
        let after_id = after.filter(|c| c.tier == tier).map(|c| c.id);
        let query = TierQuery {
            tier,
            term,
            filter,
            after_id,
            limit: remaining,
        };
        let rows = run_tier(db, &query).await?;
        hits.extend(rows.into_iter().map(|profile| SearchHit { tier, profile }));
    }
    Ok(hits)
}

/// How many profiles match the term and filter, over all tiers.
pub async fn count(
    db: &impl ConnectionTrait,
    term: &SearchTerm,
    filter: &ProfileFilter,
) -> StoreResult<u64> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT COUNT(*) AS n FROM profiles p WHERE (p.id IN ");
    push_prefix_ids(&mut sql, &term.key);
    if let Some(id) = term.exact_id {
        sql.push(" OR p.id = ").param(id.get());
    }
    if term.allows_substring() {
        sql.push(" OR p.id IN ");
        push_substring_ids(&mut sql, &term.key);
    }
    sql.push(")");
    push_filter(&mut sql, filter);
    scalar_count(db, sql).await
}
