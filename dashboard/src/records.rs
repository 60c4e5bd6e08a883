//! [`RecordBackend`]: a self-contained [`DashboardBackend`] over raw digest records and
//! change events — per-second rollups (the `digest` types), entry payments, scenes,
//! the call graph, services, traces, changes. It has no incidents, alerts, SLOs or
//! actions (those come from the analyzer, alerts and healer through the root wiring);
//! it serves the browser harness and a dashboard started before that wiring exists.

use crate::backend::{
    DashboardBackend, Health, Overview, SceneStatus, Topology, TopologyEdge, TopologyNode,
};
use crate::BackendError;
use digest::{decode_line, event_to_line, record_to_line, DecodeError, Line};
use digest::{ChangeEvent, DigestRecord, Histogram, SecondRollup, SharedClock, SpanKind, TraceId};
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};

/// Seconds over which rates, ratios and latencies are computed.
pub const WINDOW_S: u64 = 10;
const KEEP_S: u64 = 120;
const MAX_TRACES: usize = 20_000;
const MAX_CHANGES: usize = 500;

#[derive(Default)]
struct Inner {
    seconds: BTreeMap<u64, SecondRollup>,
    /// Entry payments (server spans without a parent): second → scene → (count, ok).
    entries: BTreeMap<u64, BTreeMap<String, (u64, u64)>>,
    traces: HashMap<TraceId, Vec<DigestRecord>>,
    trace_order: VecDeque<TraceId>,
    changes: VecDeque<ChangeEvent>,
    rejected: u64,
}

/// Figures straight from digest records, on an injected clock.
pub struct RecordBackend {
    clock: SharedClock,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Agg {
    count: u64,
    errors: u64,
    hist: Histogram,
}

impl Agg {
    fn json(&self, window_s: u64) -> (f64, f64, f64) {
        let rate = self.count as f64 / window_s as f64;
        let ratio = if self.count == 0 {
            0.0
        } else {
            self.errors as f64 / self.count as f64
        };
        (rate, ratio, self.hist.quantile(0.99) as f64 / 1000.0)
    }
}

impl RecordBackend {
    pub fn new(clock: SharedClock) -> Self {
        Self {
            clock,
            inner: Mutex::new(Inner::default()),
        }
    }

    pub fn ingest(&self, r: DigestRecord) {
        let sec = r.time_us / 1_000_000;
        let mut g = self.inner.lock();
        g.seconds
            .entry(sec)
            .or_insert_with(|| SecondRollup::new(sec))
            .add(&r);
        if r.parent_span_id.is_none() && r.kind == SpanKind::Server && !r.shadow {
            let e = g
                .entries
                .entry(sec)
                .or_default()
                .entry(r.scene.clone())
                .or_default();
            e.0 += 1;
            e.1 += u64::from(r.success);
        }
        if !g.traces.contains_key(&r.trace_id) {
            g.trace_order.push_back(r.trace_id);
            if g.trace_order.len() > MAX_TRACES {
                if let Some(old) = g.trace_order.pop_front() {
                    g.traces.remove(&old);
                }
            }
        }
        g.traces.entry(r.trace_id).or_default().push(r);
        let horizon = (self.clock.now_us() / 1_000_000).saturating_sub(KEEP_S);
        g.seconds = g.seconds.split_off(&horizon);
        g.entries = g.entries.split_off(&horizon);
    }

    pub fn ingest_event(&self, e: ChangeEvent) {
        let mut g = self.inner.lock();
        g.changes.push_front(e);
        g.changes.truncate(MAX_CHANGES);
    }

    /// One v1 digest line (record or change event); a bad line is counted and refused.
    pub fn ingest_line(&self, line: &[u8]) -> Result<(), DecodeError> {
        match decode_line(line) {
            Ok(Line::Record(r)) => self.ingest(r),
            Ok(Line::Event(e)) => self.ingest_event(e),
            Err(e) => {
                self.inner.lock().rejected += 1;
                return Err(e);
            }
        }
        Ok(())
    }

