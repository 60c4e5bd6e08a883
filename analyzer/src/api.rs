//! The JSON API bodies, one axum-free function per endpoint (the dashboard
//! mounts them): `/api/topology`, `/api/services`, `/api/hotspots`,
//! the diagnosis (candidates and recent changes), and the views the screen's figures
//! are read from: the platform's entry ([`entry`]: payments/s, success, scenes) and
//! the change log ([`changes`]). (`/api/slo` lives in the `sla` crate.)

use crate::analyzer::{Analyzer, IngestCounters};
use crate::anomaly::{ChangeRef, Health};
use crate::diagnosis::Candidate;
use crate::hotspot::HotKey;
use crate::topology::TopologySnapshot;
use crate::window::{StatsSummary, View, ViewKey, WindowCounters};
use digest::ChangeEvent;
use serde::Serialize;

/// `GET /api/topology`.
pub fn topology(a: &Analyzer) -> TopologySnapshot {
    a.topo.snapshot()
}

/// One row of `/api/services` (and of its scenes, banks and zones).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ViewRow {
    #[serde(flatten)]
    pub key: ViewKey,
    pub healthy: bool,
    /// The last 10 seconds.
    pub last_10s: StatsSummary,
    /// The last minute.
    pub last_1m: StatsSummary,
    /// The judgement at the last tick.
    pub health: Option<Health>,
}

/// `GET /api/services`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServicesSnapshot {
    pub now_us: u64,
    pub services: Vec<ViewRow>,
    pub operations: Vec<ViewRow>,
    pub edges: Vec<ViewRow>,
    pub scenes: Vec<ViewRow>,
    pub banks: Vec<ViewRow>,
    pub zones: Vec<ViewRow>,
    /// One row per instance of a service (`view: "instance"`).
    pub instances: Vec<ViewRow>,
    pub counters: IngestCounters,
    pub windows: WindowCounters,
}

pub fn services(a: &Analyzer) -> ServicesSnapshot {
    let wm = a.watermark_s();
    let mut keys: Vec<&ViewKey> = a.windows.keys().collect();
    keys.sort();
    let mut snap = ServicesSnapshot {
        now_us: a.now_us,
        services: Vec::new(),
        operations: Vec::new(),
        edges: Vec::new(),
        scenes: Vec::new(),
        banks: Vec::new(),
        zones: Vec::new(),
        instances: Vec::new(),
        counters: a.counters(),
        windows: a.windows.counters,
    };
    for k in keys {
        let h = a.health.get(k).cloned();
        let row = ViewRow {
            key: k.clone(),
            healthy: h.as_ref().is_none_or(|h| !h.unhealthy()),
            last_10s: a
                .windows
                .range(k, wm.saturating_sub(9), wm + 1, wm)
                .summary(10.0),
            last_1m: a
                .windows
                .range(k, wm.saturating_sub(59), wm + 1, wm)
                .summary(60.0),
            health: h,
        };
        match k.view {
            View::Service { .. } => snap.services.push(row),
            View::Operation { .. } => snap.operations.push(row),
            View::Link { .. } => snap.edges.push(row),
            View::Edge { .. } | View::ServiceZone { .. } => {}
            View::Scene { .. } => snap.scenes.push(row),
            View::Bank { .. } => snap.banks.push(row),
            View::Zone { .. } => snap.zones.push(row),
            View::Instance { .. } => snap.instances.push(row),
        }
    }
    snap
}

/// `GET /api/hotspots`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HotspotsSnapshot {
    /// Seconds the shares are read over.
    pub window_s: u64,
    /// Keys by share, at most 5 per (scope, key name), real and shadow apart.
    pub keys: Vec<HotKey>,
    /// Keys judged hot (share ≥ hot_share and surged), real traffic only.
    pub hot: Vec<HotKey>,
}

pub fn hotspots(a: &Analyzer) -> HotspotsSnapshot {
    let wm = a.watermark_s();
    let keys = a.hot.top(wm, a.cfg.hot_recent_s, 5);
    let hot = keys
        .iter()
        .filter(|k| {
            !k.shadow
                && k.key != "user"
                && k.count >= a.cfg.min_volume
                && k.baseline_calls >= 10 * a.cfg.min_volume
                && k.baseline_seconds as u64 >= crate::diagnosis::warm_seconds(&a.cfg)
                && k.share >= a.cfg.hot_share
                && k.share >= a.cfg.hot_surge_factor * k.baseline_share
        })
        .cloned()
        .collect();
    HotspotsSnapshot {
        window_s: a.cfg.hot_recent_s,
        keys,
        hot,
    }
}

/// The diagnosis as of the last tick: the ranked candidates and the recent changes
/// they may be blamed on (incidents are the `command` crate's).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiagnosisSnapshot {
    pub now_us: u64,
    /// The diagnosis at the last tick, best first.
    pub candidates: Vec<Candidate>,
    /// The last 20 change events, newest first.
    pub changes: Vec<ChangeRef>,
}

pub fn diagnosis(a: &Analyzer) -> DiagnosisSnapshot {
    DiagnosisSnapshot {
        now_us: a.now_us,
        candidates: a.candidates.clone(),
        changes: a.changes.recent(20).map(ChangeRef::of).collect(),
    }
}

/// Seconds over which [`entry`] reads success and scene rates.
pub const ENTRY_WINDOW_S: u64 = 10;

/// One scene at the platform's entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SceneEntry {
    pub scene: String,
    /// Payments per second over the last [`ENTRY_WINDOW_S`] complete seconds.
    pub rate: f64,
    /// Share of them that succeeded.
    pub success_rate: f64,
}

/// Payments entering the platform: the first span of each payment (a server record
/// without a parent), real traffic only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntrySnapshot {
    /// The analyzer's last tick.
    pub now_us: u64,
    /// Payments in the last complete second.
    pub payments_per_s: f64,
    /// Share of successful payments over the last [`ENTRY_WINDOW_S`] complete seconds
    /// (`None` without traffic).
    pub success_rate: Option<f64>,
    /// Scenes with payments in that window, by name (records without a scene count
    /// in the totals only).
    pub scenes: Vec<SceneEntry>,
}

pub fn entry(a: &Analyzer) -> EntrySnapshot {
    let now_s = a.now_us / 1_000_000;
    let last: u64 = a
        .entries
        .range(now_s.saturating_sub(1), now_s)
        .values()
        .map(|t| t.payments)
        .sum();
    let window = a.entries.range(now_s.saturating_sub(ENTRY_WINDOW_S), now_s);
    let (n, ok) = window
        .values()
        .fold((0, 0), |(n, ok), t| (n + t.payments, ok + t.ok));
    EntrySnapshot {
        now_us: a.now_us,
        payments_per_s: last as f64,
        success_rate: (n > 0).then(|| ok as f64 / n as f64),
        scenes: window
            .iter()
            .filter(|(scene, t)| !scene.is_empty() && t.payments > 0)
            .map(|(scene, t)| SceneEntry {
                scene: scene.to_string(),
                rate: t.payments as f64 / ENTRY_WINDOW_S as f64,
                success_rate: t.ok as f64 / t.payments as f64,
            })
            .collect(),
    }
}

/// The newest `n` change events the analyzer holds, newest first.
pub fn changes(a: &Analyzer, n: usize) -> Vec<ChangeEvent> {
    a.changes.recent(n).cloned().collect()
}
