//! Sessions of staff users and of members. The two tables share one shape and differ only in
//! their owner, so one implementation serves both. Only the SHA-256 of the bearer token is
//! stored; expiry and the idle timeout are enforced in the lookup query itself.

use crate::store::StoreResult;
use chrono::{DateTime, Duration, Utc};
use sea_orm::ConnectionTrait;

use super::sql::Sql;
use crate::domain::{ProfileId, StaffSessionInfo, StaffUserId, TokenHash};

/// Who can hold a session, and where their sessions are kept.
pub trait SessionOwner: Copy + Send + Sync {
    /// The table of this owner's sessions.
    const TABLE: &'static str;
    /// The column naming the owner.
    const OWNER: &'static str;
    /// A condition the owner must meet for the session to count, joined as `u`.
    const ACTIVE_JOIN: Option<&'static str>;
    /// Whether the table keeps where the session was opened from (client IP, user agent).
    const RECORDS_CLIENT: bool;
    /// Whether a session can be a staff user's read-only view as the owner
    /// (`impersonated_by`, `impersonated_from_session`).
    const IMPERSONATION: bool;
    /// Whether the table keeps when the session last proved its user again (`stepped_up_at`).
    const STEP_UP: bool;
    /// Whether the owner can hold grants at connected sites (OpenID Connect), which end
    /// with all of their sessions.
    const SITE_GRANTS: bool;
    fn to_db(self) -> i64;
    fn from_db(id: i64) -> Self;
}

impl SessionOwner for StaffUserId {
    const TABLE: &'static str = "staff_sessions";
    const OWNER: &'static str = "staff_user_id";
    // A deactivated staff user's sessions stop working at once.
    const ACTIVE_JOIN: Option<&'static str> = Some("JOIN staff_users u ON u.id = s.staff_user_id");
    const RECORDS_CLIENT: bool = true;
    const IMPERSONATION: bool = false;
    const STEP_UP: bool = true;
    const SITE_GRANTS: bool = false;
    fn to_db(self) -> i64 {
        self.get()
    }
    fn from_db(id: i64) -> Self {
        StaffUserId::from_db(id)
    }
}

impl SessionOwner for ProfileId {
    const TABLE: &'static str = "member_sessions";
    const OWNER: &'static str = "profile_id";
    const ACTIVE_JOIN: Option<&'static str> = None;
    const RECORDS_CLIENT: bool = false;
    const IMPERSONATION: bool = true;
    const STEP_UP: bool = false;
    const SITE_GRANTS: bool = true;
    fn to_db(self) -> i64 {
        self.get()
    }
    fn from_db(id: i64) -> Self {
        ProfileId::from_db(id)
    }
}

/// A live session and its owner.
pub struct LiveSession<O> {
    pub session_id: i64,
    pub owner: O,
    /// When the session was opened: when its owner last proved who they are by signing in.
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// When the session ends at the latest.
    pub expires_at: DateTime<Utc>,
    /// The staff user viewing the portal as the owner, for an impersonation session.
    pub impersonated_by: Option<StaffUserId>,
    /// The staff session that started that view; the view ends with it.
    pub impersonated_from_session: Option<i64>,
    /// When the session last proved its user again (staff sessions only).
    pub stepped_up_at: Option<DateTime<Utc>>,
}

/// What an export of a member's data tells about one of their sessions; never its token.
pub struct MemberSessionFacts {
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// A staff user's read-only view of the portal as the member.
    pub staff_view: bool,
}

/// Every session of a member that has not been swept away yet, oldest first.
pub async fn of_member(
    db: &impl ConnectionTrait,
    profile: ProfileId,
) -> StoreResult<Vec<MemberSessionFacts>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "SELECT created_at, last_seen_at, expires_at, impersonated_by FROM member_sessions \
         WHERE profile_id = ",
    )
    .param(profile.get())
    .push(" ORDER BY id");
    db.query_all_raw(sql.build())
        .await?
        .into_iter()
        .map(|r| {
            Ok(MemberSessionFacts {
                created_at: r.try_get("", "created_at")?,
                last_seen_at: r.try_get("", "last_seen_at")?,
                expires_at: r.try_get("", "expires_at")?,
                staff_view: r.try_get::<Option<i64>>("", "impersonated_by")?.is_some(),
            })
        })
        .collect()
}

/// Where a session was opened from, for tables that keep it.
#[derive(Default)]
pub struct SessionClient<'a> {
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

