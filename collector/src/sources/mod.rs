//! Ingest sources: everything that turns bytes from outside into digest records
//! and change events. Each source is pure decoding or a small driver; the
//! pipeline (validation, write-ahead buffer, stores) lies downstream.

pub(crate) mod otlp;
mod otlp_json;
mod otlp_json_attrs;
mod otlp_json_lenient;
pub mod otlp_proto;
pub(crate) mod sofa;
mod sofa_fields;
pub(crate) mod tail;
mod tail_checkpoint;
mod tail_sink;
