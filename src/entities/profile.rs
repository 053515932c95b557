use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "profiles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub organization_name: Option<String>,
    pub email: Option<String>,
    pub member_status: String,
    pub parent_id: Option<i64>,
    pub email_opt_out: bool,
    pub email_opt_out_at: Option<DateTimeUtc>,
    pub email_opt_out_via: Option<String>,
    pub first_name_key: Option<String>,
    pub last_name_key: Option<String>,
    pub organization_name_key: Option<String>,
    pub email_key: Option<String>,
    pub external_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
