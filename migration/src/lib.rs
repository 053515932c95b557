//! Database migrations for memberkey. They run unchanged on SQLite and PostgreSQL; the few
//! backend-specific statements (search indexes) branch on the backend explicitly.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_create_core_tables;
mod m20261127_000002_create_profile_search;
mod m20261127_000003_link_tokens_to_mail;
mod m20261129_000004_mark_handed_over;
mod m20261130_000005_housekeeping_indexes;
mod m20261201_000006_disable_credentials;
mod m20261201_000007_delivery_pause;
mod m20261202_000008_provider_feedback;
mod m20261202_000009_staff_accounts;
mod m20261202_000010_import_and_impersonation;
mod m20261202_000011_staff_password_links;
mod m20261204_000012_delivery_throughput;
mod m20261206_000013_step_up_and_lockout;
mod m20261207_000014_staff_link_purpose;
mod m20261208_000015_openid_connect;
mod m20261209_000016_unsubscribe;
mod m20261210_000017_mail_sender;
mod m20261211_000018_queue_wal;
mod m20261212_000019_scheduled_sends;
mod m20261213_000020_queue_indexes;

/// Applies every memberkey migration in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_create_core_tables::Migration),
            Box::new(m20261127_000002_create_profile_search::Migration),
            Box::new(m20261127_000003_link_tokens_to_mail::Migration),
            Box::new(m20261129_000004_mark_handed_over::Migration),
            Box::new(m20261130_000005_housekeeping_indexes::Migration),
            Box::new(m20261201_000006_disable_credentials::Migration),
            Box::new(m20261201_000007_delivery_pause::Migration),
            Box::new(m20261202_000008_provider_feedback::Migration),
            Box::new(m20261202_000009_staff_accounts::Migration),
            Box::new(m20261202_000010_import_and_impersonation::Migration),
            Box::new(m20261202_000011_staff_password_links::Migration),
            Box::new(m20261204_000012_delivery_throughput::Migration),
            Box::new(m20261206_000013_step_up_and_lockout::Migration),
            Box::new(m20261207_000014_staff_link_purpose::Migration),
            Box::new(m20261208_000015_openid_connect::Migration),
            Box::new(m20261209_000016_unsubscribe::Migration),
            Box::new(m20261210_000017_mail_sender::Migration),
            Box::new(m20261211_000018_queue_wal::Migration),
            Box::new(m20261212_000019_scheduled_sends::Migration),
            Box::new(m20261213_000020_queue_indexes::Migration),
        ]
    }
}
