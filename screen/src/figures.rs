//! The command overview: the north-star figures and the scene board, carried by
//! `GET /api/overview` and the live stream's `overview` event (one [`OverviewBody`]).

use serde::{Deserialize, Serialize};

/// Green, amber or red: how a scene, a node or a service looks on the screen.
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

    /// The JSON word, also the CSS class the screen colours it with.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Green => "green",
            Health::Amber => "amber",
            Health::Red => "red",
        }
    }
}

/// The north-star figures (`#tps`, `#success-rate`, `#mttr`, `#incidents`,
/// `#error-budget`): the `overview` field of [`OverviewBody`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Overview {
    /// When these figures were computed (µs since the epoch).
    pub as_of_us: u64,
    /// Payments per second entering the platform (last complete second).
    pub payments_per_s: f64,
    /// Share of successful payments, 0..=1; `None` when there was no traffic.
    pub success_rate: Option<f64>,
    /// MTTR of the last recovered incident, seconds.
    pub mttr_last_s: Option<f64>,
    /// Average MTTR over recovered incidents, seconds.
    pub mttr_avg_s: Option<f64>,
    /// Incidents not yet closed.
    pub open_incidents: u32,
    /// Error budget left over the SLO period, 0..=1 (the tightest objective).
    pub error_budget_left: Option<f64>,
}

/// One business scene on the scene board (`#scenes`), measured at its entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SceneStatus {
    pub scene: String,
    pub health: Health,
    /// Payments per second.
    pub rate: f64,
    /// Share of successful payments, 0..=1; `None` without traffic.
    pub success_rate: Option<f64>,
}

/// `GET /api/overview` and the live stream's `overview` event: the figures and the scene board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct OverviewBody {
    pub overview: Overview,
    pub scenes: Vec<SceneStatus>,
}