    /// Lines refused by [`Self::ingest_line`].
    pub fn rejected(&self) -> u64 {
        self.inner.lock().rejected
    }

    /// The complete seconds `[now-WINDOW_S, now)`.
    fn window(&self) -> std::ops::Range<u64> {
        let now = self.clock.now_us() / 1_000_000;
        now.saturating_sub(WINDOW_S)..now
    }

    /// Aggregates series of the window by a key; `None` skips a series.
    fn by<K: Ord>(&self, key: impl Fn(&digest::SeriesKey) -> Option<K>) -> BTreeMap<K, Agg> {
        let g = self.inner.lock();
        let mut out: BTreeMap<K, Agg> = BTreeMap::new();
        for roll in g.seconds.range(self.window()).map(|(_, r)| r) {
            for (k, s) in &roll.series {
                if k.shadow {
                    continue;
                }
                if let Some(key) = key(k) {
                    let a = out.entry(key).or_default();
                    a.count += s.count;
                    a.errors += s.errors;
                    a.hist.merge(&s.latency_us);
                }
            }
        }
        out
    }
}

impl DashboardBackend for RecordBackend {
    fn overview(&self) -> Overview {
        let now_us = self.clock.now_us();
        let last = (now_us / 1_000_000).saturating_sub(1);
        let g = self.inner.lock();
        let sum = |m: &BTreeMap<String, (u64, u64)>| {
            m.values().fold((0, 0), |a, v| (a.0 + v.0, a.1 + v.1))
        };
        let per_s = g.entries.get(&last).map(sum).unwrap_or((0, 0)).0;
        let (n, ok) = g
            .entries
            .range(self.window())
            .map(|(_, m)| sum(m))
            .fold((0, 0), |a, v| (a.0 + v.0, a.1 + v.1));
        Overview {
            as_of_us: now_us,
            payments_per_s: per_s as f64,
            success_rate: (n > 0).then(|| ok as f64 / n as f64),
            ..Overview::default()
        }
    }

    fn scenes(&self) -> Vec<SceneStatus> {
        let g = self.inner.lock();
        let mut per: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        for m in g.entries.range(self.window()).map(|(_, m)| m) {
            for (scene, (n, ok)) in m {
                let e = per.entry(scene.as_str()).or_default();
                e.0 += n;
                e.1 += ok;
            }
        }
        per.into_iter()
            .map(|(scene, (n, ok))| {
                let sr = ok as f64 / n.max(1) as f64;
                SceneStatus {
                    scene: scene.to_string(),
                    health: Health::of_error_ratio(1.0 - sr),
                    rate: n as f64 / WINDOW_S as f64,
                    success_rate: Some(sr),
                }
            })
            .collect()
    }

    fn topology(&self) -> Topology {
        let edges = self.by(|k| {
            matches!(k.kind, SpanKind::Client | SpanKind::Integrator).then(|| {
                (
                    k.service.clone(),
                    k.peer.clone(),
                    k.kind == SpanKind::Integrator,
                )
            })
        });
        let servers = self.by(|k| (k.kind == SpanKind::Server).then(|| k.service.clone()));
        let mut nodes: BTreeMap<String, TopologyNode> = BTreeMap::new();
        let mut node = |id: &str, kind: &str, a: Option<&Agg>| {
            let n = nodes.entry(id.to_string()).or_insert_with(|| TopologyNode {
                id: id.to_string(),
                kind: kind.to_string(),
                health: Health::Green,
                root_cause: false,
                detail: Value::Null,
            });
            if let Some(a) = a {
                let (rate, ratio, p99) = a.json(WINDOW_S);
                n.health = Health::of_error_ratio(ratio);
                n.detail = json!({"rate": rate, "error_ratio": ratio, "p99_ms": p99});
            }
        };
        for (svc, a) in &servers {
            node(svc, "service", Some(a));
        }
        let mut out_edges = Vec::new();
        for ((from, to, external), a) in &edges {
            node(from, "service", None);
            let kind = if *external { "bank" } else { "service" };
            node(to, kind, if *external { Some(a) } else { None });
            let (rate, error_ratio, p99_ms) = a.json(WINDOW_S);
            out_edges.push(TopologyEdge {
                from: from.clone(),
                to: to.clone(),
                rate,
                error_ratio,
                p99_ms,
            });
        }
        Topology {
            nodes: nodes.into_values().collect(),
            edges: out_edges,
        }
    }

