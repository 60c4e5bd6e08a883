//! The `Analyzer`: takes rollups, records and change events, and at each
//! `tick()` (at the clock's now) re-judges every view, rebuilds the topology and
//! runs the diagnosis (ranked candidates). Incidents are not its business: the
//! `command` crate opens them from [`Analyzer::candidates`] and
//! [`Analyzer::any_unhealthy`]. Not internally synchronized:
//! share it as `Arc<parking_lot::Mutex<Analyzer>>` (see [`SharedAnalyzer`]).

use crate::anomaly::{self, Baseline, ChangeLog, Health, Quarantine};
use crate::config::AnalyzerConfig;
use crate::diagnosis::{Candidate, Inputs};
use crate::error::AnalyzerError;
use crate::hotspot::HotSpots;
use crate::impact::{FailureLog, Impact};
use crate::topology::{Membership, Topology};
use crate::versions::Versions;
use crate::window::{EntryScenes, InstanceRollup, Retention, View, ViewKey, Windows};
use digest::{ChangeEvent, DigestRecord, RollupBuilder, SecondRollup, SharedClock, SpanKind};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// The analyzer behind a lock, as the binary and the dashboard share it.
pub type SharedAnalyzer = Arc<parking_lot::Mutex<Analyzer>>;

/// What the analyzer took in and refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IngestCounters {
    pub rollups: u64,
    pub rollups_refused: u64,
    pub records: u64,
    pub records_late: u64,
    pub records_future: u64,
    pub events: u64,
    pub ticks: u64,
}

pub struct Analyzer {
    pub(crate) cfg: AnalyzerConfig,
    clock: SharedClock,
    pub(crate) windows: Windows,
    pub(crate) hot: HotSpots,
    /// Payments at the entry, per scene (the screen's figures).
    pub(crate) entries: EntryScenes,
    versions: Versions,
    failures: FailureLog,
    members: Membership,
    pub(crate) changes: ChangeLog,
    pub(crate) topo: Topology,
    pub(crate) health: HashMap<ViewKey, Health>,
    since: HashMap<ViewKey, u64>,
    baselines: HashMap<ViewKey, Baseline>,
    /// The seconds anything real was unhealthy (and, apart, anything shadow): kept out of
    /// every baseline — a fault's effects reach views that are never judged unhealthy
    /// themselves (fewer calls downstream of a failing service), and none may learn them.
    quarantine: Quarantine,
    quarantine_shadow: Quarantine,
    /// Per view, the last baseline with enough seconds (used while quarantined seconds
    /// leave too few others).
    last_good: HashMap<ViewKey, Baseline>,
    baseline_second: u64,
    max_data_s: u64,
    pending: RollupBuilder,
    pending_n: u64,
    /// Per-instance figures of the records since the last tick.
    pending_instances: InstanceRollup,
    pub(crate) candidates: Vec<Candidate>,
    /// Whether any real (not shadow) view was unhealthy at the last tick.
    any_unhealthy: bool,
    counters: IngestCounters,
    last_expire_s: u64,
    pub(crate) now_us: u64,
}

impl Analyzer {
    pub fn new(cfg: AnalyzerConfig, clock: SharedClock) -> Result<Self, AnalyzerError> {
        cfg.validate()?;
        let retention = Retention {
            seconds_1s: cfg.retention_1s,
            buckets_10s: cfg.retention_10s,
            buckets_1m: cfg.retention_1m,
        };
        let now_us = clock.now_us();
        Ok(Self {
            windows: Windows::new(retention, cfg.lateness_s)
                .with_max_instances(cfg.max_instances)
                .with_business_codes(cfg.business_codes.clone()),
            hot: HotSpots::new(cfg.hot_k, 64),
            entries: EntryScenes::new(crate::api::ENTRY_WINDOW_S as usize + 4),
            versions: Versions::default(),
            failures: FailureLog::new(cfg.retention_1s),
            members: Membership::default(),
            changes: ChangeLog::new(10_000).with_own_actors(&cfg.own_actors),
            topo: Topology::default(),
            health: HashMap::new(),
            since: HashMap::new(),
            baselines: HashMap::new(),
            quarantine: Quarantine::default(),
            quarantine_shadow: Quarantine::default(),
            last_good: HashMap::new(),
            baseline_second: u64::MAX,
            max_data_s: 0,
            pending: RollupBuilder::default(),
            pending_n: 0,
            pending_instances: InstanceRollup::new(cfg.max_instances),
            candidates: Vec::new(),
            any_unhealthy: false,
            counters: IngestCounters::default(),
            last_expire_s: now_us / 1_000_000,
            now_us,
            cfg,
            clock,
        })
    }

