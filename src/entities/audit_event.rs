use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub occurred_at: DateTimeUtc,
    pub action: String,
    pub actor_kind: String,
    pub actor_staff_id: Option<i64>,
    pub actor_profile_id: Option<i64>,
    pub profile_id: Option<i64>,
    pub target_staff_id: Option<i64>,
    pub client_ip: Option<String>,
    pub detail: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
