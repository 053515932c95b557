//! Portal credential rows. Only metadata leaves this module; hashes stay inside.

use crate::store::StoreResult;
use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::sql::Sql;
use crate::domain::{CredentialInfo, PasswordSetBy, ProfileId, TokenHash};
use crate::entities::portal_credential;

pub(crate) fn to_info(m: portal_credential::Model) -> StoreResult<CredentialInfo> {
    Ok(CredentialInfo {
        profile_id: ProfileId::from_db(m.profile_id),
        username: m.username,
        password_is_set: m.password_hash.is_some(),
        password_set_by: m
            .password_set_by
            .map(|s| super::stored::<PasswordSetBy>("portal_credentials.password_set_by", &s))
            .transpose()?,
        password_changed_at: m.password_changed_at,
        must_change_password: m.must_change_password,
        last_login_at: m.last_login_at,
        failed_login_count: m.failed_login_count,
        locked_until: m.locked_until,
        disabled_at: m.disabled_at,
    })
}

/// Credential metadata for each profile that has a credential row.
pub async fn for_profiles(
    db: &impl ConnectionTrait,
    ids: &[ProfileId],
) -> StoreResult<HashMap<ProfileId, CredentialInfo>> {
    let rows = portal_credential::Entity::find()
        .filter(portal_credential::Column::ProfileId.is_in(ids.iter().map(|i| i.get())))
        .all(db)
        .await?;
    rows.into_iter()
        .map(|m| to_info(m).map(|c| (c.profile_id, c)))
        .collect()
}

/// The username of each of these profiles that has one. Reads nothing else, so mail goes out
/// even if another column holds a value this version cannot read.
pub async fn usernames(
    db: &impl ConnectionTrait,
    ids: &[ProfileId],
) -> StoreResult<HashMap<ProfileId, String>> {
    use sea_orm::QuerySelect;
    let rows: Vec<(i64, Option<String>)> = portal_credential::Entity::find()
        .select_only()
        .column(portal_credential::Column::ProfileId)
        .column(portal_credential::Column::Username)
        .filter(portal_credential::Column::ProfileId.is_in(ids.iter().map(|i| i.get())))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, name)| Some((ProfileId::from_db(id), name?)))
        .collect())
}

/// What a sign-in needs: the hash, the lock state and whether the credential is switched on.
/// Never leaves the services layer.
pub struct LoginRecord {
    pub profile_id: ProfileId,
    pub password_hash: Option<String>,
    pub locked_until: Option<chrono::DateTime<chrono::Utc>>,
    pub disabled: bool,
    pub must_change_password: bool,
}

fn to_login(m: portal_credential::Model) -> LoginRecord {
    LoginRecord {
        profile_id: ProfileId::from_db(m.profile_id),
        password_hash: m.password_hash,
        locked_until: m.locked_until,
        disabled: m.disabled_at.is_some(),
        must_change_password: m.must_change_password,
    }
}

/// Whether the member must choose a new password before doing anything else. Read on every
/// member request, so a flag staff set takes effect at once; one primary-key lookup.
pub async fn must_change_password(db: &impl ConnectionTrait, id: ProfileId) -> StoreResult<bool> {
    use sea_orm::QuerySelect;
    let flag: Option<bool> = portal_credential::Entity::find_by_id(id.get())
        .select_only()
        .column(portal_credential::Column::MustChangePassword)
        .into_tuple()
        .one(db)
        .await?;
    Ok(flag.unwrap_or(false))
}

/// Which of these profiles have a credential staff switched off.
pub async fn switched_off(
    db: &impl ConnectionTrait,
    ids: &[ProfileId],
) -> StoreResult<Vec<ProfileId>> {
    use sea_orm::QuerySelect;
    let rows: Vec<i64> = portal_credential::Entity::find()
        .select_only()
        .column(portal_credential::Column::ProfileId)
        .filter(portal_credential::Column::ProfileId.is_in(ids.iter().map(|i| i.get())))
        .filter(portal_credential::Column::DisabledAt.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(ProfileId::from_db).collect())
}

