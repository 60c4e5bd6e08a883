//! The seam between the screen and the rest of war-room: [`DashboardBackend`], the
//! figures and actions the dashboard reads and calls, and the small typed shapes whose
//! fields the screen depends on (overview, scenes, topology, action requests).
//!
//! Lists whose shape belongs to another crate (services, hot spots, incidents, alerts,
//! silences, SLOs, changes) travel as JSON values; the screen renders what it finds.
//! Queries are cheap and synchronous (they read in-memory state); actions return a
//! future because they may call out (the healer, the payments-sim control plane).

use digest::{Micros, TraceId};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

/// Why a backend query or action failed. Mapped to 404/400/409/503 at the edge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("unavailable: {0}")]
    Unavailable(String),
}

pub type BackendResult<T> = Result<T, BackendError>;

/// The result of an action (approve, reject, silence, drill): a JSON body for the screen.
pub type ActionFuture = Pin<Box<dyn Future<Output = BackendResult<Value>> + Send + 'static>>;

/// Who asked for an action (already authenticated and authorised by the dashboard).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub user: String,
    pub role: crate::auth::Role,
}

/// Green, amber or red.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    #[default]
    Green,
    Amber,
    Red,
}

impl Health {
    /// Health from an error ratio: red at ≥ 5 %, amber at ≥ 1 %.
    pub fn of_error_ratio(r: f64) -> Self {
        if r >= 0.05 {
            Health::Red
        } else if r >= 0.01 {
            Health::Amber
        } else {
            Health::Green
        }
    }
}

/// The north-star figures on the command overview (`#tps`, `#success-rate`, `#mttr`, `#incidents`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Overview {
    /// When these figures were computed (µs since the epoch).
    pub as_of_us: Micros,
    /// Payments per second entering the platform (last complete second).
    pub payments_per_s: f64,
    /// Share of successful payments, 0..=1; `None` when there was no traffic.
    pub success_rate: Option<f64>,
    /// MTTR of the last recovered incident, seconds.
    pub mttr_last_s: Option<f64>,
    /// Average MTTR over recovered incidents, seconds.
    pub mttr_avg_s: Option<f64>,
    pub open_incidents: u32,
    /// Error budget left over the SLO period, 0..=1 (the tightest objective).
    pub error_budget_left: Option<f64>,
}

/// One business scene on the scene board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SceneStatus {
    pub scene: String,
    pub health: Health,
    /// Requests per second.
    pub rate: f64,
    pub success_rate: Option<f64>,
}

/// A node of the live call graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopologyNode {
    pub id: String,
    /// `service`, `bank`, `zone`, `external`, …
    pub kind: String,
    #[serde(default)]
    pub health: Health,
    /// The diagnosed root cause of an open incident.
    #[serde(default)]
    pub root_cause: bool,
    /// Anything else the screen shows when the node is clicked (operations, latency, hot keys, changes).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub detail: Value,
}

/// A call edge: caller → callee, with live figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopologyEdge {
    pub from: String,
    pub to: String,
    /// Calls per second.
    pub rate: f64,
    pub error_ratio: f64,
    pub p99_ms: f64,
}

/// `GET /api/topology`: `{nodes:[{id,kind,…}], edges:[{from,to,rate,error_ratio,p99_ms}]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Topology {
    pub nodes: Vec<TopologyNode>,
    pub edges: Vec<TopologyEdge>,
}

/// `POST /api/silences`: mute alerts whose labels match all `matchers` for `duration_s`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SilenceRequest {
    pub matchers: BTreeMap<String, String>,
    pub duration_s: u64,
    #[serde(default)]
    pub comment: String,
}

