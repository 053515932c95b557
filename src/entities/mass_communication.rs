use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mass_communications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub subject: String,
    pub html: String,
    pub purpose: String,
    pub sender_name: Option<String>,
    pub sender_reply_to: Option<String>,
    pub recipients: String,
    pub link_validity_seconds: i64,
    pub status: String,
    pub created_by_staff_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub queued_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub pause_reason: Option<String>,
    pub outcomes_seen: i32,
    pub window_failures: i32,
    pub failure_streak: i32,
    pub send_at: Option<DateTimeUtc>,
    pub scheduled_by_staff_id: Option<i64>,
    pub schedule_problem: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
