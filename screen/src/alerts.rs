//! Alerts and silences: `GET /api/alerts` and the live stream's `alerts` event (a list
//! of [`Alert`]), `GET /api/silences` (a list of [`Silence`]; `POST /api/silences`
//! answers the one it created).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where an alert is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// The condition holds, not yet for long enough to fire.
    Pending,
    Firing,
    Resolved,
}

impl AlertState {
    /// The JSON word, shown on the screen as is.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
        }
    }
}

/// One active alert (a rule × a label set), with why it is muted if it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub fingerprint: String,
    /// `alertname`, `severity`, `target`, …
    pub labels: BTreeMap<String, String>,
    /// `summary`, …
    pub annotations: BTreeMap<String, String>,
    pub state: AlertState,
    /// When the condition first held (µs since the epoch).
    pub active_at_us: u64,
    /// When it started firing (0 while pending).
    pub starts_at_us: u64,
    /// When it resolved (0 while active).
    pub ends_at_us: u64,
    pub value: f64,
    pub generator_url: String,
    /// The silence muting it.
    pub silenced_by: Option<String>,
    /// Muted by an inhibition rule (a firing alert that explains it).
    pub inhibited: bool,
}

/// How a matcher compares a label value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MatchOp {
    #[serde(rename = "=")]
    Eq,
    #[serde(rename = "!=")]
    NotEq,
    /// Any of `|`-separated patterns; `*` matches any run of characters.
    #[serde(rename = "=~")]
    Like,
}

impl MatchOp {
    /// The JSON spelling (`=`, `!=`, `=~`).
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Eq => "=",
            MatchOp::NotEq => "!=",
            MatchOp::Like => "=~",
        }
    }
}

/// One label matcher of a [`Silence`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
}

/// A stored silence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silence {
    pub id: String,
    pub matchers: Vec<Matcher>,
    pub starts_at_us: u64,
    pub ends_at_us: u64,
    pub created_by: String,
    pub comment: String,
}