impl SilenceRequest {
    /// At least one matcher, 1 s ..= 7 days, bounded text.
    pub fn validate(&self) -> BackendResult<()> {
        if self.matchers.is_empty() {
            return Err(BackendError::Invalid(
                "matchers: at least one is needed".into(),
            ));
        }
        if self.duration_s == 0 || self.duration_s > 7 * 86_400 {
            return Err(BackendError::Invalid(
                "duration_s: must be 1..=604800".into(),
            ));
        }
        for (k, v) in &self.matchers {
            if !is_token(k) || v.is_empty() || v.len() > 200 {
                return Err(BackendError::Invalid(format!(
                    "matchers: bad matcher {k:?}"
                )));
            }
        }
        if self.comment.len() > 1000 {
            return Err(BackendError::Invalid("comment: at most 1000 bytes".into()));
        }
        Ok(())
    }
}

/// `POST /api/drills`: inject a fault (`kind` as payments-sim names it) into an optional target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrillRequest {
    pub fault: String,
    #[serde(default)]
    pub target: Option<String>,
}

impl DrillRequest {
    pub fn validate(&self) -> BackendResult<()> {
        if !is_token(&self.fault) {
            return Err(BackendError::Invalid(
                "fault: a name of [a-z0-9_.:-], at most 64".into(),
            ));
        }
        if let Some(t) = &self.target {
            if !is_token(t) {
                return Err(BackendError::Invalid(
                    "target: a name of [a-z0-9_.:-], at most 64".into(),
                ));
            }
        }
        Ok(())
    }
}

/// A short identifier: 1..=64 of `[A-Za-z0-9_.:-]`.
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b))
}

/// What the dashboard reads and calls. The root wiring implements it over the analyzer,
/// SLA, alerts and healer; defaults return empty lists and refuse actions, so a partial
/// backend shows empty panels instead of failing.
pub trait DashboardBackend: Send + Sync + 'static {
    fn overview(&self) -> Overview;
    fn scenes(&self) -> Vec<SceneStatus>;
    fn topology(&self) -> Topology;
    /// `[{service, rate, error_ratio, p99_ms, …}]`
    fn services(&self) -> Value {
        json!([])
    }
    /// `[{key, value, scene, service, share, …}]`
    fn hotspots(&self) -> Value {
        json!([])
    }
    /// `[{id, title, status, root_cause, started, …}]`, newest first.
    fn incidents(&self) -> Value {
        json!([])
    }
    /// `{id, title, status, root_cause, timeline:[{time,what}], impact:{…}, plan:{name, approval, status, steps:[…]}, reconciliation}`
    fn incident(&self, id: &str) -> BackendResult<Value> {
        Err(BackendError::NotFound(format!("incident {id}")))
    }
    /// `[{name, state, labels, since, …}]`
    fn alerts(&self) -> Value {
        json!([])
    }
    fn silences(&self) -> Value {
        json!([])
    }
    /// `[{objective, target, budget_left, burn_rates, …}]`
    fn slo(&self) -> Value {
        json!([])
    }
    /// Change events (deploys, rules, plan actions), newest first.
    fn changes(&self) -> Value {
        json!([])
    }
    /// Every digest record of one trace, as v1 digest JSON objects.
    fn trace(&self, id: TraceId) -> BackendResult<Value> {
        Err(BackendError::NotFound(format!("trace {}", id.to_hex())))
    }
    /// The faults a drill can inject: `[{fault, targets:[…]}]`.
    fn drill_kinds(&self) -> Value {
        json!([])
    }
    fn approve(&self, id: &str, by: &Actor) -> ActionFuture {
        let _ = (id, by);
        unavailable("approvals need the healer")
    }
    fn reject(&self, id: &str, by: &Actor, reason: Option<String>) -> ActionFuture {
        let _ = (id, by, reason);
        unavailable("approvals need the healer")
    }
    fn create_silence(&self, req: SilenceRequest, by: &Actor) -> ActionFuture {
        let _ = (req, by);
        unavailable("silences need the alerts engine")
    }
    fn inject_drill(&self, req: DrillRequest, by: &Actor) -> ActionFuture {
        let _ = (req, by);
        unavailable("drills need the payments-sim control plane")
    }
}

fn unavailable(what: &'static str) -> ActionFuture {
    Box::pin(async move { Err(BackendError::Unavailable(what.into())) })
}
