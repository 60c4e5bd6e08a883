//! Ingest sources: everything that turns bytes from outside into digest records
//! and change events. Each source is pure decoding or a small driver; the
//! pipeline (validation, write-ahead buffer, stores) lies downstream.

pub mod otlp;
pub mod otlp_json;
mod otlp_json_attrs;
mod otlp_json_lenient;
pub mod otlp_proto;
pub mod sofa;
mod sofa_fields;
pub mod tail;
pub mod tail_checkpoint;
pub mod tail_sink;
