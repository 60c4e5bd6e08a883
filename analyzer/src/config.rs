//! Analyzer settings: windows, baselines, detection thresholds, hot spots,
//! and change correlation. Loaded from TOML with
//! `deny_unknown_fields`; every field has a default tuned for the payments-sim
//! load of 1–5k payments/s.

use crate::error::AnalyzerError;
use serde::{Deserialize, Serialize};

/// All analyzer settings (TOML table; every field optional).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalyzerConfig {
    /// Seconds a rollup may arrive after its second and still merge into it.
    pub lateness_s: u64,
    /// 1 s buckets kept per view.
    pub retention_1s: usize,
    /// 10 s buckets kept per view.
    pub retention_10s: usize,
    /// 1 min buckets kept per view.
    pub retention_1m: usize,
    /// Seconds of history a baseline is computed from.
    pub baseline_s: u64,
    /// Most recent seconds left out of the baseline (so a fresh fault does not
    /// teach the baseline that it is normal).
    pub baseline_gap_s: u64,
    /// Calls needed in the recent window before a view can be judged.
    pub min_volume: u64,
    /// Failed calls needed before an error departure counts.
    pub min_errors: u64,
    /// Smallest rise of the error ratio over its baseline that counts.
    pub error_ratio_floor: f64,
    /// A call is slow above max(baseline p99 × slow_factor, p99 + slow_floor_ms).
    pub slow_factor: f64,
    pub slow_floor_ms: f64,
    /// Share of slow calls that makes a view slow.
    pub slow_ratio: f64,
    /// Rate above baseline × surge_factor is a surge.
    pub surge_factor: f64,
    /// Rate below baseline × drop_factor is a drop.
    pub drop_factor: f64,
    /// Counters per hot-spot summary (Misra–Gries k).
    pub hot_k: usize,
    /// Seconds a hot key's share is read over.
    pub hot_recent_s: u64,
    /// Share of a scope's traffic that makes a key hot.
    pub hot_share: f64,
    /// Growth of a key's share over its previous-minute share that makes it a surge.
    pub hot_surge_factor: f64,
    /// How far before an anomaly a change is still a suspect.
    pub change_lookback_s: u64,
    /// Instance views kept per service (real and shadow apart); further
    /// instances are counted and ignored.
    pub max_instances: usize,
    /// Longest run of seconds kept out of the baselines while something is unhealthy; a
    /// fault older than this becomes the new normal (a chronic one a commander resolved).
    pub quarantine_max_s: u64,
    /// Who the war room's own change events are made by (`by`): its plans and drills.
    /// Known changes, shown on timelines, never blamed as a suspect release.
    pub own_actors: Vec<String>,
    /// Result codes that are business outcomes, not system failures (a declined card,
    /// insufficient funds, a risk rejection): counted apart (`Stats::declines`), they never
    /// make a service unhealthy — a burst of them is customers, not a fault.
    pub business_codes: Vec<String>,
}

impl Default for AnalyzerConfig {
    fn default() -> Self {
        Self {
            lateness_s: 5,
            retention_1s: 120,
            retention_10s: 60,
            retention_1m: 60,
            baseline_s: 60,
            baseline_gap_s: 3,
            min_volume: 20,
            min_errors: 5,
            error_ratio_floor: 0.03,
            slow_factor: 2.0,
            slow_floor_ms: 20.0,
            slow_ratio: 0.05,
            surge_factor: 2.0,
            drop_factor: 0.3,
            hot_k: 64,
            hot_recent_s: 3,
            hot_share: 0.3,
            hot_surge_factor: 3.0,
            change_lookback_s: 600,
            max_instances: 64,
            quarantine_max_s: 900,
            own_actors: vec!["healer".into(), "drill".into()],
            business_codes: [
                "BANK_DECLINED",
                "CARD_DECLINED",
                "INSUFFICIENT_FUNDS",
                "INSUFFICIENT_BALANCE",
                "RISK_REJECTED",
                "RISK_AMOUNT_LIMIT",
                "RISK_REVIEW",
                "COUPON_BUDGET_EXHAUSTED",
                "DUPLICATE_ORDER",
                "INVALID_AMOUNT",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

impl AnalyzerConfig {
    /// Parses TOML; unknown fields and bad values are refused with the field named.
    pub fn from_toml(text: &str) -> Result<Self, AnalyzerError> {
        let c: AnalyzerConfig =
            toml::from_str(text).map_err(|e| AnalyzerError::Config(e.message().to_string()))?;
        c.validate()?;
        Ok(c)
    }

    pub fn validate(&self) -> Result<(), AnalyzerError> {
        let bad = |f: &str, why: &str| Err(AnalyzerError::Config(format!("{f}: {why}")));
        if self.retention_1s < 10 {
            return bad("retention_1s", "must be at least 10");
        }
        if self.baseline_s + self.baseline_gap_s + 2 > self.retention_1s as u64 {
            return bad(
                "baseline_s",
                "baseline_s + baseline_gap_s + 2 must fit in retention_1s",
            );
        }
        if self.lateness_s as usize >= self.retention_1s {
            return bad("lateness_s", "must be shorter than retention_1s");
        }
        for (f, v) in [
            ("error_ratio_floor", self.error_ratio_floor),
            ("slow_ratio", self.slow_ratio),
            ("hot_share", self.hot_share),
            ("drop_factor", self.drop_factor),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return bad(f, "must be between 0 and 1");
            }
        }
        if self.surge_factor <= 1.0 || self.slow_factor <= 1.0 || self.hot_surge_factor <= 1.0 {
            return bad(
                "surge_factor",
                "surge_factor, slow_factor and hot_surge_factor must exceed 1",
            );
        }
        if self.max_instances == 0 {
            return bad("max_instances", "must be positive");
        }
        if self.hot_k == 0 || self.hot_recent_s == 0 {
            return bad("hot_k", "hot_k and hot_recent_s must be positive");
        }
        Ok(())
    }
}
