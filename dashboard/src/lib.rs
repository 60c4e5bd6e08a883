//! dashboard: the server side of the war-room screen.
//!
//! Owns: serving the Leptos wasm bundle (`dist/`, built by `scripts/build-dashboard`),
//! the JSON API under `/api/`, the live stream (`GET /api/stream`, SSE), users, roles,
//! sessions, CSRF protection and the audit log of every action.
//!
//! Does not own any figure it shows: everything comes through [`DashboardBackend`],
//! which the root `warroom up` wiring implements from the analyzer, SLA, alerts and
//! healer. [`RecordBackend`] is a self-contained backend over raw digest records
//! (figures, topology, traces) for tests and for running before that wiring exists.
//! Nothing depends on this crate except the root binary.

pub mod api;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod backend;
pub mod config;
pub mod error;
pub mod records;
pub mod server;
pub mod stream;

pub use audit::{Audit, AuditEntry};
pub use auth::{
    hash_password, hash_password_with, verify_password, Role, Session, SessionStore, Users,
};
pub use backend::{
    ActionFuture, Actor, BackendError, BackendResult, DashboardBackend, DrillRequest, Health,
    Overview, SceneStatus, SilenceRequest, Topology, TopologyEdge, TopologyNode,
};
pub use config::{DashboardConfig, UserConfig};
pub use error::DashboardError;
pub use records::RecordBackend;
pub use server::{default_dist_dir, Dashboard, DashboardOptions, FirstAdmin};
