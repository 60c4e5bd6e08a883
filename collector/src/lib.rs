//! collector: the front door. Takes digest records in (HTTP digest lines, OTLP/HTTP,
//! SOFATracer and digest log files, change events), validates them, makes them
//! durable in a write-ahead buffer, pre-aggregates them per second and stores them
//! (embedded default or ClickHouse).
//!
//! Flow: `http` (edge) / `sources` (decoders) → [`Pipeline`] (`wal` → `dedup` →
//! `preagg` → `store`) → `bus` (subscriptions for the analyzer).
//!
//! What other crates use: [`Pipeline`] with its [`PipelineConfig`] and
//! [`Bus`] of subscriptions; [`serve_edge`] (the HTTP edge, guarded by an [`Edge`]:
//! bearer tokens per source, TLS, the loopback rule) and [`serve`] (open, loopback); the stores behind
//! [`Store`] ([`EmbeddedStore`], [`ClickHouseStore`]); the file [`Tailer`]; and
//! the pure decoders ([`decode_v1_line`], [`decode_otlp`], [`decode_sofa_line`]) and the
//! pre-aggregation of decoded records ([`RecordRollups`]) with their wire
//! types ([`otlp_proto`]). Benchmark and load-test tooling (`bench`) is built
//! only with the `bench` feature.
//!
//! Must not: depend on the analyzer or any crate above it; lose a record it acknowledged;
//! take a record without its source's token once tokens are set, or hold, log or render a
//! token (only their SHA-256 digests are kept).

#[cfg(feature = "bench")]
pub mod bench;
mod bus;
mod config;
mod dedup;
mod error;
mod fasthash;
mod http;
mod lines;
mod metrics;
mod pipeline;
mod preagg;
pub mod retention;
mod scan;
mod sources;
mod store;
#[cfg(test)]
mod test_lines;
mod wal;

pub use bus::{Bus, Subscription};
pub use config::{FsyncPolicy, Limits, PipelineConfig};
pub use error::{EdgeError, IngestError, OpenError};
pub use http::{
    serve, serve_edge, Edge, EdgeConfig, SourceToken, TlsFiles, INVALID_TOKEN, MIN_TOKEN_BYTES,
    UNAUTHENTICATED,
};
pub use pipeline::{Pipeline, Receipt};
pub use preagg::RecordRollups;
pub use sources::otlp::{
    decode_otlp, decode_otlp_with, export_response, throttled_response, KnownServices, OtlpBatch,
    OtlpError, OtlpFormat, OtlpOptions, OtlpResponse,
};
pub use sources::otlp_proto;
pub use sources::sofa::{
    decode_sofa_line, sofa_span_ids, sofa_trace_id, SofaError, SofaLine, SofaLogKind, SofaOptions,
    SofaStat,
};
pub use sources::tail::{
    BadLine, PollReport, SharedTailStats, TailBatch, TailConfig, TailError, TailSink, TailStats,
    Tailer,
};
pub use store::clickhouse::{ClickHouseConfig, ClickHouseStore};
pub use store::embedded::{EmbeddedConfig, EmbeddedStore};
pub use store::{BoxFuture, LineBatch, LineMeta, RecordQuery, RetentionStats, Store, StoreError};

/// One v1 line (a digest record or a change event) decoded as the ingest path decodes it:
/// the fast scanner, falling back to the strict reference decoder (`digest::decode_line`)
/// for anything unusual, so the answer is always the reference's. For readers of recorded
/// files (`warroom replay`) that must see exactly what live ingest would have seen.
pub fn decode_v1_line(line: &[u8]) -> Result<digest::Line, digest::DecodeError> {
    scan::decode_fast(line)
}