/// Switches a credential off (`Some(when)`) or on (`None`). `None` when there is no credential.
pub async fn set_disabled(
    db: &impl ConnectionTrait,
    id: ProfileId,
    disabled_at: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<Option<CredentialInfo>> {
    use sea_orm::{ActiveModelTrait, Set};
    let Some(existing) = portal_credential::Entity::find_by_id(id.get())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let mut m: portal_credential::ActiveModel = existing.into();
    m.disabled_at = Set(disabled_at);
    m.updated_at = Set(now);
    to_info(m.update(db).await?).map(Some)
}

pub async fn get(db: &impl ConnectionTrait, id: ProfileId) -> StoreResult<Option<CredentialInfo>> {
    portal_credential::Entity::find_by_id(id.get())
        .one(db)
        .await?
        .map(to_info)
        .transpose()
}

pub async fn login_by_profile(
    db: &impl ConnectionTrait,
    id: ProfileId,
) -> StoreResult<Option<LoginRecord>> {
    Ok(portal_credential::Entity::find_by_id(id.get())
        .one(db)
        .await?
        .map(to_login))
}

/// The credential whose username has this key.
pub async fn login_by_username(
    db: &impl ConnectionTrait,
    username_key: &str,
) -> StoreResult<Option<LoginRecord>> {
    Ok(portal_credential::Entity::find()
        .filter(portal_credential::Column::UsernameKey.eq(username_key))
        .one(db)
        .await?
        .map(to_login))
}

/// The credentials of every profile whose email has this key: an organisation and its
/// people often share one address.
pub async fn logins_by_email(
    db: &impl ConnectionTrait,
    email_key: &str,
) -> StoreResult<Vec<LoginRecord>> {
    let ids: Vec<i64> = super::profiles::ids_by_email(db, email_key)
        .await?
        .into_iter()
        .map(|p| p.get())
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(portal_credential::Entity::find()
        .filter(portal_credential::Column::ProfileId.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(to_login)
        .collect())
}

pub async fn username_owner(
    db: &impl ConnectionTrait,
    username_key: &str,
) -> StoreResult<Option<ProfileId>> {
    Ok(portal_credential::Entity::find()
        .filter(portal_credential::Column::UsernameKey.eq(username_key))
        .one(db)
        .await?
        .map(|m| ProfileId::from_db(m.profile_id)))
}

/// A change to a credential row. `None` leaves a part as it is.
pub struct CredentialChange {
    pub username: Option<(String, String)>,
    pub password: Option<NewPassword>,
    pub must_change_password: Option<bool>,
}

/// A new password hash and who set it. `sealed` is the staff-assigned password sealed for
/// the view-passwords right, or `None`.
pub struct NewPassword {
    pub hash: String,
    pub set_by: crate::domain::PasswordSetBy,
    pub sealed: Option<String>,
}

/// Creates or updates the credential row. A new password clears the failure counter and lock.
pub async fn upsert(
    db: &impl ConnectionTrait,
    id: ProfileId,
    change: CredentialChange,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<CredentialInfo> {
    use sea_orm::{ActiveModelTrait, Set};
    let existing = portal_credential::Entity::find_by_id(id.get())
        .one(db)
        .await?;
    let is_new = existing.is_none();
    let mut m: portal_credential::ActiveModel = match existing {
        Some(m) => m.into(),
        None => portal_credential::ActiveModel {
            profile_id: Set(id.get()),
            username: Set(None),
            username_key: Set(None),
            password_hash: Set(None),
            password_set_by: Set(None),
            sealed_password: Set(None),
            password_changed_at: Set(None),
            must_change_password: Set(false),
            last_login_at: Set(None),
            failed_login_count: Set(0),
            locked_until: Set(None),
            disabled_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        },
    };
    if let Some((display, key)) = change.username {
        m.username = Set(Some(display));
        m.username_key = Set(Some(key));
    }
    let password_changed = change.password.is_some();
    if let Some(pw) = change.password {
        m.password_hash = Set(Some(pw.hash));
        m.password_set_by = Set(Some(pw.set_by.as_db().to_owned()));
        m.sealed_password = Set(pw.sealed);
        m.password_changed_at = Set(Some(now));
        m.failed_login_count = Set(0);
        m.locked_until = Set(None);
    }
    if let Some(flag) = change.must_change_password {
        m.must_change_password = Set(flag);
    }
    m.updated_at = Set(now);
    // The key is the profile's ID, chosen by us, so `save` cannot tell new from old.
    let model = if is_new {
        m.insert(db).await?
    } else {
        m.update(db).await?
    };
    if password_changed {
        // Any outstanding set-password link would otherwise overwrite the new password.
        super::links::invalidate_for(db, super::links::LinkOwner::Member(id), now).await?;
    }
    to_info(model)
}

pub async fn remove(db: &impl ConnectionTrait, id: ProfileId) -> StoreResult<bool> {
    Ok(portal_credential::Entity::delete_by_id(id.get())
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// Counts one failed sign-in (from any client) in a single UPDATE, so concurrent failures
/// never lose a count, and starts the account's ceiling lock (`locked_until`) when the count
/// reaches `threshold`. A lock that has ended starts the count over at 1, so a lock's end is
/// a clean slate. Returns the new count.
pub async fn record_failure(
    db: &impl ConnectionTrait,
    id: ProfileId,
    threshold: i32,
    lock_until: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<i32> {
    let mut sql = Sql::new(db.get_database_backend());
    // Every SET expression reads the row as it was before this update.
    sql.push("UPDATE portal_credentials SET failed_login_count = CASE WHEN locked_until IS NOT NULL AND locked_until <= ")
        .param(now)
        .push(" THEN 1 ELSE failed_login_count + 1 END, locked_until = CASE WHEN locked_until IS NOT NULL AND locked_until <= ")
        .param(now)
        .push(" THEN (CASE WHEN 1 >= ")
        .param(threshold)
        .push(" THEN ")
        .param(lock_until)
        .push(" ELSE NULL END) WHEN locked_until IS NULL AND failed_login_count + 1 >= ")
        .param(threshold)
        .push(" THEN ")
        .param(lock_until)
        .push(" ELSE locked_until END, updated_at = ")
        .param(now)
        .push(" WHERE profile_id = ")
        .param(id.get())
        .push(" RETURNING failed_login_count");
    let row = db
        .query_one_raw(sql.build())
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("credential".into()))?;
    Ok(row.try_get::<i32>("", "failed_login_count")?)
}

/// The end of the account's ceiling lock, if it has one (past or not).
pub async fn locked_until(
    db: &impl ConnectionTrait,
    id: ProfileId,
) -> StoreResult<Option<chrono::DateTime<chrono::Utc>>> {
    use sea_orm::QuerySelect;
    let until: Option<Option<chrono::DateTime<chrono::Utc>>> =
        portal_credential::Entity::find_by_id(id.get())
            .select_only()
            .column(portal_credential::Column::LockedUntil)
            .into_tuple()
            .one(db)
            .await?;
    Ok(until.flatten())
}

/// Why a lock is being cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClearLock {
    /// A successful sign-in: also records the sign-in time.
    SignedIn,
    /// A staff user unlocked the account.
    Unlocked,
}

/// Resets the failure counter and lock.
pub async fn clear_lock(
    db: &impl ConnectionTrait,
    id: ProfileId,
    why: ClearLock,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<()> {
    use sea_orm::sea_query::Expr;
    let stamp = match why {
        ClearLock::SignedIn => portal_credential::Column::LastLoginAt,
        ClearLock::Unlocked => portal_credential::Column::UpdatedAt,
    };
    portal_credential::Entity::update_many()
        .col_expr(portal_credential::Column::FailedLoginCount, Expr::value(0))
        .col_expr(
            portal_credential::Column::LockedUntil,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .col_expr(stamp, Expr::value(now))
        .filter(portal_credential::Column::ProfileId.eq(id.get()))
        .exec(db)
        .await?;
    Ok(())
}

/// The sealed copy of a staff-assigned password still in force, if any.
pub async fn sealed_password(
    db: &impl ConnectionTrait,
    id: ProfileId,
) -> StoreResult<Option<String>> {
    let row = portal_credential::Entity::find_by_id(id.get())
        .one(db)
        .await?;
    Ok(row
        .filter(|m| m.password_set_by.as_deref() == Some(PasswordSetBy::Staff.as_db()))
        .and_then(|m| m.sealed_password))
}

/// Replaces the hash of the same password (a rehash with new parameters); nothing else changes.
pub async fn replace_hash(
    db: &impl ConnectionTrait,
    id: ProfileId,
    hash: String,
) -> StoreResult<()> {
    use sea_orm::sea_query::Expr;
    portal_credential::Entity::update_many()
        .col_expr(portal_credential::Column::PasswordHash, Expr::value(hash))
        .filter(portal_credential::Column::ProfileId.eq(id.get()))
        .exec(db)
        .await?;
    Ok(())
}

/// The address the mail that carried this member link was sent to; `None` for a link that
/// never went by mail (for the phone, or a short code).
pub async fn link_mailed_to(
    db: &impl ConnectionTrait,
    token: &TokenHash,
) -> StoreResult<Option<String>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "SELECT o.to_address FROM credential_tokens t JOIN outbound_emails o \
         ON o.id = t.outbound_email_id WHERE t.token_hash = ",
    )
    .param(token.as_str());
    Ok(match db.query_one_raw(sql.build()).await? {
        Some(r) => r.try_get("", "to_address")?,
        None => None,
    })
}

/// Records that the member read mail at the address with this search key (they used a link
/// sent there).
pub async fn set_email_verified(
    db: &impl ConnectionTrait,
    profile: ProfileId,
    address_key: &str,
) -> StoreResult<()> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("UPDATE portal_credentials SET email_verified_key = ")
        .param(address_key)
        .push(" WHERE profile_id = ")
        .param(profile.get());
    db.execute_raw(sql.build()).await?;
    Ok(())
}
