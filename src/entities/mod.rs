//! SeaORM entities, one per table. They stay inside the server: GraphQL output types are
//! written by hand in `graphql/types`, so a new column is never public by accident.

pub mod audit_event;
pub mod credential_token;
pub mod delivery_pause;
pub mod email_suppression;
pub mod mass_communication;
pub mod member_session;
pub mod outbound_email;
pub mod portal_credential;
pub mod profile;
pub mod staff_password_token;
pub mod staff_recovery_code;
pub mod staff_right;
pub mod staff_second_factor;
pub mod staff_session;
pub mod staff_user;