    fn services(&self) -> Value {
        let servers = self.by(|k| (k.kind == SpanKind::Server).then(|| k.service.clone()));
        let list: Vec<Value> = servers
            .iter()
            .map(|(svc, a)| {
                let (rate, ratio, p99) = a.json(WINDOW_S);
                json!({"service": svc, "rate": rate, "error_ratio": ratio, "p99_ms": p99,
                       "health": Health::of_error_ratio(ratio)})
            })
            .collect();
        json!(list)
    }

    fn changes(&self) -> Value {
        let g = self.inner.lock();
        let list: Vec<Value> = g
            .changes
            .iter()
            .filter_map(|e| serde_json::from_str(&event_to_line(e)).ok())
            .collect();
        json!(list)
    }

    fn trace(&self, id: TraceId) -> Result<Value, BackendError> {
        let g = self.inner.lock();
        let recs = g
            .traces
            .get(&id)
            .ok_or_else(|| BackendError::NotFound(format!("trace {}", id.to_hex())))?;
        let mut list: Vec<&DigestRecord> = recs.iter().collect();
        list.sort_by_key(|r| (r.time_us, r.span_id.0));
        let out: Vec<Value> = list
            .iter()
            .filter_map(|r| serde_json::from_str(&record_to_line(r)).ok())
            .collect();
        Ok(json!(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use digest::{ManualClock, SpanId};
    use std::sync::Arc;

    fn entry(n: u64, t: u64, ok: bool, shadow: bool) -> DigestRecord {
        DigestRecord {
            time_us: t,
            trace_id: TraceId(n as u128 + 1),
            span_id: SpanId(n + 1),
            kind: SpanKind::Server,
            service: "cashier".into(),
            operation: "cashier.pay".into(),
            success: ok,
            code: if ok { "SUCCESS" } else { "FAIL" }.into(),
            scene: "quick_pay".into(),
            shadow,
            duration_us: 1000,
            ..Default::default()
        }
    }

    #[test]
    fn rate_is_the_last_complete_second_and_shadow_traffic_is_kept_apart() {
        let t0 = 1_800_000_000_000_000;
        let clock = ManualClock::new(t0);
        let b = RecordBackend::new(Arc::new(clock.clone()));
        for i in 0..10 {
            b.ingest(entry(i, t0 + i * 1000, i != 0, false));
        }
        for i in 10..15 {
            b.ingest(entry(i, t0 + i * 1000, false, true));
        }
        assert_eq!(
            b.overview().payments_per_s,
            0.0,
            "the second is not complete yet"
        );
        clock.advance_secs(1);
        let o = b.overview();
        assert_eq!(o.payments_per_s, 10.0, "shadow payments are not counted");
        assert_eq!(o.success_rate, Some(0.9));
        assert_eq!(b.services()[0]["error_ratio"], 0.1);
        clock.advance_secs(2);
        assert_eq!(b.overview().payments_per_s, 0.0);
        assert_eq!(
            b.overview().success_rate,
            Some(0.9),
            "still inside the 10 s window"
        );
        clock.advance_secs(WINDOW_S);
        assert_eq!(b.overview().success_rate, None);
    }

    #[test]
    fn bad_lines_are_refused_and_counted() {
        let b = RecordBackend::new(Arc::new(ManualClock::new(0)));
        assert!(b.ingest_line(b"{\"time\":\"nope\"}").is_err());
        assert!(b.ingest_line(b"not json").is_err());
        assert_eq!(b.rejected(), 2);
        let line = record_to_line(&entry(1, 1_000_000, true, false));
        b.ingest_line(line.as_bytes()).unwrap();
        assert_eq!(b.rejected(), 2);
        assert_eq!(b.trace(TraceId(2)).unwrap().as_array().unwrap().len(), 1);
    }
}
