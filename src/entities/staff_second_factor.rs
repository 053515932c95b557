use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_second_factors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub staff_user_id: i64,
    pub pending_secret: Option<String>,
    pub secret: Option<String>,
    pub last_step: Option<i64>,
    pub enabled_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
    pub issued_challenges: Option<i64>,
    pub spent_challenge: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
