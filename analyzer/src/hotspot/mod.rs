//! Hot spots: heavy hitters over business keys (merchant, account, user, bank,
//! item, …) per service and per scene, real and shadow apart, over sliding
//! windows of one-second Misra–Gries summaries. A key's share of traffic, of
//! errors and its mean latency are read over the last few seconds and compared
//! with its share over the previous minute, so a surging merchant shows up
//! within a couple of seconds.

mod summary;

pub use summary::{KeyEntry, Summary};

use digest::{DigestRecord, SpanKind};
use serde::Serialize;
use std::collections::HashMap;

/// Where a key is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    Service,
    Scene,
}

/// Per-second summaries of one (scope, key name).
#[derive(Debug, Clone)]
struct KeyRing {
    slots: Vec<(u64, Summary)>,
}

impl KeyRing {
    fn new(len: usize, k: usize) -> Self {
        Self {
            slots: (0..len).map(|_| (u64::MAX, Summary::new(k))).collect(),
        }
    }
    fn add(&mut self, second: u64, key: &str, failed: bool, lat: u64) {
        let idx = (second % self.slots.len() as u64) as usize;
        let slot = &mut self.slots[idx];
        if slot.0 != second {
            if slot.0 != u64::MAX && slot.0 > second {
                return; // older than the ring holds
            }
            slot.0 = second;
            slot.1.clear();
        }
        slot.1.add(key, failed, lat);
    }
    fn merged(&self, from: u64, to: u64) -> Summary {
        let mut out = Summary::new(1);
        for (s, sum) in &self.slots {
            if *s != u64::MAX && *s >= from && *s < to {
                out.merge(sum);
            }
        }
        out
    }
    /// The key's count, the scope's total and the seconds with data in `[from, to)`.
    fn key_in(&self, key: &str, from: u64, to: u64) -> (u64, u64, u32) {
        let (mut c, mut total, mut secs) = (0, 0, 0);
        for (s, sum) in &self.slots {
            if *s != u64::MAX && *s >= from && *s < to && sum.total > 0 {
                total += sum.total;
                secs += 1;
                c += sum.entries.get(key).map_or(0, |e| e.count);
            }
        }
        (c, total, secs)
    }
}

/// One hot key as the API and the diagnosis see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HotKey {
    pub scope: ScopeKind,
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
    /// The scope's calls in the minute before (how much the baseline share is worth).
    pub baseline_calls: u64,
    /// Seconds with data in the minute before (a share over a few seconds
    /// after start-up says little about what is normal).
    pub baseline_seconds: u32,
    pub errors: u64,
    /// Share of the scope's errors.
    pub error_share: f64,
    pub mean_latency_ms: f64,
    /// The scope's mean latency, for comparison.
    pub scope_mean_latency_ms: f64,
}

impl HotKey {
    /// `merchant:m42`.
    pub fn label(&self) -> String {
        format!("{}:{}", self.key, self.value)
    }
}

type ByKeyName = HashMap<String, KeyRing>;

/// All hot-spot summaries.
#[derive(Debug)]
pub struct HotSpots {
    k: usize,
    ring_len: usize,
    /// `[shadow][scope kind]`: scope name → key name → ring.
    maps: [[HashMap<String, ByKeyName>; 2]; 2],
    pub records: u64,
}

impl HotSpots {
    pub fn new(k: usize, ring_len: usize) -> Self {
        Self {
            k,
            ring_len,
            maps: Default::default(),
            records: 0,
        }
    }

