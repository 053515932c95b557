//! Staff users and their rights.

use crate::store::StoreResult;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::sql::Sql;
use crate::domain::{EmailAddress, Right, StaffUser, StaffUserId, Username};
use crate::entities::{staff_right, staff_user};

/// A staff user together with the stored hash, for sign-in only.
pub struct StaffLogin {
    pub user: StaffUser,
    pub password_hash: String,
}

fn to_record(m: staff_user::Model, rights: Vec<Right>, second_factor: bool) -> StaffUser {
    StaffUser {
        id: StaffUserId::from_db(m.id),
        username: m.username,
        email: m.email,
        active: m.active,
        rights,
        second_factor,
        created_at: m.created_at,
    }
}

/// The domain records of these rows, with their rights and second-factor state in two
/// queries however many rows there are.
async fn records(
    db: &impl ConnectionTrait,
    models: Vec<staff_user::Model>,
) -> StoreResult<Vec<StaffUser>> {
    let ids: Vec<i64> = models.iter().map(|u| u.id).collect();
    let mut rights = rights_of(db, &ids).await?;
    let factors = super::second_factor::enabled_among(db, &ids).await?;
    Ok(models
        .into_iter()
        .map(|u| {
            let r = rights.remove(&u.id).unwrap_or_default();
            let f = factors.contains(&u.id);
            to_record(u, r, f)
        })
        .collect())
}

async fn rights_of(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> StoreResult<HashMap<i64, Vec<Right>>> {
    let rows = staff_right::Entity::find()
        .filter(staff_right::Column::StaffUserId.is_in(ids.iter().copied()))
        .order_by_asc(staff_right::Column::Right)
        .all(db)
        .await?;
    let mut out: HashMap<i64, Vec<Right>> = HashMap::new();
    for r in rows {
        // A right this build does not know is logged and withheld (the safe side) rather
        // than failing every request of that staff user.
        match super::stored::<Right>("staff_rights.right", &r.right) {
            Ok(right) => out.entry(r.staff_user_id).or_default().push(right),
            Err(_) => continue,
        }
    }
    Ok(out)
}

pub async fn get(db: &impl ConnectionTrait, id: StaffUserId) -> StoreResult<Option<StaffUser>> {
    let Some(m) = staff_user::Entity::find_by_id(id.get()).one(db).await? else {
        return Ok(None);
    };
    Ok(records(db, vec![m]).await?.pop())
}

/// The usernames of these staff users, by ID; deleted ones are simply absent.
pub async fn usernames(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> StoreResult<HashMap<i64, String>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(i64, String)> = staff_user::Entity::find()
        .select_only()
        .column(staff_user::Column::Id)
        .column(staff_user::Column::Username)
        .filter(staff_user::Column::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// The first `limit` staff users in ID order.
pub async fn list(db: &impl ConnectionTrait, limit: u64) -> StoreResult<Vec<StaffUser>> {
    let users = staff_user::Entity::find()
        .order_by_asc(staff_user::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    records(db, users).await
}

pub async fn find_for_login(
    db: &impl ConnectionTrait,
    username: &Username,
) -> StoreResult<Option<StaffLogin>> {
    let Some(m) = staff_user::Entity::find()
        .filter(staff_user::Column::UsernameKey.eq(username.key()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let hash = m.password_hash.clone();
    let Some(user) = records(db, vec![m]).await?.pop() else {
        return Ok(None);
    };
    Ok(Some(StaffLogin {
        user,
        password_hash: hash,
    }))
}

pub async fn username_taken(db: &impl ConnectionTrait, username: &Username) -> StoreResult<bool> {
    Ok(staff_user::Entity::find()
        .filter(staff_user::Column::UsernameKey.eq(username.key()))
        .one(db)
        .await?
        .is_some())
}

pub async fn insert(
    db: &impl ConnectionTrait,
    username: &Username,
    email: Option<&EmailAddress>,
    password_hash: String,
    rights: &[Right],
    now: DateTime<Utc>,
) -> StoreResult<StaffUser> {
    let m = staff_user::ActiveModel {
        username: Set(username.as_str().to_owned()),
        email: Set(email.map(|e| e.as_str().to_owned())),
        username_key: Set(username.key().to_owned()),
        password_hash: Set(password_hash),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    replace_rights(db, StaffUserId::from_db(m.id), rights).await?;
    let mut sorted = rights.to_vec();
    sorted.sort_by_key(|r| r.as_str());
    sorted.dedup();
    Ok(to_record(m, sorted, false))
}

pub async fn replace_rights(
    db: &impl ConnectionTrait,
    id: StaffUserId,
    rights: &[Right],
) -> StoreResult<()> {
    staff_right::Entity::delete_many()
        .filter(staff_right::Column::StaffUserId.eq(id.get()))
        .exec(db)
        .await?;
    let mut unique = rights.to_vec();
    unique.sort();
    unique.dedup();
    if unique.is_empty() {
        return Ok(());
    }
    staff_right::Entity::insert_many(unique.into_iter().map(|r| staff_right::ActiveModel {
        staff_user_id: Set(id.get()),
        right: Set(r.as_str().to_owned()),
    }))
    .exec(db)
    .await?;
    Ok(())
}

/// Deactivates (`false`) or reactivates (`true`) a staff user.
pub async fn set_active(
    db: &impl ConnectionTrait,
    id: StaffUserId,
    active: bool,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    staff_user::ActiveModel {
        id: sea_orm::Unchanged(id.get()),
        active: Set(active),
        deactivated_at: Set((!active).then_some(now)),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// The active holders of a right. On PostgreSQL their rows are locked until the transaction
/// ends, so two staff cannot each remove "the other" last administrator at the same time.
/// (SQLite transactions that write begin as writers and are already serialised.)
pub async fn lock_active_holders(
    db: &impl ConnectionTrait,
    right: Right,
) -> StoreResult<Vec<StaffUserId>> {
    let backend = db.get_database_backend();
    let mut sql = Sql::new(backend);
    sql.push("SELECT u.id AS id FROM staff_users u JOIN staff_rights r ON r.staff_user_id = u.id WHERE u.active = ")
        .param(true)
        .push(" AND r.\"right\" = ")
        .param(right.as_str())
        .push(" ORDER BY u.id");
    if backend == DatabaseBackend::Postgres {
        sql.push(" FOR UPDATE");
    }
    let rows = db.query_all_raw(sql.build()).await?;
    rows.iter()
        .map(|r| r.try_get::<i64>("", "id").map(StaffUserId::from_db))
        .collect::<Result<_, _>>()
        .map_err(Into::into)
}

pub async fn count(db: &impl ConnectionTrait) -> StoreResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(staff_user::Entity::find().count(db).await?)
}

/// Replaces a staff user's password hash.
pub async fn set_password_hash(
    db: &impl ConnectionTrait,
    id: StaffUserId,
    password_hash: String,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    staff_user::ActiveModel {
        id: sea_orm::Unchanged(id.get()),
        password_hash: Set(password_hash),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// Records (or with `None`, removes) the address a staff user's set-password link goes to.
pub async fn set_email(
    db: &impl ConnectionTrait,
    id: StaffUserId,
    email: Option<&EmailAddress>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    staff_user::ActiveModel {
        id: sea_orm::Unchanged(id.get()),
        email: Set(email.map(|e| e.as_str().to_owned())),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}
