//! memberkey: the credentials back end of an association's Members Only portal.
//!
//! Layers, outermost first: `http` → `graphql` → `services` → `store` → `entities`, with
//! `domain` used by all, and `mail` below both `services` and `delivery`. ARCHITECTURE.md
//! describes each layer, the allowed arrows (checked by `scripts/check-layers.sh`) and where
//! to add a feature.
#![warn(unreachable_pub)]
// Outside tests a failure is a coded error, never a panic.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod app;
pub mod backup;
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
pub mod logsafe;
pub mod mail;
pub mod periodic;
pub mod services;
pub mod store;

pub use app::{App, RunningApp};
pub use config::Config;