pub async fn create<O: SessionOwner>(
    db: &impl ConnectionTrait,
    hash: &TokenHash,
    owner: O,
    now: DateTime<Utc>,
    ttl: Duration,
    client: &SessionClient<'_>,
) -> StoreResult<()> {
    let mut sql = Sql::new(db.get_database_backend());
    let extra = if O::RECORDS_CLIENT {
        ", client_ip, user_agent"
    } else {
        ""
    };
    sql.push(&format!(
        "INSERT INTO {} (token_hash, {}, created_at, expires_at, last_seen_at{extra}) VALUES (",
        O::TABLE,
        O::OWNER
    ))
    .param(hash.as_str())
    .push(", ")
    .param(owner.to_db())
    .push(", ")
    .param(now)
    .push(", ")
    .param(now + ttl)
    .push(", ")
    .param(now);
    if O::RECORDS_CLIENT {
        sql.push(", ")
            .param(client.ip.map(str::to_owned))
            .push(", ")
            .param(client.user_agent.map(str::to_owned));
    }
    sql.push(")");
    db.execute_raw(sql.build()).await?;
    Ok(())
}

/// A staff user's sessions that still work, most recently used first.
pub async fn live_staff_sessions(
    db: &impl ConnectionTrait,
    staff: StaffUserId,
    now: DateTime<Utc>,
    idle: Duration,
) -> StoreResult<Vec<StaffSessionInfo>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "SELECT id, created_at, last_seen_at, client_ip, user_agent FROM staff_sessions \
         WHERE staff_user_id = ",
    )
    .param(staff.get())
    .push(" AND expires_at > ")
    .param(now)
    .push(" AND last_seen_at > ")
    .param(now - idle)
    .push(" ORDER BY last_seen_at DESC, id DESC");
    db.query_all_raw(sql.build())
        .await?
        .into_iter()
        .map(|row| {
            Ok(StaffSessionInfo {
                id: row.try_get("", "id")?,
                created_at: row.try_get("", "created_at")?,
                last_seen_at: row.try_get("", "last_seen_at")?,
                client_ip: row.try_get("", "client_ip")?,
                user_agent: row.try_get("", "user_agent")?,
            })
        })
        .collect()
}

/// Ends one of `owner`'s sessions; false when they have no session with that ID.
pub async fn delete_owned<O: SessionOwner>(
    db: &impl ConnectionTrait,
    owner: O,
    session_id: i64,
) -> StoreResult<bool> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(&format!("DELETE FROM {} WHERE id = ", O::TABLE))
        .param(session_id)
        .push(&format!(" AND {} = ", O::OWNER))
        .param(owner.to_db());
    Ok(db.execute_raw(sql.build()).await?.rows_affected() == 1)
}

/// The session for this token, if it exists, has not expired, has not been idle too long,
/// and its owner may still use it.
pub async fn find_live<O: SessionOwner>(
    db: &impl ConnectionTrait,
    hash: &TokenHash,
    now: DateTime<Utc>,
    idle: Duration,
) -> StoreResult<Option<LiveSession<O>>> {
    let mut sql = Sql::new(db.get_database_backend());
    let impersonation = if O::IMPERSONATION {
        ", s.impersonated_by, s.impersonated_from_session"
    } else {
        ""
    };
    let step_up = if O::STEP_UP { ", s.stepped_up_at" } else { "" };
    sql.push(&format!(
        "SELECT s.id, s.{} AS owner, s.created_at, s.last_seen_at, s.expires_at{impersonation}{step_up} FROM {} s ",
        O::OWNER,
        O::TABLE
    ));
    if let Some(join) = O::ACTIVE_JOIN {
        sql.push(join).push(" AND u.active = ").param(true);
    }
    sql.push(" WHERE s.token_hash = ")
        .param(hash.as_str())
        .push(" AND s.expires_at > ")
        .param(now)
        .push(" AND s.last_seen_at > ")
        .param(now - idle);
    let Some(row) = db.query_one_raw(sql.build()).await? else {
        return Ok(None);
    };
    Ok(Some(LiveSession {
        session_id: row.try_get("", "id")?,
        owner: O::from_db(row.try_get("", "owner")?),
        created_at: row.try_get("", "created_at")?,
        last_seen_at: row.try_get("", "last_seen_at")?,
        expires_at: row.try_get("", "expires_at")?,
        impersonated_by: if O::IMPERSONATION {
            row.try_get::<Option<i64>>("", "impersonated_by")?
                .map(StaffUserId::from_db)
        } else {
            None
        },
        impersonated_from_session: if O::IMPERSONATION {
            row.try_get("", "impersonated_from_session")?
        } else {
            None
        },
        stepped_up_at: if O::STEP_UP {
            row.try_get("", "stepped_up_at")?
        } else {
            None
        },
    }))
}

