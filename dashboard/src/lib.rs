//! dashboard: the server side of the war-room screen.
//!
//! Owns: serving the Leptos wasm bundle (`dist/`, built by `scripts/build-dashboard`),
//! the JSON API under `/api/` (with the commander's levers on an incident: its plans,
//! run, undo, resolve), the live stream (`GET /api/stream`, SSE), users, roles, sessions,
//! CSRF protection and the audit log of every action.
//!
//! Does not own any figure it shows: everything comes through [`DashboardBackend`],
//! typed with the `screen` crate (the contract the wasm app reads too), which the root
//! `warroom up` wiring implements from the analyzer, SLA, alerts, healer and the
//! collector's store. Nothing depends on this crate except the root binary.

pub mod api;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod backend;
pub mod config;
pub mod error;
mod levers;
pub mod server;
pub mod stream;

pub use audit::{Audit, AuditEntry};
pub use auth::{
    hash_password, hash_password_with, verify_password, Role, Session, SessionStore, Users,
};
pub use backend::{
    ActionFuture, Actor, BackendError, BackendFuture, BackendResult, DashboardBackend,
};
pub use config::{DashboardConfig, UserConfig};
pub use error::DashboardError;
pub use server::{default_dist_dir, Dashboard, DashboardOptions, FirstAdmin};
