//! The v1 line codec: one JSON object per line, UTF-8, newline-terminated.
//!
//! Encoding ([`encode_record`], [`encode_event`]) is hand-written, with no
//! intermediate tree. Decoding ([`decode_line`]) is strict about the fields it
//! knows — a wrong type, a bad id or timestamp, or a missing required field is an
//! error that names the field — and ignores fields it does not know, as v1
//! requires. Both follow the field tables of [`crate::fields`]. Nothing here
//! panics on any input.

mod decode;
mod encode;

pub use decode::{decode_event, decode_line, decode_record};
pub use encode::{encode_event, encode_record, event_to_line, record_to_line};

use crate::record::{ChangeEvent, DigestRecord};
use std::fmt;

/// Why a line was refused. `field` names the offending field when there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DecodeError {
    pub field: Option<String>,
    pub reason: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "field `{field}`: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

impl DecodeError {
    fn field(field: &str, reason: impl fmt::Display) -> Self {
        Self {
            field: Some(field.to_string()),
            reason: reason.to_string(),
        }
    }
    /// A short, stable label for counting rejections by reason.
    pub fn label(&self) -> &'static str {
        if self.field.is_none() {
            return "malformed_json";
        }
        if self.reason.starts_with("missing") {
            "missing_field"
        } else {
            "invalid_field"
        }
    }
}

/// One decoded line: a call record or a change event.
// Records are nearly every line: boxing them would cost an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Record(DigestRecord),
    Event(ChangeEvent),
}

#[cfg(test)]
mod tests;
