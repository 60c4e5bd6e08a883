//! Diagnosis: from the unhealthy services and call edges, walk the topology down
//! to the components whose own dependencies are healthy; check zones (a fault
//! confined to one zone across services); classify each culprit (bad release if
//! a change to it came just before and the failures sit on the new version; hot
//! spot if one business key draws the traffic or failures; overload on a surge or
//! capacity codes; else latency or errors, narrowed to one instance when its
//! siblings are fine); rank candidates with evidence and a confidence. A failing bank is blamed on the bank, not on the services that
//! call it.

mod cause;
mod hot;
mod instance;
mod zone;

pub use cause::{Candidate, CauseKind, RootCause};
pub use hot::warm_seconds;

use crate::anomaly::{ChangeLog, ChangeRef, Health};
use crate::config::AnalyzerConfig;
use crate::hotspot::HotSpots;
use crate::topology::{NodeKind, Topology};
use crate::versions::Versions;
use crate::window::{View, ViewKey, Windows};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Everything the diagnosis reads, as of one tick.
pub struct Inputs<'a> {
    pub health: &'a HashMap<ViewKey, Health>,
    /// When each currently unhealthy view turned unhealthy (epoch µs).
    pub since: &'a HashMap<ViewKey, u64>,
    pub topo: &'a Topology,
    pub hot: &'a HotSpots,
    pub versions: &'a Versions,
    pub changes: &'a ChangeLog,
    /// For the instances of each service (and their zones).
    pub windows: &'a Windows,
    pub cfg: &'a AnalyzerConfig,
    pub now_us: u64,
    /// Newest second with data.
    pub wm_s: u64,
}

/// Codes that mean "not enough capacity" rather than "broken".
const CAPACITY_WORDS: [&str; 9] = [
    "POOL", "EXHAUST", "LIMIT", "BUSY", "OVERLOAD", "REJECT", "FLOW", "QUEUE", "CAPACITY",
];

fn is_capacity_code(code: &str) -> bool {
    let c = code.to_ascii_uppercase();
    CAPACITY_WORDS.iter().any(|w| c.contains(w))
}

pub(super) fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

pub(super) fn describe(h: &Health) -> Vec<String> {
    let mut ev = Vec::new();
    if h.error_bad {
        let codes: Vec<String> = h
            .error_codes
            .iter()
            .map(|(c, n)| format!("{c}×{n}"))
            .collect();
        ev.push(format!(
            "errors {} vs {} baseline ({})",
            pct(h.error_ratio),
            pct(h.baseline.error_ratio),
            codes.join(", ")
        ));
    }
    if h.slow_bad {
        ev.push(format!(
            "{} of calls slower than {:.0} ms (p99 {:.0} ms vs {:.0} ms baseline)",
            pct(h.slow_ratio),
            h.baseline.slow_threshold_us as f64 / 1000.0,
            h.p99_ms,
            h.baseline.p99_us as f64 / 1000.0
        ));
    }
    if h.surge {
        ev.push(format!(
            "rate {:.0}/s vs {:.0}/s baseline",
            h.rate, h.baseline.rate
        ));
    }
    if h.drop {
        ev.push(format!(
            "rate dropped to {:.0}/s from {:.0}/s",
            h.rate, h.baseline.rate
        ));
    }
    ev
}

