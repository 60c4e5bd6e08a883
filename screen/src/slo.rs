//! The SLA board, `GET /api/slo` (one [`SloBoard`]): every objective's SLIs over the
//! budget period, their multi-window burn rates, bank layers, and the burn-rate alerts
//! firing now.

use serde::{Deserialize, Serialize};

/// What an objective is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectiveKind {
    Service,
    /// A business scene, measured at its entry service.
    Scene,
    /// An external bank channel.
    Bank,
}

/// An SLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sli {
    Availability,
    Latency,
}

impl Sli {
    /// The JSON word.
    pub fn as_str(self) -> &'static str {
        match self {
            Sli::Availability => "availability",
            Sli::Latency => "latency",
        }
    }
}

/// A burn-rate policy: alert when both windows burn at least `factor` × the sustainable rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BurnPolicy {
    pub name: String,
    pub factor: f64,
    pub long_s: u64,
    pub short_s: u64,
    pub severity: String,
}

/// One SLI over one span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SliFigures {
    pub total: u64,
    pub bad: u64,
    /// good / total (1 when there were no calls).
    pub ratio: f64,
    pub target: f64,
    pub met: bool,
    /// Share of the error budget left (negative when overspent).
    pub budget_remaining: f64,
}

/// A burn-rate policy evaluated for one SLI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BurnStatus {
    pub policy: String,
    pub severity: String,
    pub factor: f64,
    /// The long window, e.g. `1h`.
    pub long: String,
    /// The short window, e.g. `5m`.
    pub short: String,
    pub burn_long: f64,
    pub burn_short: f64,
    /// Both windows burn at least `factor` × the sustainable rate.
    pub firing: bool,
}

/// One SLI of an objective.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SliStatus {
    pub sli: Sli,
    /// Over the budget period.
    pub period: SliFigures,
    pub burn: Vec<BurnStatus>,
}

/// The bank layers, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    Reachable,
    Available,
    WithinTimeout,
    WithinContract,
}

/// One layer's figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerFigure {
    pub layer: Layer,
    pub ratio: f64,
    pub target: f64,
    pub ok: bool,
}

/// A bank's layers over the layer window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerReport {
    /// The layer window, e.g. `5m`.
    pub window: String,
    pub calls: u64,
    pub layers: Vec<LayerFigure>,
    /// The first layer that fails (`None`: all hold, or no calls).
    pub first_failing: Option<Layer>,
    /// Share of calls at or above the contract p99 (must be ≤ 1 %).
    pub over_p99_share: f64,
}

/// One objective on the board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloObjective {
    /// `service:trade`, `scene:quick_pay`, `bank:bank-a`.
    pub id: String,
    pub kind: ObjectiveKind,
    pub name: String,
    pub slis: Vec<SliStatus>,
    /// Banks only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<LayerReport>,
}

/// A burn-rate alert firing now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BurnAlert {
    pub objective: String,
    pub sli: Sli,
    pub policy: String,
    pub severity: String,
    pub burn_long: f64,
    pub burn_short: f64,
}

/// `GET /api/slo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SloBoard {
    pub now_us: u64,
    /// The budget period, e.g. `30d`.
    pub budget_period: String,
    pub policies: Vec<BurnPolicy>,
    pub objectives: Vec<SloObjective>,
    pub firing: Vec<BurnAlert>,
}
