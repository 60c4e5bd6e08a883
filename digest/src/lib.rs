//! The unified log model of war-room, shared by every other crate.
//!
//! Owns: the digest record and change event (v1), their line codec, trace/span
//! ids, time (RFC 3339 with microseconds, and the `Clock` every time-driven piece
//! takes), the mergeable latency histogram and per-second rollups, and the sinks
//! that carry records out of a process.
//!
//! Must not: depend on any other war-room crate, or do I/O on the caller's hot
//! path without a bound (sinks queue, count drops, and never block a payment).

pub mod codec;
pub mod fields;
pub mod histogram;
pub mod ids;
mod json;
pub mod layer;
pub mod record;
pub mod recorder;
pub mod rollup;
pub mod sink;
pub mod time;

pub use codec::{
    decode_event, decode_line, decode_record, encode_event, encode_record, DecodeError, Line,
};
pub use fields::{
    EventField, FieldSpec, JsonType, Presence, RecordField, ValueType, EVENT_FIELDS, RECORD_FIELDS,
};
pub use histogram::Histogram;
pub use ids::{IdError, SpanId, TraceId};
pub use layer::DigestLayer;
pub use record::{ChangeEvent, ChangeKind, DigestRecord, Keys, SpanKind};
pub use recorder::Recorder;
pub use rollup::{RollupBuilder, SecondRollup, SeriesKey, SeriesStats};
pub use sink::{Sink, SinkStats};
pub use time::{
    format_rfc3339, parse_rfc3339, Clock, ManualClock, Micros, SharedClock, SystemClock,
};