/// Whether the staff session `session_id` still works: not ended, expired or idle, and its
/// user still active.
pub async fn staff_session_is_live(
    db: &impl ConnectionTrait,
    session_id: i64,
    now: DateTime<Utc>,
    idle: Duration,
) -> StoreResult<bool> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT s.id FROM staff_sessions s JOIN staff_users u ON u.id = s.staff_user_id AND u.active = ")
        .param(true)
        .push(" WHERE s.id = ")
        .param(session_id)
        .push(" AND s.expires_at > ")
        .param(now)
        .push(" AND s.last_seen_at > ")
        .param(now - idle);
    Ok(db.query_one_raw(sql.build()).await?.is_some())
}

/// Records that a staff session proved its user again just now (step-up).
pub async fn record_step_up(
    db: &impl ConnectionTrait,
    session_id: i64,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("UPDATE staff_sessions SET stepped_up_at = ")
        .param(now)
        .push(" WHERE id = ")
        .param(session_id);
    db.execute_raw(sql.build()).await?;
    Ok(())
}

/// Opens a staff user's read-only session as a member, from their staff session
/// `from_session` (the view ends with it).
pub async fn create_impersonation(
    db: &impl ConnectionTrait,
    hash: &TokenHash,
    profile: ProfileId,
    (staff, from_session): (StaffUserId, i64),
    now: DateTime<Utc>,
    ttl: Duration,
) -> StoreResult<()> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "INSERT INTO member_sessions (token_hash, profile_id, created_at, expires_at, last_seen_at, impersonated_by, impersonated_from_session) VALUES (",
    )
    .param(hash.as_str())
    .push(", ")
    .param(profile.get())
    .push(", ")
    .param(now)
    .push(", ")
    .param(now + ttl)
    .push(", ")
    .param(now)
    .push(", ")
    .param(staff.get())
    .push(", ")
    .param(from_session)
    .push(")");
    db.execute_raw(sql.build()).await?;
    Ok(())
}

/// Records that the session was used now (for the idle timeout).
pub async fn touch<O: SessionOwner>(
    db: &impl ConnectionTrait,
    session_id: i64,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(&format!("UPDATE {} SET last_seen_at = ", O::TABLE))
        .param(now)
        .push(" WHERE id = ")
        .param(session_id);
    db.execute_raw(sql.build()).await?;
    Ok(())
}

/// Ends one session.
pub async fn delete<O: SessionOwner>(
    db: &impl ConnectionTrait,
    session_id: i64,
) -> StoreResult<()> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(&format!("DELETE FROM {} WHERE id = ", O::TABLE))
        .param(session_id);
    db.execute_raw(sql.build()).await?;
    Ok(())
}

/// Ends every session of `owner`, except `keep` (the one that asked, when it should live on).
pub async fn delete_all<O: SessionOwner>(
    db: &impl ConnectionTrait,
    owner: O,
    keep: Option<i64>,
) -> StoreResult<()> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(&format!("DELETE FROM {} WHERE {} = ", O::TABLE, O::OWNER))
        .param(owner.to_db());
    if let Some(id) = keep {
        sql.push(" AND id <> ").param(id);
    }
    db.execute_raw(sql.build()).await?;
    // Whatever ends every session (a new password, a credential switched off, a status
    // that may not sign in, "Sign out everywhere") also ends what the sites hold.
    if O::SITE_GRANTS {
        super::oidc::grants::delete_for_member(db, ProfileId::from_db(owner.to_db()), None).await?;
    }
    Ok(())
}

/// Deletes the sessions that can no longer be used: expired, or idle past `idle`. Returns
/// how many.
pub async fn delete_dead<O: SessionOwner>(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    idle: Duration,
) -> StoreResult<u64> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(&format!("DELETE FROM {} WHERE expires_at <= ", O::TABLE))
        .param(now)
        .push(" OR last_seen_at <= ")
        .param(now - idle);
    Ok(db.execute_raw(sql.build()).await?.rows_affected())
}
