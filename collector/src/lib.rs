//! collector: the front door. Takes digest records in (HTTP digest lines, OTLP/HTTP,
//! SOFATracer and digest log files, change events), validates them, makes them
//! durable in a write-ahead buffer, pre-aggregates them per second and stores them
//! (embedded default or ClickHouse).
//!
//! Flow: `http` (edge) / `sources` (decoders) → [`Pipeline`] (`wal` → `dedup` →
//! `preagg` → `store`) → `bus` (subscriptions for the analyzer).
//!
//! Must not: depend on the analyzer or any crate above it; lose a record it acknowledged.
#[cfg(feature = "bench")]
pub mod bench;
pub mod bus;
pub mod config;
pub mod dedup;
pub mod error;
pub mod fasthash;
pub mod http;
pub mod lines;
pub mod metrics;
pub mod pipeline;
pub mod preagg;
pub mod scan;
pub mod sources;
pub mod store;
pub mod wal;

pub use bus::{Bus, Subscription};
pub use config::{FsyncPolicy, Limits, PipelineConfig};
pub use error::{IngestError, OpenError};
pub use pipeline::{Pipeline, Receipt};
pub use store::embedded::{EmbeddedConfig, EmbeddedStore};
pub use store::{RecordQuery, Store, StoreError};