    /// Counts one record's keys: server records per service, root server records
    /// (the payment's entry) per scene. O(keys) amortized.
    pub fn add(&mut self, r: &DigestRecord) {
        if r.kind != SpanKind::Server || r.keys.is_empty() {
            return;
        }
        self.records += 1;
        let second = r.time_us / 1_000_000;
        let failed = !r.success;
        let (k, len) = (self.k, self.ring_len);
        let sh = r.shadow as usize;
        let put = |map: &mut HashMap<String, ByKeyName>, scope: &str| {
            let by = match map.get_mut(scope) {
                Some(b) => b,
                None => map.entry(scope.to_string()).or_default(),
            };
            for (name, value) in &r.keys {
                let ring = match by.get_mut(name.as_str()) {
                    Some(x) => x,
                    None => by
                        .entry(name.clone())
                        .or_insert_with(|| KeyRing::new(len, k)),
                };
                ring.add(second, value, failed, r.duration_us);
            }
        };
        put(&mut self.maps[sh][0], &r.service);
        if r.parent_span_id.is_none() && !r.scene.is_empty() {
            put(&mut self.maps[sh][1], &r.scene);
        }
    }

    /// Top keys of every scope over `[now_s - recent_s + 1, now_s]` (the open
    /// second included), with their baseline share over the minute before.
    pub fn top(&self, now_s: u64, recent_s: u64, per_scope: usize) -> Vec<HotKey> {
        let mut out = Vec::new();
        for (sh, pair) in self.maps.iter().enumerate() {
            for (si, map) in pair.iter().enumerate() {
                let scope = if si == 0 {
                    ScopeKind::Service
                } else {
                    ScopeKind::Scene
                };
                for (within, by) in map {
                    for (name, ring) in by {
                        out.extend(hot_of(
                            ring,
                            scope,
                            within,
                            sh == 1,
                            name,
                            now_s,
                            recent_s,
                            per_scope,
                        ));
                    }
                }
            }
        }
        out.sort_by(|a, b| b.share.total_cmp(&a.share));
        out
    }

    /// Top keys of one service (real traffic).
    pub fn top_in_service(
        &self,
        service: &str,
        now_s: u64,
        recent_s: u64,
        n: usize,
    ) -> Vec<HotKey> {
        let mut out = Vec::new();
        if let Some(by) = self.maps[0][0].get(service) {
            for (name, ring) in by {
                out.extend(hot_of(
                    ring,
                    ScopeKind::Service,
                    service,
                    false,
                    name,
                    now_s,
                    recent_s,
                    n,
                ));
            }
        }
        out
    }
}

#[allow(clippy::too_many_arguments)]
fn hot_of(
    ring: &KeyRing,
    scope: ScopeKind,
    within: &str,
    shadow: bool,
    name: &str,
    now_s: u64,
    recent_s: u64,
    n: usize,
) -> Vec<HotKey> {
    let from = (now_s + 1).saturating_sub(recent_s);
    let recent = ring.merged(from, now_s + 1);
    if recent.total == 0 {
        return Vec::new();
    }
    let base_from = from.saturating_sub(60);
    let scope_mean = recent.total_latency_us as f64 / recent.total as f64 / 1000.0;
    let mut keys: Vec<(String, KeyEntry)> = recent.top(n);
    for e in recent.top_errors(2) {
        if !keys.iter().any(|(k, _)| *k == e.0) {
            keys.push(e);
        }
    }
    keys.into_iter()
        .map(|(value, e)| {
            let (bc, bt, bs) = ring.key_in(&value, base_from, from);
            HotKey {
                scope,
                within: within.to_string(),
                shadow,
                key: name.to_string(),
                count: e.count,
                share: e.count as f64 / recent.total as f64,
                baseline_share: if bt == 0 { 0.0 } else { bc as f64 / bt as f64 },
                baseline_calls: bt,
                baseline_seconds: bs,
                errors: e.errors.min(e.count),
                error_share: if recent.total_errors == 0 {
                    0.0
                } else {
                    e.errors.min(e.count) as f64 / recent.total_errors as f64
                },
                mean_latency_ms: if e.count == 0 {
                    0.0
                } else {
                    e.latency_sum_us as f64 / e.count as f64 / 1000.0
                },
                scope_mean_latency_ms: scope_mean,
                value,
            }
        })
        .collect()
}
