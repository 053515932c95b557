//! Integration tests: the real app on port 0 with a fresh database, spoken to over HTTP.
//! Every test runs on SQLite and, when MEMBERKEY_TEST_POSTGRES_URL is set, on PostgreSQL.

mod helpers;

mod credentials;
mod dataloaders;
mod errors;
mod http_spec;
mod limits;
mod member_login;
mod profiles;
mod reveal;
mod schema_sdl;
mod search;
mod sessions;
mod staff;
