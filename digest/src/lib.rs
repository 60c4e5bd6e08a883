//! The unified log model of war-room, shared by every other crate.
//!
//! Owns: the digest record and change event (v1: [`DigestRecord`],
//! [`ChangeEvent`]), their field tables ([`RECORD_FIELDS`], [`EVENT_FIELDS`])
//! and line codec ([`encode_record`], [`decode_line`], …), trace/span ids, time
//! (RFC 3339 with microseconds, and the [`Clock`] every time-driven piece takes),
//! the mergeable latency [`Histogram`] and per-second rollups
//! ([`RollupBuilder`]), the two ways a process writes digests ([`DigestLayer`]
//! for `tracing` spans, [`Recorder`] for code that holds a call's fields), and
//! the [`Sink`]s that carry lines out of a process ([`FileSink`],
//! [`HttpShipper`], …).
//!
//! Must not: depend on any other war-room crate, or do I/O on the caller's hot
//! path without a bound (sinks queue, count drops, and never block a payment).
//!
//! # Writing digests from your own Rust service
//!
//! A service instrumented with `tracing` writes one v1 line per call span
//! through [`DigestLayer`]: give it a [`Sink`] (a rolling [`FileSink`], an
//! [`HttpShipper`] posting to a collector's `/v1/digest`, …), a [`Clock`] and
//! the instance name, install it, and open a span with target `"digest"` around
//! each handler. The span's fields are the record's (see [`DigestLayer`] for the
//! full list); fields declared `Empty` can be recorded when the outcome is
//! known. Closing the span writes the line. `digest/examples/pay_service/` is a
//! small tokio service written this way.
//!
//! ```
//! use digest::{DigestLayer, MemorySink, SpanId, SpanKind, SystemClock};
//! use std::sync::Arc;
//! use tracing::field::Empty;
//!
//! let sink = Arc::new(MemorySink::new());
//! let layer = DigestLayer::new(sink.clone(), Arc::new(SystemClock), "checkout-1");
//! let _installed = tracing::subscriber::set_default(digest::subscriber(layer));
//!
//! let span = tracing::info_span!(target: "digest", "call",
//!     kind = "server", service = "checkout", operation = "POST /pay", peer = "web",
//!     trace_id = 0x4bf92f3577b34da6a3ce929d0e0e4736_u128, span_id = 0xb7_u64,
//!     parent_span_id = 0xa1_u64, key.user = "u42", code = Empty, success = Empty);
//! span.in_scope(|| {
//!     // … the handler's work …
//!     span.record("code", "SUCCESS");
//!     span.record("success", true);
//! });
//! drop(span);
//!
//! let (service, line) = &sink.lines()[0];
//! let record = digest::decode_record(line).unwrap();
//! assert_eq!(service, "checkout");
//! assert_eq!(record.kind, SpanKind::Server);
//! assert_eq!(record.parent_span_id, Some(SpanId(0xa1)));
//! assert_eq!(record.key("user"), Some("u42"));
//! ```

mod codec;
mod fields;
mod histogram;
mod ids;
mod json;
mod layer;
mod record;
mod recorder;
mod rollup;
mod sink;
mod time;

pub use codec::{
    decode_event, decode_line, decode_record, encode_event, encode_record, event_to_line,
    record_to_line, DecodeError, Line,
};
pub use fields::{
    EventField, FieldSpec, JsonType, Presence, RecordField, ValueType, EVENT_FIELDS, RECORD_FIELDS,
};
pub use histogram::Histogram;
pub use ids::{IdError, SpanId, TraceId};
pub use layer::{subscriber, DigestLayer};
pub use record::{ChangeEvent, ChangeKind, DigestRecord, Keys, SpanKind};
pub use recorder::{Call, ClientHalf, Outcome, Recorder, MAX_KEYS};
pub use rollup::{RollupBuilder, SecondRollup, SeriesKey, SeriesStats};
pub use sink::{
    DiscardSink, FanoutSink, FileSink, FileSinkConfig, HttpShipper, HttpShipperConfig, MemorySink,
    Sink, SinkError, SinkStats,
};
pub use time::{
    format_rfc3339, parse_rfc3339, Clock, ManualClock, Micros, SharedClock, SystemClock, TimeError,
};
