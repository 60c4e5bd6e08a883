//! Per-service figures and hot spots: `GET /api/services` (a list of [`ServiceRow`]) and
//! `GET /api/hotspots` (a list of [`HotSpot`]), both from the analyzer's windows.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a [`ServiceRow`] aggregates (the analyzer's view kind; services only here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceView {
    /// The server-side calls of one service (its callers' experience of it).
    Service,
}

/// What a view did over a span (`last_10s`, `last_1m` of a [`ServiceRow`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct WindowStats {
    pub count: u64,
    pub rate_per_s: f64,
    pub errors: u64,
    pub error_ratio: f64,
    /// Failed calls per business code.
    pub error_codes: BTreeMap<String, u64>,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub amount_cents: i64,
    pub failed_amount_cents: i64,
}

/// What normal looked like for a view (the `baseline` of a [`HealthJudgement`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Baseline {
    /// Seconds with data in the baseline span.
    pub seconds: u32,
    /// Median calls per second.
    pub rate: f64,
    pub error_ratio: f64,
    /// Median absolute deviation of the per-second error ratio.
    pub error_mad: f64,
    pub p99_us: u64,
    /// Calls at or above this are slow (0: no latency baseline yet).
    pub slow_threshold_us: u64,
}

/// A service judged against its baseline at the analyzer's last tick (the `health`
/// of a [`ServiceRow`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthJudgement {
    pub view: ServiceView,
    pub service: String,
    /// Full-link stress-test traffic, judged apart from real traffic.
    pub shadow: bool,
    pub count: u64,
    pub rate: f64,
    pub errors: u64,
    pub error_ratio: f64,
    pub slow: u64,
    pub slow_ratio: f64,
    pub p99_ms: f64,
    pub baseline: Baseline,
    /// `[code, failed calls]`, most frequent first.
    pub error_codes: Vec<(String, u64)>,
    /// Errors departed from baseline.
    pub error_bad: bool,
    /// Slow calls departed from baseline.
    pub slow_bad: bool,
    /// Rate above baseline × surge factor.
    pub surge: bool,
    /// Rate below baseline × drop factor.
    pub drop: bool,
    /// How far off it is, for ranking (0 when healthy).
    pub severity: f64,
}

/// One row of `GET /api/services` (the SLA board's service table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceRow {
    pub view: ServiceView,
    pub service: String,
    pub shadow: bool,
    /// False when the last judgement found errors or slow calls departed from baseline.
    pub healthy: bool,
    pub last_10s: WindowStats,
    pub last_1m: WindowStats,
    /// The judgement at the last tick (`None` before the first).
    pub health: Option<HealthJudgement>,
}

/// Where a hot key was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HotScope {
    /// The server calls of one service.
    Service,
    /// The entry calls (a payment's first span) of one scene.
    Scene,
}

impl HotScope {
    /// The JSON word.
    pub fn as_str(self) -> &'static str {
        match self {
            HotScope::Service => "service",
            HotScope::Scene => "scene",
        }
    }
}

/// One row of `GET /api/hotspots`: a business key judged hot (its share of traffic
/// surged above the threshold), real traffic only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HotSpot {
    pub scope: HotScope,
    /// The service or scene the key was counted in.
    pub within: String,
    pub shadow: bool,
    /// Key name: `merchant`, `account`, `user`, `bank`, `item`, …
    pub key: String,
    pub value: String,
    /// Calls carrying this key in the recent window (a lower bound).
    pub count: u64,
    /// Share of the scope's calls in the recent window.
    pub share: f64,
    /// Share of the scope's calls in the minute before.
    pub baseline_share: f64,
    /// The scope's calls in the minute before.
    pub baseline_calls: u64,
    /// Seconds with data in the minute before.
    pub baseline_seconds: u32,
    pub errors: u64,
    /// Share of the scope's errors.
    pub error_share: f64,
    pub mean_latency_ms: f64,
    /// The scope's mean latency, for comparison.
    pub scope_mean_latency_ms: f64,
}