    pub fn shared(self) -> SharedAnalyzer {
        Arc::new(parking_lot::Mutex::new(self))
    }

    pub fn config(&self) -> &AnalyzerConfig {
        &self.cfg
    }

    fn now_s(&self) -> u64 {
        self.clock.now_us() / 1_000_000
    }

    /// Merges one per-second rollup (a collector's partial, or a whole second).
    /// Returns false if it was refused as too late or too far ahead (counted).
    pub fn ingest_rollup(&mut self, r: &SecondRollup) -> bool {
        let now_s = self.now_s();
        if !self.windows.ingest(r, now_s) {
            self.counters.rollups_refused += 1;
            return false;
        }
        self.counters.rollups += 1;
        self.max_data_s = self.max_data_s.max(r.second);
        for k in r.series.keys() {
            if k.kind == SpanKind::Server && !k.shadow && !k.scene.is_empty() {
                self.members.see_scene(&k.scene, &k.service, r.second);
            }
        }
        true
    }

    /// Takes one accepted raw record for what rollups cannot carry: business
    /// keys (hot spots), versions, instances (membership and the per-instance
    /// views, merged at the next `tick()`), failed payments and users
    /// (impact). O(number of keys) amortized. Does NOT feed the windows — the
    /// rollups do; use [`Analyzer::ingest_raw`] when there is no collector.
    pub fn ingest_record(&mut self, r: &DigestRecord) -> bool {
        let now_s = self.now_s();
        let s = r.time_us / 1_000_000;
        if s + self.cfg.lateness_s < now_s {
            self.counters.records_late += 1;
            return false;
        }
        if s > now_s + self.cfg.lateness_s.max(2) {
            self.counters.records_future += 1;
            return false;
        }
        self.counters.records += 1;
        self.hot.add(r);
        self.entries.add(r);
        self.versions.add(r);
        self.failures.add(r);
        self.pending_instances.add(r);
        if !r.shadow {
            self.members.see_instance(&r.service, &r.instance, s);
        }
        true
    }

    /// A record with no collector in front: feeds [`Analyzer::ingest_record`]
    /// and an internal per-second rollup that the next `tick()` merges (the
    /// open second included, so evaluation is sub-second).
    pub fn ingest_raw(&mut self, r: &DigestRecord) -> bool {
        if !self.ingest_record(r) {
            return false;
        }
        self.pending.add(r);
        self.pending_n += 1;
        true
    }

    /// Takes a change event (deploy, config, rule, switch, rollback).
    pub fn ingest_event(&mut self, e: &ChangeEvent) {
        self.counters.events += 1;
        self.changes.add(e.clone());
    }

    pub fn counters(&self) -> IngestCounters {
        self.counters
    }

    /// The current ranked candidates (empty when all is well).
    pub fn candidates(&self) -> &[Candidate] {
        &self.candidates
    }

    /// Whether any real (not shadow) service, bank, link or other view was
    /// unhealthy at the last tick, named by a candidate or not.
    pub fn any_unhealthy(&self) -> bool {
        self.any_unhealthy
    }

    /// The health of every view at the last tick.
    pub fn health(&self) -> &HashMap<ViewKey, Health> {
        &self.health
    }

    pub fn topology(&self) -> &Topology {
        &self.topo
    }

    /// The damage from `from_us` to the newest data (the watermark second).
    pub fn impact_since(&self, from_us: u64) -> Impact {
        self.failures.since(from_us, self.watermark_s())
    }

    /// Failed real payments taken so far, a counter that only grows (the command loop's
    /// no-harm check reads rates off its differences at 100 ms resolution).
    pub fn failed_payments_total(&self) -> u64 {
        self.failures.total()
    }

    /// Whether `caller`'s calls reach `callee` in the live call graph (directly or
    /// through other services).
    pub fn calls_reach(&self, caller: &str, callee: &str) -> bool {
        self.topo.reaches(caller, callee)
    }

    /// Real payments taken so far, failed or not (a counter, like
    /// [`Analyzer::failed_payments_total`]).
    pub fn payments_total(&self) -> u64 {
        self.failures.payments()
    }

    /// Failed real payments so far whose result code is one of `codes` (a counter: the
    /// no-harm check reads a plan's own load shedding off it).
    pub fn failed_payments_with_codes(&self, codes: &[String]) -> u64 {
        self.failures.failed_with_codes(codes)
    }

