//! Hot keys in the diagnosis: a business key that draws a culprit's failures
//! out of proportion, or whose share of traffic surged beyond sampling noise;
//! and, with nothing unhealthy, a surging key on its own.

use super::{pct, Candidate, CauseKind, Inputs, RootCause};
use crate::config::AnalyzerConfig;
use crate::hotspot::{HotKey, ScopeKind};
use std::collections::BTreeSet;

/// Seconds of history a key's baseline share needs before the key can surge:
/// the same bar a view's baseline must pass to judge slowness (half the
/// baseline span, at most 10 s).
pub fn warm_seconds(cfg: &AnalyzerConfig) -> u64 {
    (cfg.baseline_s / 2).clamp(1, 10)
}

impl Inputs<'_> {
    /// Hot keys of a service over the open second and over the last two (the
    /// same windows the health is judged on), so a surging key is seen as soon
    /// as its effect is.
    pub(super) fn recent_hot(&self, s: &str) -> Vec<HotKey> {
        let mut v = self.hot.top_in_service(s, self.wm_s, 1, 3);
        v.extend(self.hot.top_in_service(s, self.wm_s, 2, 3));
        v.into_iter()
            .filter(|k| k.count >= self.cfg.min_errors)
            .collect()
    }

    /// A business key (not a bank) that carries most failures out of proportion
    /// to its traffic, or whose share of traffic surged.
    pub(super) fn hot_key_in(
        &self,
        s: &str,
        bad_banks: &BTreeSet<String>,
    ) -> Option<(HotKey, String)> {
        let mut best: Option<(f64, HotKey, String)> = None;
        for k in self.recent_hot(s) {
            if k.key == "bank" || bad_banks.contains(&k.value) {
                continue;
            }
            let by_errors = k.errors >= 2 * self.cfg.min_errors
                && k.error_share >= 0.6
                && k.error_share >= 2.0 * k.share;
            let by_surge = self.surged(&k);
            let bonus = if k.key == "merchant" { 0.01 } else { 0.0 };
            let score = bonus
                + if by_surge {
                    k.share
                } else if by_errors {
                    k.error_share * 0.9
                } else {
                    continue;
                };
            let why = if by_surge {
                format!(
                    "{} carries {} of {s}'s calls ({} a minute before), {} of its failures",
                    k.label(),
                    pct(k.share),
                    pct(k.baseline_share),
                    pct(k.error_share)
                )
            } else {
                format!(
                    "{} carries {} of {s}'s failures on {} of its calls",
                    k.label(),
                    pct(k.error_share),
                    pct(k.share)
                )
            };
            if best.as_ref().is_none_or(|b| score > b.0) {
                best = Some((score, k, why));
            }
        }
        best.map(|(_, k, w)| (k, w))
    }

    pub(super) fn bank_key_in(&self, s: &str) -> Option<String> {
        self.recent_hot(s)
            .into_iter()
            .find(|k| {
                k.key == "bank"
                    && k.errors >= self.cfg.min_errors
                    && k.error_share >= 0.8
                    && k.share <= 0.7
            })
            .map(|k| k.value)
    }

    /// Whether a key's share surged beyond sampling noise (share ≥ hot_share/3,
    /// ≥ hot_surge_factor × its share a minute before, z ≥ 5), against a
    /// baseline with history: right after start-up the head merchant of a Zipf
    /// load (~11% of payments by nature) is compared with a few cold seconds,
    /// so its share needs [`warm_seconds`] of history before it can surge.
    pub(super) fn surged(&self, k: &HotKey) -> bool {
        let n = k.count as f64 / k.share.max(1e-9);
        let p0 = k.baseline_share.max(0.01);
        let z = (k.share - p0) / (p0 * (1.0 - p0) / n).sqrt();
        k.count >= self.cfg.min_volume
            && k.baseline_calls >= 10 * self.cfg.min_volume
            && k.baseline_seconds as u64 >= warm_seconds(self.cfg)
            && k.share >= self.cfg.hot_share / 3.0
            && k.share >= self.cfg.hot_surge_factor * k.baseline_share
            && z >= 5.0
    }

    /// With nothing unhealthy: a business key whose share of a scope surged.
    pub(super) fn quiet_hot_spots(&self) -> Vec<Candidate> {
        let mut keys = self.hot.top(self.wm_s, 1, 2);
        keys.extend(self.hot.top(self.wm_s, 2, 2));
        let mut best: Option<(f64, HotKey)> = None;
        for k in keys {
            if k.shadow || k.key == "user" || k.key == "bank" || !self.surged(&k) {
                continue;
            }
            let score = k.share + if k.key == "merchant" { 0.01 } else { 0.0 };
            if best.as_ref().is_none_or(|b| score > b.0) {
                best = Some((score, k));
            }
        }
        let Some((_, k)) = best else {
            return Vec::new();
        };
        let mut rc = RootCause::new(CauseKind::HotSpot);
        rc.key = Some(k.label());
        if k.scope == ScopeKind::Service {
            rc.service = Some(k.within.clone());
        }
        vec![Candidate {
            evidence: vec![format!(
                "{} carries {} of {} {} traffic ({} a minute before)",
                k.label(),
                pct(k.share),
                match k.scope {
                    ScopeKind::Service => "service",
                    ScopeKind::Scene => "scene",
                },
                k.within,
                pct(k.baseline_share)
            )],
            root_cause: rc,
            confidence: 0.7,
            codes: Vec::new(),
            slow_share: 0.0,
        }]
    }
}
