//! One-time set-password links of both kinds of account. Only the SHA-256 of a token is
//! stored; only the newest live link of an owner works; using one is a single conditional
//! UPDATE, so of many concurrent uses exactly one wins and expiry is enforced in that same
//! statement.
//!
//! The owner's kind picks the table (`credential_tokens` for members, `staff_password_tokens`
//! for staff), and every statement below is written once for both. A presented token is only
//! ever looked up among the links of the kind of account being opened, so a member's token can
//! never open a staff account, nor a staff token a member's.

pub mod short_codes;
pub(crate) mod state;

use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};

use crate::domain::{OutboundId, ProfileId, StaffUserId, TokenHash, TokenPurpose};
use crate::store::sql::Sql;

/// The kind of account a link opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerKind {
    Member,
    Staff,
}

impl OwnerKind {
    /// The table holding this kind's links. A constant: never built from input.
    fn table(self) -> &'static str {
        match self {
            OwnerKind::Member => "credential_tokens",
            OwnerKind::Staff => "staff_password_tokens",
        }
    }

    /// The column naming the owner in that table.
    fn owner_column(self) -> &'static str {
        match self {
            OwnerKind::Member => "profile_id",
            OwnerKind::Staff => "staff_user_id",
        }
    }
}

/// The account a link opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkOwner {
    Member(ProfileId),
    Staff(StaffUserId),
}

impl LinkOwner {
    pub fn kind(self) -> OwnerKind {
        match self {
            LinkOwner::Member(_) => OwnerKind::Member,
            LinkOwner::Staff(_) => OwnerKind::Staff,
        }
    }

    fn id(self) -> i64 {
        match self {
            LinkOwner::Member(id) => id.get(),
            LinkOwner::Staff(id) => id.get(),
        }
    }

    fn from_db(kind: OwnerKind, id: i64) -> Self {
        match kind {
            OwnerKind::Member => LinkOwner::Member(ProfileId::from_db(id)),
            OwnerKind::Staff => LinkOwner::Staff(StaffUserId::from_db(id)),
        }
    }

    /// The member profile, for links that can only be a member's.
    pub fn member(self) -> Option<ProfileId> {
        match self {
            LinkOwner::Member(id) => Some(id),
            LinkOwner::Staff(_) => None,
        }
    }

    /// The staff user, for links that can only be a staff user's.
    pub fn staff(self) -> Option<StaffUserId> {
        match self {
            LinkOwner::Staff(id) => Some(id),
            LinkOwner::Member(_) => None,
        }
    }
}

/// A link about to be stored.
pub struct NewLink<'a> {
    pub hash: &'a TokenHash,
    pub purpose: TokenPurpose,
    pub owner: LinkOwner,
    pub issued_by: Option<StaffUserId>,
    pub expires_at: DateTime<Utc>,
    pub outbound_email_id: Option<OutboundId>,
}

/// What the database knows of a presented link.
#[derive(Debug, Clone)]
pub struct LinkRecord {
    pub id: i64,
    pub owner: LinkOwner,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub invalidated_at: Option<DateTime<Utc>>,
}

#[derive(FromQueryResult)]
struct LinkRow {
    id: i64,
    owner_id: i64,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    invalidated_at: Option<DateTime<Utc>>,
}

