//! Staff sessions: only the SHA-256 of the bearer token is stored. Expiry and idle timeout are
//! enforced in the lookup query itself.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

use crate::domain::{StaffUserId, TokenHash};
use crate::entities::{member_session, staff_session, staff_user};

/// A live session and its owner.
pub struct LiveStaffSession {
    pub session_id: i64,
    pub staff_user_id: StaffUserId,
    pub last_seen_at: DateTime<Utc>,
}

pub async fn create_staff(
    db: &impl ConnectionTrait,
    hash: &TokenHash,
    user: StaffUserId,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<(), DbErr> {
    staff_session::ActiveModel {
        token_hash: Set(hash.as_str().to_owned()),
        staff_user_id: Set(user.get()),
        created_at: Set(now),
        expires_at: Set(now + ttl),
        last_seen_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The session for this token, if it exists, has not expired, has not been idle too long, and
/// belongs to an active user.
pub async fn find_live_staff(
    db: &impl ConnectionTrait,
    hash: &TokenHash,
    now: DateTime<Utc>,
    idle: Duration,
) -> Result<Option<LiveStaffSession>, DbErr> {
    let Some(s) = staff_session::Entity::find()
        .filter(staff_session::Column::TokenHash.eq(hash.as_str()))
        .filter(staff_session::Column::ExpiresAt.gt(now))
        .filter(staff_session::Column::LastSeenAt.gt(now - idle))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let active = staff_user::Entity::find_by_id(s.staff_user_id)
        .filter(staff_user::Column::Active.eq(true))
        .one(db)
        .await?
        .is_some();
    Ok(active.then(|| LiveStaffSession {
        session_id: s.id,
        staff_user_id: StaffUserId::from_db(s.staff_user_id),
        last_seen_at: s.last_seen_at,
    }))
}

pub async fn touch_staff(
    db: &impl ConnectionTrait,
    session_id: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    staff_session::Entity::update_many()
        .col_expr(
            staff_session::Column::LastSeenAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(staff_session::Column::Id.eq(session_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn delete_staff(db: &impl ConnectionTrait, session_id: i64) -> Result<(), DbErr> {
    staff_session::Entity::delete_by_id(session_id)
        .exec(db)
        .await?;
    Ok(())
}

pub async fn delete_all_staff(db: &impl ConnectionTrait, user: StaffUserId) -> Result<(), DbErr> {
    staff_session::Entity::delete_many()
        .filter(staff_session::Column::StaffUserId.eq(user.get()))
        .exec(db)
        .await?;
    Ok(())
}

/// A live member session.
pub struct LiveMemberSession {
    pub session_id: i64,
    pub profile_id: crate::domain::ProfileId,
    pub last_seen_at: DateTime<Utc>,
}

pub async fn create_member(
    db: &impl ConnectionTrait,
    hash: &TokenHash,
    profile: crate::domain::ProfileId,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<(), DbErr> {
    member_session::ActiveModel {
        token_hash: Set(hash.as_str().to_owned()),
        profile_id: Set(profile.get()),
        created_at: Set(now),
        expires_at: Set(now + ttl),
        last_seen_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn find_live_member(
    db: &impl ConnectionTrait,
    hash: &TokenHash,
    now: DateTime<Utc>,
    idle: Duration,
) -> Result<Option<LiveMemberSession>, DbErr> {
    Ok(member_session::Entity::find()
        .filter(member_session::Column::TokenHash.eq(hash.as_str()))
        .filter(member_session::Column::ExpiresAt.gt(now))
        .filter(member_session::Column::LastSeenAt.gt(now - idle))
        .one(db)
        .await?
        .map(|s| LiveMemberSession {
            session_id: s.id,
            profile_id: crate::domain::ProfileId::from_db(s.profile_id),
            last_seen_at: s.last_seen_at,
        }))
}

pub async fn touch_member(
    db: &impl ConnectionTrait,
    session_id: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    member_session::Entity::update_many()
        .col_expr(
            member_session::Column::LastSeenAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(member_session::Column::Id.eq(session_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn delete_member(db: &impl ConnectionTrait, session_id: i64) -> Result<(), DbErr> {
    member_session::Entity::delete_by_id(session_id)
        .exec(db)
        .await?;
    Ok(())
}

/// Ends every session of a member, except `keep` (the one that asked, when it should live on).
pub async fn delete_all_member(
    db: &impl ConnectionTrait,
    profile: crate::domain::ProfileId,
    keep: Option<i64>,
) -> Result<(), DbErr> {
    let mut q = member_session::Entity::delete_many()
        .filter(member_session::Column::ProfileId.eq(profile.get()));
    if let Some(id) = keep {
        q = q.filter(member_session::Column::Id.ne(id));
    }
    q.exec(db).await?;
    Ok(())
}
