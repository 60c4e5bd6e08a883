//! The root-cause vocabulary: `{kind, service|bank|key|zone}`, the one sick
//! instance of a service when the fault is confined to it, the change a bad
//! release is blamed on, and a ranked candidate with its evidence.

use crate::anomaly::ChangeRef;
use serde::Serialize;

/// The class of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CauseKind {
    /// An external dependency (a bank channel) is failing or slow.
    Dependency,
    /// A service is slow on its own (its dependencies are fine).
    Latency,
    /// A service fails on its own, with no change or load to blame.
    Errors,
    /// One business key (merchant, account, …) draws the traffic or the failures.
    HotSpot,
    /// A deploy (or config/rule change) made a service fail or slow down.
    BadRelease,
    /// Load beyond capacity: a surge, or an exhausted pool / concurrency limit.
    Overload,
    /// One zone (data centre / unit) fails while the others are fine.
    Zone,
}

impl CauseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dependency => "dependency",
            Self::Latency => "latency",
            Self::Errors => "errors",
            Self::HotSpot => "hot_spot",
            Self::BadRelease => "bad_release",
            Self::Overload => "overload",
            Self::Zone => "zone",
        }
    }
}

/// What broke: the kind and the component it is blamed on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RootCause {
    pub kind: CauseKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank: Option<String>,
    /// `name:value`, e.g. `merchant:m42`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// The one sick instance of `service` (e.g. `payment-engine-2`) when its
    /// sibling instances are clearly fine; `None` for a service-wide fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The change a bad release is blamed on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<ChangeRef>,
}

impl RootCause {
    pub fn new(kind: CauseKind) -> Self {
        Self {
            kind,
            service: None,
            bank: None,
            key: None,
            zone: None,
            instance: None,
            change: None,
        }
    }
    pub fn service(kind: CauseKind, s: &str) -> Self {
        Self {
            service: Some(s.to_string()),
            ..Self::new(kind)
        }
    }
    pub fn bank(b: &str) -> Self {
        Self {
            bank: Some(b.to_string()),
            ..Self::new(CauseKind::Dependency)
        }
    }
    pub fn zone(z: &str) -> Self {
        Self {
            zone: Some(z.to_string()),
            ..Self::new(CauseKind::Zone)
        }
    }
    /// The component blamed, whatever its kind: a service, bank, key or zone
    /// (for one sick instance: its service; the instance is in `instance`).
    pub fn target(&self) -> &str {
        self.key
            .as_deref()
            .or(self.bank.as_deref())
            .or(self.zone.as_deref())
            .or(self.service.as_deref())
            .unwrap_or("")
    }
    /// Identity used to dedup incidents: `kind:target`, and `kind:target@instance`
    /// when one instance is blamed (isolating it is another remedy than
    /// treating the whole service).
    pub fn identity(&self) -> String {
        match &self.instance {
            Some(i) => format!("{}:{}@{i}", self.kind.as_str(), self.target()),
            None => format!("{}:{}", self.kind.as_str(), self.target()),
        }
    }
}

/// One ranked explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub root_cause: RootCause,
    /// 0..1.
    pub confidence: f64,
    /// Human-readable facts behind the verdict.
    pub evidence: Vec<String>,
    /// Top failure codes at the blamed component.
    pub codes: Vec<(String, u64)>,
    /// Share of the blamed component's calls that are slow.
    pub slow_share: f64,
}