/// The INSERT of `links` (all of `kind`), returning nothing.
fn insert(sql: &mut Sql, kind: OwnerKind, links: &[NewLink<'_>], now: DateTime<Utc>) {
    sql.push("INSERT INTO ")
        .push(kind.table())
        .push(" (token_hash, purpose, ")
        .push(kind.owner_column())
        .push(", issued_by_staff_id, outbound_email_id, created_at, expires_at) VALUES ");
    for (i, link) in links.iter().enumerate() {
        debug_assert_eq!(link.owner.kind(), kind, "one kind of owner per statement");
        if i > 0 {
            sql.push(", ");
        }
        sql.push("(")
            .param(link.hash.as_str())
            .push(", ")
            .param(link.purpose.as_db())
            .push(", ")
            .param(link.owner.id())
            .push(", ")
            .param(link.issued_by.map(|s| s.get()))
            .push(", ")
            .param(link.outbound_email_id.map(|o| o.get()))
            .push(", ")
            .param(now)
            .push(", ")
            .param(link.expires_at)
            .push(")");
    }
}

/// The UPDATE retiring every live link of `owners` (all of `kind`).
fn retire(sql: &mut Sql, kind: OwnerKind, owners: impl Iterator<Item = i64>, now: DateTime<Utc>) {
    sql.push("UPDATE ")
        .push(kind.table())
        .push(" SET invalidated_at = ")
        .param(now)
        .push(" WHERE used_at IS NULL AND invalidated_at IS NULL AND ")
        .push(kind.owner_column())
        .push(" IN (");
    sql.list(owners);
    sql.push(")");
}

/// Stores a new link and retires every earlier live link of its owner: only the newest link
/// works. Returns the new link's id.
pub async fn mint(
    db: &impl ConnectionTrait,
    link: NewLink<'_>,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    let kind = link.owner.kind();
    invalidate_for(db, link.owner, now).await?;
    let mut sql = Sql::new(db.get_database_backend());
    insert(&mut sql, kind, std::slice::from_ref(&link), now);
    sql.push(" RETURNING id");
    let row = db
        .query_one_raw(sql.build())
        .await?
        .ok_or_else(|| DbErr::RecordNotInserted)?;
    Ok(row.try_get::<i64>("", "id")?)
}

/// Stores many links of one kind at once (a batch of mass mail), retiring every earlier live
/// link of their owners first. Two statements per 500 links instead of two per link.
pub async fn mint_many(
    db: &impl ConnectionTrait,
    links: &[NewLink<'_>],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let Some(first) = links.first() else {
        return Ok(());
    };
    let kind = first.owner.kind();
    for chunk in links.chunks(500) {
        let mut sql = Sql::new(db.get_database_backend());
        retire(&mut sql, kind, chunk.iter().map(|l| l.owner.id()), now);
        db.execute_raw(sql.build()).await?;
        let mut sql = Sql::new(db.get_database_backend());
        insert(&mut sql, kind, chunk, now);
        db.execute_raw(sql.build()).await?;
    }
    Ok(())
}

/// The link of `kind` with this hash, whatever its state.
pub async fn find(
    db: &impl ConnectionTrait,
    kind: OwnerKind,
    hash: &TokenHash,
) -> StoreResult<Option<LinkRecord>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT id, ")
        .push(kind.owner_column())
        .push(" AS owner_id, expires_at, used_at, invalidated_at FROM ")
        .push(kind.table())
        .push(" WHERE token_hash = ")
        .param(hash.as_str());
    Ok(LinkRow::find_by_statement(sql.build())
        .one(db)
        .await?
        .map(|r| LinkRecord {
            id: r.id,
            owner: LinkOwner::from_db(kind, r.owner_id),
            expires_at: r.expires_at,
            used_at: r.used_at,
            invalidated_at: r.invalidated_at,
        }))
}

/// Marks a live link of `kind` used and returns its owner, or `None` when it is unknown, used,
/// retired or expired (or another request used it first).
pub async fn consume(
    db: &impl ConnectionTrait,
    kind: OwnerKind,
    hash: &TokenHash,
    now: DateTime<Utc>,
) -> StoreResult<Option<LinkOwner>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("UPDATE ")
        .push(kind.table())
        .push(" SET used_at = ")
        .param(now)
        .push(" WHERE token_hash = ")
        .param(hash.as_str())
        .push(" AND used_at IS NULL AND invalidated_at IS NULL AND expires_at > ")
        .param(now)
        .push(" RETURNING ")
        .push(kind.owner_column())
        .push(" AS owner_id");
    match db.query_one_raw(sql.build()).await? {
        Some(row) => Ok(Some(LinkOwner::from_db(
            kind,
            row.try_get::<i64>("", "owner_id")?,
        ))),
        None => Ok(None),
    }
}

/// Retires every live link of an owner: a new password by any route, a newer link, a changed
/// address or deactivation ends them. Returns how many were live.
pub async fn invalidate_for(
    db: &impl ConnectionTrait,
    owner: LinkOwner,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let mut sql = Sql::new(db.get_database_backend());
    retire(&mut sql, owner.kind(), std::iter::once(owner.id()), now);
    Ok(db.execute_raw(sql.build()).await?.rows_affected())
}

/// Deletes every link of an owner, whatever its state: the owner is being erased. (On
/// PostgreSQL no foreign key does it, see migration 20.)
pub async fn delete_for(db: &impl ConnectionTrait, owner: LinkOwner) -> StoreResult<u64> {
    let kind = owner.kind();
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("DELETE FROM ")
        .push(kind.table())
        .push(" WHERE ")
        .push(kind.owner_column())
        .push(" = ")
        .param(owner.id());
    Ok(db.execute_raw(sql.build()).await?.rows_affected())
}
