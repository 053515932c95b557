//! memberkey: the credentials back end of an association's Members Only portal.
//!
//! Layers, outermost first: `http` → `graphql` → `services` → `store` → `entities`, with
//! `domain` used by all. See DESIGN.md in the shared folder and CONTRIBUTING notes in the README.

pub mod app;
pub mod check;
pub mod config;
pub mod delivery;
pub mod demo;
pub mod domain;
pub mod entities;
pub mod error;
pub mod graphql;
pub mod housekeeping;
pub mod http;
pub mod mail;
pub mod services;
pub mod store;

pub use app::{App, RunningApp};
pub use config::Config;
