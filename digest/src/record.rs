//! The digest record (v1) and the change event: one per service call, and one per
//! deploy, config push, rule change or plan action. Field names are fixed by
//! `ARCHITECTURE.md`; the JSON form is produced and read by [`crate::codec`].

use crate::ids::{SpanId, TraceId};
use crate::time::Micros;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Which side of a call a record describes. `Server` is the default only so
/// that `..Default::default()` works in builders and tests; the codec never
/// accepts a record without a kind.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum SpanKind {
    /// Provider side: the callee's view.
    #[default]
    Server,
    /// User side: the caller's view of a call to another platform service.
    Client,
    /// A call out of the platform (a bank, a telco).
    Integrator,
    /// Work inside one service.
    Internal,
}

impl SpanKind {
    pub const ALL: [SpanKind; 4] = [Self::Server, Self::Client, Self::Integrator, Self::Internal];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Server => "server",
            Self::Client => "client",
            Self::Integrator => "integrator",
            Self::Internal => "internal",
        }
    }
}

impl fmt::Display for SpanKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SpanKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "server" => Ok(Self::Server),
            "client" => Ok(Self::Client),
            "integrator" => Ok(Self::Integrator),
            "internal" => Ok(Self::Internal),
            other => Err(format!(
                "unknown kind {other:?} (expected server, client, integrator or internal)"
            )),
        }
    }
}

/// Business keys for hot-spot tracking: `user`, `merchant`, `account`, `bank`, `item`, …
pub type Keys = BTreeMap<String, String>;

/// One service call, seen from one side.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DigestRecord {
    /// The span's start (JSON `time`, RFC 3339 UTC with microseconds).
    pub time_us: Micros,
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub parent_span_id: Option<SpanId>,
    pub kind: SpanKind,
    pub service: String,
    pub instance: String,
    pub zone: String,
    pub operation: String,
    /// The other side: the callee for client/integrator records, the caller for server records.
    pub peer: String,
    pub duration_us: u64,
    pub success: bool,
    /// Business result code (`SUCCESS`, `BANK_TIMEOUT`, …).
    pub code: String,
    /// Error class, when the call failed with one.
    pub error: Option<String>,
    pub scene: String,
    pub channel: String,
    /// Full-link stress-test traffic.
    pub shadow: bool,
    pub version: String,
    pub keys: Keys,
    pub amount_cents: Option<i64>,
    pub sql_count: Option<u32>,
}

impl DigestRecord {
    /// The identity used to drop duplicates from retries: `(trace_id, span_id, kind)`.
    pub fn dedup_key(&self) -> (TraceId, SpanId, SpanKind) {
        (self.trace_id, self.span_id, self.kind)
    }
    /// A business key, if present.
    pub fn key(&self, name: &str) -> Option<&str> {
        self.keys.get(name).map(String::as_str)
    }
}

/// What kind of change an event announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Deploy,
    Config,
    Rule,
    Switch,
    Rollback,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deploy => "deploy",
            Self::Config => "config",
            Self::Rule => "rule",
            Self::Switch => "switch",
            Self::Rollback => "rollback",
        }
    }
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ChangeKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "deploy" => Ok(Self::Deploy),
            "config" => Ok(Self::Config),
            "rule" => Ok(Self::Rule),
            "switch" => Ok(Self::Switch),
            "rollback" => Ok(Self::Rollback),
            other => Err(format!(
                "unknown event {other:?} (expected deploy, config, rule, switch or rollback)"
            )),
        }
    }
}

/// A deploy, config push, rule change or plan action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeEvent {
    pub time_us: Micros,
    pub event: ChangeKind,
    pub service: String,
    pub version: String,
    pub detail: String,
    /// Who made the change (a person, `healer`, `ci`).
    pub by: String,
}