    /// Newest second with data (never ahead of the clock).
    pub fn watermark_s(&self) -> u64 {
        let now_s = self.now_s();
        if self.max_data_s == 0 {
            now_s
        } else {
            self.max_data_s.min(now_s)
        }
    }

    /// Evaluates everything at the clock's now.
    pub fn tick(&mut self) {
        self.counters.ticks += 1;
        let now_us = self.clock.now_us();
        self.now_us = now_us;
        let now_s = now_us / 1_000_000;
        if self.pending_n > 0 {
            self.pending_n = 0;
            for r in self.pending.take_all() {
                if self.ingest_rollup(&r) {
                    self.counters.rollups -= 1; // internal, not a collector rollup
                }
            }
        }
        if !self.pending_instances.is_empty() {
            let pending = self.pending_instances.take();
            self.windows.ingest_instances(pending, now_s);
        }
        let wm = self.watermark_s();
        let open_frac = if wm == now_s {
            (now_us % 1_000_000) as f64 / 1_000_000.0
        } else {
            1.0
        };
        if self.baseline_second != now_s {
            self.baseline_second = now_s;
            self.baselines.clear();
            let mature = (self.cfg.baseline_s / 2).clamp(1, 10) as u32;
            for (k, t) in self.windows.iter() {
                let q = if k.shadow {
                    &self.quarantine_shadow
                } else {
                    &self.quarantine
                };
                let q = (!q.is_empty()).then_some(q);
                let mut b = anomaly::baseline(t, now_s, &self.cfg, q);
                if b.seconds >= mature {
                    self.last_good.insert(k.clone(), b);
                } else if q.is_some() {
                    if let Some(good) = self.last_good.get(k) {
                        b = *good;
                    }
                }
                self.baselines.insert(k.clone(), b);
            }
            if now_s >= self.last_expire_s + 60 {
                self.last_expire_s = now_s;
                self.windows.expire(now_s);
                self.members.expire(now_s.saturating_sub(600));
                let keep_from = now_s.saturating_sub(self.cfg.retention_1s as u64);
                self.quarantine.expire(keep_from);
                self.quarantine_shadow.expire(keep_from);
                let windows = &self.windows;
                self.last_good.retain(|k, _| windows.contains(k));
            }
        }
        let mut health = HashMap::with_capacity(self.baselines.len());
        for (k, t) in self.windows.iter() {
            let base = self.baselines.get(k).copied().unwrap_or_default();
            health.insert(
                k.clone(),
                anomaly::evaluate(k, t, &base, wm, open_frac, &self.cfg),
            );
        }
        // Track since when each view is unhealthy.
        self.since
            .retain(|k, _| health.get(k).is_some_and(|h| h.unhealthy() || h.drop));
        let mut names = BTreeSet::new();
        let mut any_bad = false;
        let mut any_shadow_bad = false;
        for (k, h) in &health {
            if !(h.unhealthy() || h.drop) {
                continue;
            }
            self.since.entry(k.clone()).or_insert(now_us);
            if k.shadow {
                any_shadow_bad |= h.unhealthy();
                continue;
            }
            if h.unhealthy() {
                any_bad = true;
            }
            match &k.view {
                View::Service { service } => {
                    names.insert(service.clone());
                }
                View::Bank { bank } => {
                    names.insert(bank.clone());
                }
                View::Link { from, to } => {
                    names.insert(format!("{from}→{to}"));
                }
                _ => {}
            }
        }
        // Quarantine the seconds of this episode (from a gap before its first unhealthy
        // tick: the fault may have begun before it was judged), at most
        // `quarantine_max_s` in a row: a fault older than that is the new normal.
        for (bad, shadow) in [(any_bad, false), (any_shadow_bad, true)] {
            let q = if shadow {
                &mut self.quarantine_shadow
            } else {
                &mut self.quarantine
            };
            if bad {
                let from = if q.contains(wm.saturating_sub(1)) {
                    wm
                } else {
                    wm.saturating_sub(self.cfg.baseline_gap_s)
                };
                if q.run_ending_at(wm.saturating_sub(1)) < self.cfg.quarantine_max_s {
                    q.mark(from, wm);
                }
            }
        }
        self.health = health;
        self.topo = Topology::build(&self.windows, &self.members, wm, 10, &names);
        let inputs = Inputs {
            health: &self.health,
            since: &self.since,
            topo: &self.topo,
            hot: &self.hot,
            versions: &self.versions,
            changes: &self.changes,
            windows: &self.windows,
            cfg: &self.cfg,
            now_us,
            wm_s: wm,
        };
        self.candidates = inputs.diagnose();
        self.any_unhealthy = any_bad;
    }
}
