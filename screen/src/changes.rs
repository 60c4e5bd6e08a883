//! Change events and traces: `GET /api/changes` (a list of [`ChangeEvent`], newest
//! first) and `GET /api/traces/{id}` (every span of one trace, a list of [`TraceSpan`]
//! in start order). Both keep the field names of the v1 digest line.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What kind of change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Deploy,
    Config,
    Rule,
    Switch,
    Rollback,
}

impl ChangeKind {
    /// The JSON word.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Deploy => "deploy",
            ChangeKind::Config => "config",
            ChangeKind::Rule => "rule",
            ChangeKind::Switch => "switch",
            ChangeKind::Rollback => "rollback",
        }
    }
}

/// A deploy, config or rule change, switch or rollback (plan actions included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeEvent {
    /// RFC 3339 (UTC, microseconds).
    pub time: String,
    pub event: ChangeKind,
    pub service: String,
    /// The deployed version (empty when the change is not a deploy).
    pub version: String,
    pub detail: String,
    /// Who made the change (a person, `healer`, `ci`).
    pub by: String,
}

/// Which side of a call a span records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpanKind {
    /// The provider side.
    Server,
    /// The caller side.
    Client,
    /// A call out of the platform (a bank, a telco).
    Integrator,
    Internal,
}

impl SpanKind {
    /// The JSON word.
    pub fn as_str(self) -> &'static str {
        match self {
            SpanKind::Server => "server",
            SpanKind::Client => "client",
            SpanKind::Integrator => "integrator",
            SpanKind::Internal => "internal",
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One span of a trace: a v1 digest record. Text fields the record leaves empty are
/// absent from the JSON, as on the digest line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceSpan {
    /// RFC 3339 (UTC, microseconds): the span's start.
    pub time: String,
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// 16 hex digits; `None` for the trace's root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<String>,
    pub kind: SpanKind,
    pub service: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub instance: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub zone: String,
    pub operation: String,
    /// The other side: callee for client and integrator spans, caller for server spans.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub peer: String,
    pub duration_us: u64,
    pub success: bool,
    /// Business result code.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub code: String,
    /// Error class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scene: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub channel: String,
    /// Full-link stress-test traffic.
    #[serde(default, skip_serializing_if = "is_false")]
    pub shadow: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// Business keys (`user`, `merchant`, `account`, `bank`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub keys: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_cents: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_count: Option<u32>,
}
