//! Ingest sources: everything that turns bytes from outside into digest records
//! and change events. Each source is pure decoding or a small driver; the
//! pipeline (validation, write-ahead buffer, stores) lies downstream.
//!
//! Imports run one way: `otlp` (entry, answers) → `otlp_json` (JSON bodies) →
//! `otlp_json_attrs` (attributes) → `otlp_json_lenient` (scalars); `otlp` →
//! `otlp_map` (spans onto records); all of them → `otlp_proto` (wire types).
//! `tail` → `sofa` → `sofa_fields`; `tail` → `tail_checkpoint` → `sofa` (its
//! hash); `tail_sink` → `tail` → `tail_stats`.

pub(crate) mod otlp;
mod otlp_json;
mod otlp_json_attrs;
mod otlp_json_lenient;
mod otlp_map;
pub mod otlp_proto;
pub(crate) mod sofa;
mod sofa_fields;
pub(crate) mod tail;
mod tail_checkpoint;
mod tail_sink;
mod tail_stats;
