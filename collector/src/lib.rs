//! collector: the front door. Takes digest records in (HTTP digest lines, OTLP/HTTP,
//! SOFATracer and digest log files, change events), validates them, makes them
//! durable in a write-ahead buffer, pre-aggregates them per second and stores them
//! (embedded default or ClickHouse).
//!
//! Must not: depend on the analyzer or any crate above it; lose a record it acknowledged.
pub mod error;
pub mod pipeline;
pub mod sources;
pub mod store;

pub use error::{IngestError, OpenError};
pub use pipeline::{Pipeline, Receipt};
