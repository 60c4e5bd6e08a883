//! Anomalies: per-view baselines (rate, error ratio, latency) computed from the
//! closed seconds of the last minute — medians and MAD of per-second figures,
//! with minimum-volume guards — and the recent figures (the open second, and
//! the open plus previous second) tested against them. Error departures use a
//! binomial margin so a burst of failures is flagged within a fraction of a
//! second at payment rates, while a handful of noise errors is not.

mod changes;
mod quarantine;

pub use changes::{ChangeLog, ChangeRef};
pub use quarantine::Quarantine;

use crate::config::AnalyzerConfig;
use crate::window::{Stats, Tiered, ViewKey};
use serde::Serialize;

/// What normal looked like for one view.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
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

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The baseline of a view from the closed seconds `[end - baseline_s, end)`,
/// where `end = now_s - baseline_gap_s`, leaving out the seconds in `skip` (the
/// view's quarantined seconds) and reaching as far back for as many others.
pub fn baseline(
    t: &Tiered,
    now_s: u64,
    cfg: &AnalyzerConfig,
    skip: Option<&Quarantine>,
) -> Baseline {
    let end = now_s.saturating_sub(cfg.baseline_gap_s);
    let mut from = end.saturating_sub(cfg.baseline_s);
    if let Some(q) = skip {
        // Reach back for as many seconds as are quarantined (a second reached may be
        // quarantined too: extend until the span holds `baseline_s` others, or the
        // retained seconds run out).
        let oldest = now_s.saturating_sub(cfg.retention_1s as u64);
        while from > oldest && (end - from) - q.count_in(from, end) < cfg.baseline_s {
            from -= 1;
        }
    }
    let mut rates = Vec::with_capacity(cfg.baseline_s as usize);
    let mut ratios = Vec::with_capacity(cfg.baseline_s as usize);
    let mut p99s = Vec::with_capacity(cfg.baseline_s as usize);
    let mut total = 0u64;
    let mut pooled_errors = 0u64;
    let mut first_seen = None;
    for s in from..end {
        if skip.is_some_and(|q| q.contains(s)) {
            continue;
        }
        match t.sec.get(s) {
            Some(st) => {
                first_seen.get_or_insert(s);
                rates.push(st.count as f64);
                if st.count >= 5 {
                    ratios.push(st.error_ratio());
                    p99s.push(st.latency_us.quantile(0.99) as f64);
                }
                total += st.count;
                pooled_errors += st.errors;
            }
            None if first_seen.is_some() => rates.push(0.0),
            None => {}
        }
    }
    let seconds = rates.len() as u32;
    if seconds == 0 {
        return Baseline::default();
    }
    let rate = median(&mut rates);
    let med = median(&mut ratios.clone());
    let mut dev: Vec<f64> = ratios.iter().map(|r| (r - med).abs()).collect();
    let mad = median(&mut dev);
    let pooled = if total == 0 {
        0.0
    } else {
        pooled_errors as f64 / total as f64
    };
    let error_ratio = pooled.min(med + 3.0 * mad);
    // Median of per-second p99s: one bad second cannot move it.
    let p99 = median(&mut p99s) as u64;
    let slow_threshold_us = if total >= cfg.min_volume && !p99s.is_empty() {
        ((p99 as f64 * cfg.slow_factor).max(p99 as f64 + cfg.slow_floor_ms * 1000.0)) as u64
    } else {
        0
    };
    Baseline {
        seconds,
        rate,
        error_ratio,
        error_mad: mad,
        p99_us: p99,
        slow_threshold_us,
    }
}

/// A view judged now against its baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    #[serde(flatten)]
    pub key: ViewKey,
    pub count: u64,
    pub rate: f64,
    pub errors: u64,
    pub error_ratio: f64,
    pub slow: u64,
    pub slow_ratio: f64,
    pub p99_ms: f64,
    pub baseline: Baseline,
    pub error_codes: Vec<(String, u64)>,
    /// Errors departed from baseline.
    pub error_bad: bool,
    /// Slow calls departed from baseline.
    pub slow_bad: bool,
    /// Rate above baseline × surge_factor.
    pub surge: bool,
    /// Rate below baseline × drop_factor.
    pub drop: bool,
    /// How far off it is, for ranking (0 when healthy).
    pub severity: f64,
    #[serde(skip)]
    pub failed_amount_cents: i64,
}

impl Health {
    pub fn unhealthy(&self) -> bool {
        self.error_bad || self.slow_bad
    }
}

/// Judges a view. `wm_s` is the newest second with data anywhere and
/// `open_frac` the elapsed fraction of it (1.0 when it is already closed).
pub fn evaluate(
    key: &ViewKey,
    t: &Tiered,
    base: &Baseline,
    wm_s: u64,
    open_frac: f64,
    cfg: &AnalyzerConfig,
) -> Health {
    let open = t.sec.get(wm_s).cloned().unwrap_or_default();
    let mut two = open.clone();
    if let Some(prev) = t.sec.get(wm_s.saturating_sub(1)) {
        two.merge(prev);
    }
    let a = judge(key, &open, open_frac.max(0.05), base, cfg);
    let b = judge(key, &two, 1.0 + open_frac, base, cfg);
    // Report the two-second view unless only the open second shows the fault.
    let surge = a.surge || b.surge;
    let mut h = if a.unhealthy() && !b.unhealthy() {
        a
    } else {
        b
    };
    h.surge = surge && !h.drop;
    h
}

fn judge(key: &ViewKey, st: &Stats, secs: f64, base: &Baseline, cfg: &AnalyzerConfig) -> Health {
    let n = st.count;
    let ratio = st.error_ratio();
    let enough = n >= cfg.min_volume;
    let expected = base.error_ratio * n as f64;
    // A young baseline (start-up, a new view) is trusted only for gross departures.
    let mature = base.seconds as u64 >= (cfg.baseline_s / 2).clamp(1, 10);
    let error_bad = enough
        && (mature || ratio >= 0.2)
        && st.errors >= cfg.min_errors
        && ratio >= base.error_ratio + cfg.error_ratio_floor.max(4.0 * base.error_mad)
        && st.errors as f64 > expected + 4.0 * (expected + 1.0).sqrt();
    let slow = if base.slow_threshold_us > 0 {
        st.latency_us.count_at_least(base.slow_threshold_us)
    } else {
        0
    };
    let slow_ratio = if n == 0 { 0.0 } else { slow as f64 / n as f64 };
    let slow_bad = enough && mature && slow >= cfg.min_errors && slow_ratio >= cfg.slow_ratio;
    let rate = n as f64 / secs;
    let has_base = base.seconds >= 10 && base.rate > 0.0;
    let surge = has_base && n >= 2 * cfg.min_volume && rate >= base.rate * cfg.surge_factor;
    let drop = has_base
        && base.rate >= cfg.min_volume as f64
        && secs >= 1.0
        && rate <= base.rate * cfg.drop_factor;
    let mut severity = 0.0;
    if error_bad {
        severity += (ratio - base.error_ratio).max(0.0) * 10.0 + 1.0;
    }
    if slow_bad {
        severity += slow_ratio * 5.0 + 0.5;
    }
    Health {
        key: key.clone(),
        count: n,
        rate,
        errors: st.errors,
        error_ratio: ratio,
        slow,
        slow_ratio,
        p99_ms: st.quantile_ms(0.99),
        baseline: *base,
        error_codes: st.top_codes(4),
        error_bad,
        slow_bad,
        surge,
        drop,
        severity,
        failed_amount_cents: st.failed_amount_cents,
    }
}
