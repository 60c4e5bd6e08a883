//! Zone faults: a zone is blamed when services fail only there — worse beyond
//! doubt (two-proportion z-test) than the same service in the other zones —
//! or lose their traffic there; but not while the deepest of those services
//! has an instance in that zone that looks fine (a zone fault hits every
//! instance there; one sick instance only slows its zone's callers).

use super::{describe, Candidate, Inputs, RootCause};
use crate::anomaly::Health;
use crate::window::{View, ViewKey};
use std::collections::BTreeMap;

/// Confidence left to a zone candidate when an instance of the deepest
/// service failing there looks fine (one sick instance, or not confirmed yet):
/// listed, but below every service candidate and below the bar for opening an
/// incident.
const NOT_THE_ZONE: f64 = 0.4;

/// The same service in another zone is clearly fine: enough calls, and at most
/// a fifth of the excess errors and slow calls seen in the suspect zone.
pub(super) fn clearly_ok(other: &Health, here: &Health, min_volume: u64) -> bool {
    if other.count < min_volume || other.unhealthy() || other.drop {
        return false;
    }
    // Two-proportion z-test: the suspect zone must be worse beyond doubt.
    let z = |a: u64, n: u64, b: u64, m: u64| -> f64 {
        if n == 0 || m == 0 {
            return 0.0;
        }
        let (p1, p2) = (a as f64 / n as f64, b as f64 / m as f64);
        let p = (a + b) as f64 / (n + m) as f64;
        let se = (p * (1.0 - p) * (1.0 / n as f64 + 1.0 / m as f64)).sqrt();
        if se == 0.0 {
            0.0
        } else {
            (p1 - p2) / se
        }
    };
    let worse_errors =
        here.error_bad && z(here.errors, here.count, other.errors, other.count) >= 4.0;
    let worse_slow = here.slow_bad && z(here.slow, here.count, other.slow, other.count) >= 4.0;
    let lost_traffic = here.drop && other.rate >= 0.7 * other.baseline.rate;
    worse_errors || worse_slow || lost_traffic
}

impl Inputs<'_> {
    /// A zone is blamed when several services are unhealthy (or lose their
    /// traffic) in it while healthy in the other zones.
    pub(super) fn zone_candidates(&self) -> Vec<Candidate> {
        let mut zones: BTreeMap<String, ()> = BTreeMap::new();
        for k in self.health.keys() {
            if let (View::Zone { zone }, false) = (&k.view, k.shadow) {
                zones.insert(zone.clone(), ());
            }
        }
        if zones.len() < 2 {
            return Vec::new();
        }
        let services = self.services();
        let mut out = Vec::new();
        for z in zones.keys() {
            let mut only_here = Vec::new();
            let mut evidence = Vec::new();
            for s in &services {
                let hk = ViewKey::service_zone(s, z);
                let Some(h) = self.h(&hk) else { continue };
                let bad_here = h.unhealthy() || h.drop;
                let others_ok = zones.keys().filter(|o| *o != z).all(|o| {
                    self.h(&ViewKey::service_zone(s, o))
                        .is_some_and(|x| clearly_ok(x, h, self.cfg.min_volume))
                });
                if bad_here && others_ok {
                    only_here.push(s.clone());
                    if evidence.len() < 3 {
                        evidence
                            .extend(describe(h).into_iter().map(|e| format!("{s} in {z}: {e}")));
                    }
                }
            }
            let zk = ViewKey::real(View::Zone { zone: z.clone() });
            let zone_bad = self.h(&zk).is_some_and(|h| h.drop || h.unhealthy());
            if only_here.len() >= 2 || (zone_bad && !only_here.is_empty()) {
                evidence.insert(
                    0,
                    format!(
                        "{} services failing only in zone {z}: {}",
                        only_here.len(),
                        only_here.join(", ")
                    ),
                );
                let mut conf = (0.77 + 0.05 * only_here.len() as f64).min(0.97);
                // A zone fault hits every instance there: one sick instance
                // beside a fine sibling in the same zone is not the zone.
                if let Some(why) = self.zone_doubt(z) {
                    evidence.insert(0, why);
                    conf = NOT_THE_ZONE;
                }
                let codes = self
                    .h(&zk)
                    .map(|h| h.error_codes.clone())
                    .unwrap_or_default();
                out.push(Candidate {
                    root_cause: RootCause::zone(z),
                    confidence: conf,
                    evidence,
                    codes,
                    slow_share: self.h(&zk).map_or(0.0, |h| h.slow_ratio),
                });
            }
        }
        out
    }
}