impl Inputs<'_> {
    fn h(&self, k: &ViewKey) -> Option<&Health> {
        self.health.get(k)
    }
    fn bad(&self, k: &ViewKey) -> bool {
        self.h(k).is_some_and(|h| h.unhealthy())
    }
    fn onset(&self, keys: &[ViewKey]) -> u64 {
        keys.iter()
            .filter_map(|k| self.since.get(k))
            .min()
            .copied()
            .unwrap_or(self.now_us)
    }

    /// Runs the diagnosis: candidates, best first.
    pub fn diagnose(&self) -> Vec<Candidate> {
        let mut out: Vec<Candidate> = Vec::new();
        out.extend(self.zone_candidates());
        let (svc_culprits, bank_culprits) = self.walk();
        for b in &bank_culprits {
            out.push(self.bank_candidate(b));
        }
        for s in &svc_culprits {
            out.extend(self.classify(s, &bank_culprits));
        }
        if out.is_empty() {
            out.extend(self.quiet_hot_spots());
            out.extend(self.quiet_surge());
        }
        // Merge duplicates (same identity): keep the most confident.
        let mut best: BTreeMap<String, Candidate> = BTreeMap::new();
        for c in out {
            let id = c.root_cause.identity();
            match best.get(&id) {
                Some(b) if b.confidence >= c.confidence => {}
                _ => {
                    best.insert(id, c);
                }
            }
        }
        let mut v: Vec<Candidate> = best.into_values().collect();
        v.sort_by(|a, b| {
            b.confidence
                .total_cmp(&a.confidence)
                .then_with(|| a.root_cause.identity().cmp(&b.root_cause.identity()))
        });
        v
    }

    fn services(&self) -> BTreeSet<String> {
        self.health
            .keys()
            .filter_map(|k| match (&k.view, k.shadow) {
                (View::Service { service }, false) => Some(service.clone()),
                _ => None,
            })
            .collect()
    }

    /// Walks from every unhealthy service (and every caller of an unhealthy
    /// link) down unhealthy links to culprits: services whose own callees are
    /// healthy, and banks.
    fn walk(&self) -> (BTreeSet<String>, BTreeSet<String>) {
        let mut start: BTreeSet<String> = BTreeSet::new();
        for (k, h) in self.health {
            if k.shadow || !h.unhealthy() {
                continue;
            }
            match &k.view {
                View::Service { service } => {
                    start.insert(service.clone());
                }
                View::Link { from, .. } => {
                    start.insert(from.clone());
                }
                _ => {}
            }
        }
        let mut services = BTreeSet::new();
        let mut banks = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut stack: Vec<String> = start.into_iter().collect();
        while let Some(s) = stack.pop() {
            if !seen.insert(s.clone()) {
                continue;
            }
            let mut bad_banks = Vec::new();
            let mut all_banks = 0;
            let mut bad_services = Vec::new();
            for (node, _edge) in self.topo.callees(&s) {
                let link = ViewKey::link(&s, &node.id);
                let is_bank = node.kind == NodeKind::Bank;
                if is_bank {
                    all_banks += 1;
                }
                if !self.bad(&link) {
                    continue;
                }
                if is_bank {
                    bad_banks.push(node.id.clone());
                } else {
                    let server = ViewKey::service(&node.id);
                    // The callee's own (server-side) figures must agree; a link
                    // failing while the callee is fine is the caller's problem.
                    if self.h(&server).is_none() || self.bad(&server) {
                        bad_services.push(node.id.clone());
                    }
                }
            }
            if bad_banks.len() >= 2 && bad_banks.len() == all_banks {
                // Every bank failing at once: the gateway itself is the suspect.
                services.insert(s.clone());
            } else {
                banks.extend(bad_banks.iter().cloned());
            }
            if bad_services.is_empty() && bad_banks.is_empty() {
                services.insert(s.clone());
            }
            stack.extend(bad_services);
        }
        (services, banks)
    }

    fn bank_candidate(&self, bank: &str) -> Candidate {
        let k = ViewKey::bank(bank);
        let h = self.h(&k);
        let mut evidence = vec![format!(
            "bank channel {bank} failing while its callers' other dependencies are healthy"
        )];
        if let Some(h) = h {
            evidence.extend(describe(h));
        }
        let onset = self.onset(std::slice::from_ref(&k));
        if let Some(c) = self.changes.any_before(onset, 60_000_000, 2_000_000) {
            evidence.push(format!(
                "recent change (not blamed): {}",
                ChangeRef::of(c).label
            ));
        }
        Candidate {
            root_cause: RootCause::bank(bank),
            confidence: 0.9,
            evidence,
            codes: h.map(|h| h.error_codes.clone()).unwrap_or_default(),
            slow_share: h.map_or(0.0, |h| h.slow_ratio),
        }
    }

    /// Classifies a culprit service; may return several candidates.
    fn classify(&self, s: &str, bad_banks: &BTreeSet<String>) -> Vec<Candidate> {
        let sk = ViewKey::service(s);
        let links: Vec<ViewKey> = self
            .topo
            .callees(s)
            .iter()
            .map(|(n, _)| ViewKey::link(s, &n.id))
            .collect();
        // The service's own figures, or (if its server side looks fine) its worst link.
        let own = self.h(&sk).filter(|h| h.unhealthy()).or_else(|| {
            links
                .iter()
                .filter_map(|k| self.h(k))
                .filter(|h| h.unhealthy())
                .max_by(|a, b| a.severity.total_cmp(&b.severity))
        });
        let Some(h) = own.or(self.h(&sk)) else {
            return Vec::new();
        };
        let mut keys = vec![sk.clone()];
        keys.extend(links);
        let onset = self.onset(&keys);
        let base_ev = describe(h);
        let mut out = Vec::new();

        // Bad release: a change to this service just before the onset, and the
        // failures on its version.
        let lookback = self.cfg.change_lookback_s * 1_000_000;
        if let Some(ch) = self.changes.suspect_for(s, onset, lookback, 3_000_000) {
            let from = self.wm_s.saturating_sub(2);
            let vs = self.versions.of(s, from, self.wm_s + 1);
            let cref = ChangeRef::of(ch);
            let mut conf = 0.7;
            let mut ev = vec![format!("suspect change: {}", cref.label)];
            // A config push carries no version to compare failures on; one made within
            // seconds before this service itself went bad is the likeliest cause.
            let fresh = ch.time_us + 30_000_000 >= onset;
            if ch.version.is_empty()
                && ch.event == digest::ChangeKind::Config
                && fresh
                && (h.error_bad || h.slow_bad)
            {
                conf = 0.9;
                ev.push(format!(
                    "the config changed {:.1} s before the first bad request",
                    onset.saturating_sub(ch.time_us) as f64 / 1e6
                ));
            }
            if !ch.version.is_empty() && !vs.is_empty() {
                let new = vs.iter().find(|(v, _)| *v == ch.version).map(|x| x.1);
                let mut rest = crate::versions::VersionFigures::default();
                for (v, f) in &vs {
                    if *v != ch.version {
                        rest.count += f.count;
                        rest.errors += f.errors;
                        rest.latency_sum_us += f.latency_sum_us;
                    }
                }
                match new {
                    None => conf = 0.2, // the suspect version no longer serves
                    Some(n) => {
                        let worse_errors =
                            n.error_ratio() > rest.error_ratio() + self.cfg.error_ratio_floor;
                        let worse_latency =
                            rest.count > 0 && n.mean_latency_us() > 1.5 * rest.mean_latency_us();
                        if rest.count == 0 || worse_errors || worse_latency {
                            conf = 0.95;
                            ev.push(format!(
                                "version {}: {} calls, errors {}; other versions: {} calls, errors {}",
                                ch.version,
                                n.count,
                                pct(n.error_ratio()),
                                rest.count,
                                pct(rest.error_ratio())
                            ));
                        } else {
                            conf = 0.35;
                        }
                    }
                }
            }
            ev.extend(base_ev.clone());
            let mut rc = RootCause::service(CauseKind::BadRelease, s);
            rc.change = Some(cref);
            out.push(Candidate {
                root_cause: rc,
                confidence: conf,
                evidence: ev,
                codes: h.error_codes.clone(),
                slow_share: h.slow_ratio,
            });
        }

        // Hot spot: one key draws the failures, or surged in share.
        if let Some((hk, why)) = self.hot_key_in(s, bad_banks) {
            let mut ev = vec![why];
            ev.extend(base_ev.clone());
            let mut rc = RootCause::service(CauseKind::HotSpot, s);
            rc.key = Some(hk.label());
            out.push(Candidate {
                root_cause: rc,
                confidence: 0.85,
                evidence: ev,
                codes: h.error_codes.clone(),
                slow_share: h.slow_ratio,
            });
        } else if let Some(b) = self.bank_key_in(s) {
            // Failures concentrated on one bank although the link looks fine
            // in aggregate: still the bank.
            out.push(self.bank_candidate(&b));
        }

        // Overload: capacity codes, or a surge in rate.
        let cap_errors: u64 = h
            .error_codes
            .iter()
            .filter(|(c, _)| is_capacity_code(c))
            .map(|(_, n)| n)
            .sum();
        let surge = self.h(&sk).is_some_and(|x| x.surge);
        if (h.error_bad && cap_errors * 2 >= h.errors) || surge {
            let mut ev = base_ev.clone();
            if cap_errors > 0 {
                ev.insert(0, format!("{cap_errors} failures with capacity codes"));
            }
            if let Some(x) = self.h(&sk).filter(|x| x.surge) {
                ev.insert(
                    0,
                    format!("rate {:.0}/s vs {:.0}/s baseline", x.rate, x.baseline.rate),
                );
            }
            // Load that surged at the entry too is the entry's surge: blame
            // where it comes in (where a limit belongs), not where it hurts.
            let target = match self.surging_entry() {
                Some((entry, rate, base)) if cap_errors == 0 && surge && entry != s => {
                    ev.insert(
                        0,
                        format!("traffic surge at the entry {entry}: {rate:.0}/s vs {base:.0}/s"),
                    );
                    entry
                }
                _ => s.to_string(),
            };
            out.push(Candidate {
                root_cause: RootCause::service(CauseKind::Overload, &target),
                // A surge that makes the service slow or fail is the load's doing.
                confidence: if cap_errors > 0 {
                    0.85
                } else if surge {
                    0.83
                } else {
                    0.75
                },
                evidence: ev,
                codes: h.error_codes.clone(),
                slow_share: h.slow_ratio,
            });
        }

        // Otherwise: the service itself is slow or failing — narrowed to one
        // instance when its siblings are clearly fine.
        let slow = h.slow_bad && (!h.error_bad || h.slow_ratio > h.error_ratio);
        let (kind, mut conf) = if slow {
            (CauseKind::Latency, 0.8)
        } else {
            (CauseKind::Errors, 0.78)
        };
        let mut rc = RootCause::service(kind, s);
        let mut ev = base_ev;
        if let Some(sick) = self.sick_instance(s, slow) {
            rc.instance = Some(sick.instance);
            ev.insert(0, sick.evidence);
            conf += 0.02;
        }
        out.push(Candidate {
            root_cause: rc,
            confidence: conf,
            evidence: ev,
            codes: h.error_codes.clone(),
            slow_share: h.slow_ratio,
        });
        out
    }

    /// With nothing unhealthy: a traffic surge, blamed on the entry service that
    /// surged most.
    fn quiet_surge(&self) -> Vec<Candidate> {
        let mut best: Option<(&Health, &str)> = None;
        for (k, h) in self.health {
            if let (View::Service { service }, false) = (&k.view, k.shadow) {
                if h.surge && best.is_none_or(|(b, _)| h.count > b.count) {
                    best = Some((h, service));
                }
            }
        }
        let Some((h, s)) = best else {
            return Vec::new();
        };
        let target = self.surging_entry().map_or(s.to_string(), |e| e.0);
        vec![Candidate {
            root_cause: RootCause::service(CauseKind::Overload, &target),
            confidence: 0.6,
            evidence: describe(h),
            codes: Vec::new(),
            slow_share: h.slow_ratio,
        }]
    }

    /// The entry service (no callers among the services) whose rate surged
    /// most: `(service, rate, baseline rate)`.
    fn surging_entry(&self) -> Option<(String, f64, f64)> {
        let mut best: Option<(String, f64, f64)> = None;
        for (k, h) in self.health {
            let (View::Service { service }, false) = (&k.view, k.shadow) else {
                continue;
            };
            if !h.surge {
                continue;
            }
            let Some(i) = self.topo.index.get(service) else {
                continue;
            };
            let called = self
                .topo
                .graph
                .neighbors_directed(*i, petgraph::Direction::Incoming)
                .next()
                .is_some();
            if !called && best.as_ref().is_none_or(|b| h.rate > b.1) {
                best = Some((service.clone(), h.rate, h.baseline.rate));
            }
        }
        best
    }
}
