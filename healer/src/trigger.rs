//! What starts an incident: a diagnosis (kind + target) or a firing alert, with the times
//! the watchers saw it. Filled by the wiring from the analyzer and the alerts crate.

use digest::Micros;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A diagnosed fault or a firing alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    /// Diagnosis kind: `dependency_failure`, `latency`, `hot_spot`, `bad_release`,
    /// `overload`, `zone_failure`, `pool_exhaustion`, `slow_ledger`, … (empty for an alert).
    #[serde(default)]
    pub kind: String,
    /// `KIND:NAME`: `bank:icbc`, `service:trade`, `merchant:m42`, `zone:hz`.
    #[serde(default)]
    pub target: String,
    /// The firing alert's name, when an alert triggered.
    #[serde(default)]
    pub alert: Option<String>,
    /// Extra context usable in plans as `{label.NAME}` (e.g. `zone`, `version`, `service`).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// When the first bad request happened (from the digests), if known.
    #[serde(default)]
    pub first_bad_us: Option<Micros>,
    /// When the watchers detected it.
    pub detected_us: Micros,
    /// When the root cause was named.
    pub diagnosed_us: Micros,
}

impl Trigger {
    /// A diagnosis trigger detected and diagnosed at `at_us`.
    pub fn diagnosis(kind: &str, target: &str, at_us: Micros) -> Self {
        Self {
            kind: kind.into(),
            target: target.into(),
            alert: None,
            labels: BTreeMap::new(),
            first_bad_us: None,
            detected_us: at_us,
            diagnosed_us: at_us,
        }
    }

    /// The target's kind (`bank` of `bank:icbc`).
    pub fn target_kind(&self) -> &str {
        self.target.split_once(':').map(|(k, _)| k).unwrap_or("")
    }

    /// The target's name (`icbc` of `bank:icbc`).
    pub fn target_name(&self) -> &str {
        self.target
            .split_once(':')
            .map(|(_, n)| n)
            .unwrap_or(&self.target)
    }
}
