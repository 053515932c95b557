//! Profile rows.

use crate::store::StoreResult;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::sql::Sql;
use crate::domain::{self, MemberStatus, ProfileFilter, ProfileId, ProfileKind, search_key};
use crate::entities::profile;

/// The stored fields of a profile, already validated by the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileFields {
    pub kind: ProfileKind,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub organization_name: Option<String>,
    pub email: Option<String>,
    pub member_status: MemberStatus,
    pub parent_id: Option<ProfileId>,
    pub email_opt_out: bool,
}

impl ProfileFields {
    pub fn from_record(p: &domain::Profile) -> Self {
        Self {
            kind: p.kind,
            first_name: p.first_name.clone(),
            last_name: p.last_name.clone(),
            organization_name: p.organization_name.clone(),
            email: p.email.clone(),
            member_status: p.member_status,
            parent_id: p.parent_id,
            email_opt_out: p.email_opt_out,
        }
    }

    fn apply(&self, m: &mut profile::ActiveModel) {
        let key = |v: &Option<String>| v.as_deref().map(search_key);
        m.kind = Set(self.kind.as_db().to_owned());
        m.first_name = Set(self.first_name.clone());
        m.last_name = Set(self.last_name.clone());
        m.organization_name = Set(self.organization_name.clone());
        m.email = Set(self.email.clone());
        m.member_status = Set(self.member_status.as_db().to_owned());
        m.parent_id = Set(self.parent_id.map(ProfileId::get));
        m.email_opt_out = Set(self.email_opt_out);
        if !self.email_opt_out {
            // When and how belong to an opt-out; cleared, it has neither.
            m.email_opt_out_at = Set(None);
            m.email_opt_out_via = Set(None);
        }
        m.first_name_key = Set(key(&self.first_name));
        m.last_name_key = Set(key(&self.last_name));
        m.organization_name_key = Set(key(&self.organization_name));
        m.email_key = Set(key(&self.email));
    }
}

