use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbound_emails")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    pub mass_communication_id: Option<i64>,
    pub profile_id: Option<i64>,
    pub to_address: Option<String>,
    pub status: String,
    pub skip_reason: Option<String>,
    pub payload: Option<String>,
    pub credential_token_id: Option<i64>,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTimeUtc>,
    pub lease_until: Option<DateTimeUtc>,
    pub leased_by: Option<String>,
    pub provider_message_id: Option<String>,
    pub last_error: Option<String>,
    pub possible_duplicate: bool,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
