//! Integration tests: the real app on port 0 with a fresh database, spoken to over HTTP.
//! Every test runs on SQLite and, when MEMBERKEY_TEST_POSTGRES_URL is set, on PostgreSQL.

mod helpers;
#[path = "../support/mod.rs"]
mod support;

mod attacks;
mod browser;
mod campaigns;
mod claim_ahead;
mod clients;
mod console;
mod console_api;
mod console_logins;
mod console_staff_link;
mod credentials;
mod dataloaders;
mod delivery;
mod delivery_pause;
mod errors;
mod feedback;
mod graphiql;
mod housekeeping;
mod http_spec;
mod impersonation;
mod imported;
mod in_process;
mod leases;
mod limits;
mod lockout;
mod mass;
mod mass_pause;
mod mass_scale;
mod member_login;
mod member_pages;
mod member_pages_browser;
mod portal_logins;
mod profile_import;
mod profiles;
mod progress;
mod rate_limits;
mod resets;
mod reveal;
mod schema_sdl;
mod search;
mod second_factor;
mod ses;
mod sessions;
mod short_code;
mod sign_in_rules;
mod staff;
mod staff_password;
mod staff_password_reset;
mod staff_sessions;
mod step_up;
mod stored;
mod ws;