pub(crate) fn to_record(m: profile::Model) -> StoreResult<domain::Profile> {
    Ok(domain::Profile {
        id: ProfileId::from_db(m.id),
        kind: super::stored("profiles.kind", &m.kind)?,
        first_name: m.first_name,
        last_name: m.last_name,
        organization_name: m.organization_name,
        email: m.email,
        member_status: super::stored("profiles.member_status", &m.member_status)?,
        parent_id: m.parent_id.map(ProfileId::from_db),
        email_opt_out: m.email_opt_out,
        email_opt_out_at: m.email_opt_out_at,
        email_opt_out_via: m
            .email_opt_out_via
            .as_deref()
            .map(|v| super::stored("profiles.email_opt_out_via", v))
            .transpose()?,
        external_id: m.external_id,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

pub(crate) fn to_records(models: Vec<profile::Model>) -> StoreResult<Vec<domain::Profile>> {
    models.into_iter().map(to_record).collect()
}

pub async fn get(db: &impl ConnectionTrait, id: ProfileId) -> StoreResult<Option<domain::Profile>> {
    profile::Entity::find_by_id(id.get())
        .one(db)
        .await?
        .map(to_record)
        .transpose()
}

/// Every profile whose email has this key (an organisation and its people often share one),
/// in ID order.
pub async fn ids_by_email(
    db: &impl ConnectionTrait,
    email_key: &str,
) -> StoreResult<Vec<ProfileId>> {
    use sea_orm::QueryOrder;
    Ok(profile::Entity::find()
        .filter(profile::Column::EmailKey.eq(email_key))
        .order_by_asc(profile::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|p| ProfileId::from_db(p.id))
        .collect())
}

/// The update that opts profiles out of news, recording when and how.
fn opting_out(via: domain::OptOutVia, now: DateTime<Utc>) -> sea_orm::UpdateMany<profile::Entity> {
    use sea_orm::sea_query::Expr;
    profile::Entity::update_many()
        .col_expr(profile::Column::EmailOptOut, Expr::value(true))
        .col_expr(profile::Column::EmailOptOutAt, Expr::value(now))
        .col_expr(profile::Column::EmailOptOutVia, Expr::value(via.as_db()))
        .col_expr(profile::Column::UpdatedAt, Expr::value(now))
}

/// Opts one profile out of news, recording when and how; false when it already was.
pub async fn opt_out(
    db: &impl ConnectionTrait,
    id: ProfileId,
    via: domain::OptOutVia,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let changed = opting_out(via, now)
        .filter(profile::Column::Id.eq(id.get()))
        .filter(profile::Column::EmailOptOut.eq(false))
        .exec(db)
        .await?;
    Ok(changed.rows_affected > 0)
}

/// Records when and how a profile that is opted out came to be; returns the profile.
pub async fn record_opt_out(
    db: &impl ConnectionTrait,
    id: ProfileId,
    via: domain::OptOutVia,
    now: DateTime<Utc>,
) -> StoreResult<domain::Profile> {
    let m = profile::ActiveModel {
        id: Set(id.get()),
        email_opt_out_at: Set(Some(now)),
        email_opt_out_via: Set(Some(via.as_db().to_owned())),
        ..Default::default()
    }
    .update(db)
    .await?;
    to_record(m)
}

/// Opts every profile with this address out of news; returns those it changed.
pub async fn opt_out_by_email(
    db: &impl ConnectionTrait,
    email_key: &str,
    via: domain::OptOutVia,
    now: DateTime<Utc>,
) -> StoreResult<Vec<ProfileId>> {
    let ids: Vec<i64> = profile::Entity::find()
        .select_only()
        .column(profile::Column::Id)
        .filter(profile::Column::EmailKey.eq(email_key))
        .filter(profile::Column::EmailOptOut.eq(false))
        .into_tuple()
        .all(db)
        .await?;
    if !ids.is_empty() {
        opting_out(via, now)
            .filter(profile::Column::Id.is_in(ids.clone()))
            .exec(db)
            .await?;
    }
    Ok(ids.into_iter().map(ProfileId::from_db).collect())
}

pub async fn get_many(
    db: &impl ConnectionTrait,
    ids: &[ProfileId],
) -> StoreResult<HashMap<ProfileId, domain::Profile>> {
    let rows = profile::Entity::find()
        .filter(profile::Column::Id.is_in(ids.iter().map(|i| i.get())))
        .all(db)
        .await?;
    to_records(rows).map(|v| v.into_iter().map(|p| (p.id, p)).collect())
}

/// The related profiles (children) of each parent, ordered by ID.
pub async fn children_of(
    db: &impl ConnectionTrait,
    parents: &[ProfileId],
) -> StoreResult<HashMap<ProfileId, Vec<domain::Profile>>> {
    let rows = profile::Entity::find()
        .filter(profile::Column::ParentId.is_in(parents.iter().map(|i| i.get())))
        .order_by_asc(profile::Column::Id)
        .all(db)
        .await?;
    let mut out: HashMap<ProfileId, Vec<domain::Profile>> = HashMap::new();
    for p in to_records(rows)? {
        if let Some(parent) = p.parent_id {
            out.entry(parent).or_default().push(p);
        }
    }
    Ok(out)
}

pub async fn has_children(db: &impl ConnectionTrait, id: ProfileId) -> StoreResult<bool> {
    Ok(profile::Entity::find()
        .filter(profile::Column::ParentId.eq(id.get()))
        .one(db)
        .await?
        .is_some())
}

/// Deletes a profile. Its credential, sessions, links, site grants and codes go with it
/// (ON DELETE CASCADE); its people lose their organisation and its messages their profile
/// (SET NULL). Returns whether it existed.
pub async fn delete(db: &impl ConnectionTrait, id: ProfileId) -> StoreResult<bool> {
    Ok(profile::Entity::delete_by_id(id.get())
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

pub async fn insert(
    db: &impl ConnectionTrait,
    fields: &ProfileFields,
    now: DateTime<Utc>,
) -> StoreResult<domain::Profile> {
    let mut m = profile::ActiveModel {
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    fields.apply(&mut m);
    to_record(m.insert(db).await?)
}

/// Inserts a profile brought over from another system, keeping that system's ID.
pub async fn insert_imported(
    db: &impl ConnectionTrait,
    external_id: &str,
    fields: &ProfileFields,
    now: DateTime<Utc>,
) -> StoreResult<domain::Profile> {
    let mut m = profile::ActiveModel {
        external_id: Set(Some(external_id.to_owned())),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    fields.apply(&mut m);
    to_record(m.insert(db).await?)
}

/// Refreshes the planner's statistics after a bulk load. Without it, PostgreSQL may still
/// believe the table is tiny and scan it whole for each lookup by external ID.
pub async fn analyze_after_bulk_load(db: &impl ConnectionTrait) -> StoreResult<()> {
    // SQLite plans these lookups by the index without statistics.
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        db.execute_unprepared("ANALYZE profiles, portal_credentials")
            .await?;
    }
    Ok(())
}

/// The profiles that carry these external IDs (from an earlier import).
pub async fn by_external_ids(
    db: &impl ConnectionTrait,
    external_ids: &[&str],
) -> StoreResult<Vec<domain::Profile>> {
    let rows = profile::Entity::find()
        .filter(profile::Column::ExternalId.is_in(external_ids.iter().copied()))
        .all(db)
        .await?;
    to_records(rows)
}

pub async fn update(
    db: &impl ConnectionTrait,
    id: ProfileId,
    fields: &ProfileFields,
    now: DateTime<Utc>,
) -> StoreResult<domain::Profile> {
    let mut m = profile::ActiveModel {
        id: sea_orm::Unchanged(id.get()),
        updated_at: Set(now),
        ..Default::default()
    };
    fields.apply(&mut m);
    to_record(m.update(db).await?)
}

pub async fn count_all(db: &impl ConnectionTrait) -> StoreResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(profile::Entity::find().count(db).await?)
}

/// Appends ` AND …` for each filter set, on table alias `p`.
pub(crate) fn push_filter(sql: &mut Sql, filter: &ProfileFilter) {
    if let Some(kind) = filter.kind {
        sql.push(" AND p.kind = ").param(kind.as_db());
    }
    if let Some(status) = filter.member_status {
        sql.push(" AND p.member_status = ").param(status.as_db());
    }
    match filter.has_email {
        Some(true) => sql.push(" AND p.email_key IS NOT NULL"),
        Some(false) => sql.push(" AND p.email_key IS NULL"),
        None => sql,
    };
    let has_creds = "EXISTS (SELECT 1 FROM portal_credentials hc WHERE hc.profile_id = p.id \
                     AND (hc.username_key IS NOT NULL OR hc.password_hash IS NOT NULL))";
    match filter.has_credentials {
        Some(true) => sql.push(" AND ").push(has_creds),
        Some(false) => sql.push(" AND NOT ").push(has_creds),
        None => sql,
    };
    // Each is one lookup of the profile's credential row by its primary key.
    let credential = |condition: &str| {
        format!(
            "EXISTS (SELECT 1 FROM portal_credentials pc WHERE pc.profile_id = p.id AND {condition})"
        )
    };
    match filter.has_password {
        Some(true) => sql
            .push(" AND ")
            .push(&credential("pc.password_hash IS NOT NULL")),
        Some(false) => sql
            .push(" AND NOT ")
            .push(&credential("pc.password_hash IS NOT NULL")),
        None => sql,
    };
    match filter.signed_in {
        Some(true) => sql
            .push(" AND ")
            .push(&credential("pc.last_login_at IS NOT NULL")),
        Some(false) => sql
            .push(" AND NOT ")
            .push(&credential("pc.last_login_at IS NOT NULL")),
        None => sql,
    };
    if let Some(since) = filter.signed_in_since {
        sql.push(
            " AND EXISTS (SELECT 1 FROM portal_credentials pc WHERE pc.profile_id = p.id \
             AND pc.last_login_at >= ",
        )
        .param(since)
        .push(")");
    }
    if !filter.member_statuses.is_empty() {
        sql.push(" AND p.member_status IN (");
        sql.list(filter.member_statuses.iter().map(|status| status.as_db()));
        sql.push(")");
    }
    if let Some((follow_up, now)) = &filter.follow_up {
        // One lookup per profile on the unique (mass_communication_id, profile_id) index.
        sql.push(
            " AND EXISTS (SELECT 1 FROM outbound_emails o LEFT JOIN credential_tokens t ON t.id = \
             (SELECT MAX(l.id) FROM credential_tokens l WHERE l.outbound_email_id = o.id) \
             WHERE o.profile_id = p.id AND o.mass_communication_id = ",
        )
        .param(follow_up.communication.get());
        if !follow_up.delivery_statuses.is_empty() {
            sql.push(" AND o.status IN (");
            sql.list(
                follow_up
                    .delivery_statuses
                    .iter()
                    .map(|status| status.as_db()),
            );
            sql.push(")");
        }
        if !follow_up.link_states.is_empty() {
            sql.push(" AND (");
            for (i, state) in follow_up.link_states.iter().enumerate() {
                if i > 0 {
                    sql.push(" OR ");
                }
                sql.push("(");
                super::links::state::condition(sql, *state, *now);
                sql.push(")");
            }
            sql.push(")");
        }
        sql.push(")");
    }
}

/// A page of profiles in ID order after `after`, without a search term.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &ProfileFilter,
    after: Option<i64>,
    limit: u64,
) -> StoreResult<Vec<domain::Profile>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT p.* FROM profiles p WHERE 1 = 1");
    push_filter(&mut sql, filter);
    if let Some(after) = after {
        sql.push(" AND p.id > ").param(after);
    }
    sql.push(" ORDER BY p.id LIMIT ").param(limit as i64);
    to_records(
        profile::Entity::find()
            .from_raw_sql(sql.build())
            .all(db)
            .await?,
    )
}

/// How many profiles pass the filter.
pub async fn count(db: &impl ConnectionTrait, filter: &ProfileFilter) -> StoreResult<u64> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT COUNT(*) AS n FROM profiles p WHERE 1 = 1");
    push_filter(&mut sql, filter);
    scalar_count(db, sql).await
}

pub(crate) async fn scalar_count(db: &impl ConnectionTrait, sql: Sql) -> StoreResult<u64> {
    let row = db
        .query_one_raw(sql.build())
        .await?
        .ok_or_else(|| DbErr::Custom("COUNT returned no row".into()))?;
    let n: i64 = row.try_get("", "n")?;
    Ok(n.max(0) as u64)
}

/// Inserts `n` generated people, `{prefix}{i}` with address `{prefix}{i}@example.org`, in
/// multi-row batches. For load tests and benchmarks that need many recipients quickly.
pub async fn insert_generated_people(
    db: &impl ConnectionTrait,
    n: usize,
    prefix: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<()> {
    use sea_orm::Set;
    let all: Vec<usize> = (0..n).collect();
    for chunk in all.chunks(500) {
        let rows = chunk.iter().map(|i| {
            let name = format!("{prefix}{i}");
            let email = format!("{name}@example.org");
            profile::ActiveModel {
                kind: Set(ProfileKind::Individual.as_db().into()),
                first_name: Set(Some(name.clone())),
                last_name: Set(Some("Generated".into())),
                organization_name: Set(None),
                email: Set(Some(email.clone())),
                member_status: Set(MemberStatus::Active.as_db().into()),
                parent_id: Set(None),
                email_opt_out: Set(false),
                first_name_key: Set(Some(search_key(&name))),
                last_name_key: Set(Some("generated".into())),
                organization_name_key: Set(None),
                email_key: Set(Some(search_key(&email))),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
        });
        profile::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}
