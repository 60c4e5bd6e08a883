//! [`FixedBackend`]: a [`DashboardBackend`] that answers what the test set, built from
//! `screen` values — no aggregation (the figures' arithmetic is the analyzer's, tested
//! there); actions are refused as a backend without a healer or control plane refuses
//! them. [`Answers::payments`] fills the figures, the scene board, the call graph and the
//! traces of a steady stream of payments (cashier → trade → payment → engine → bank).
#![allow(dead_code)]

use dashboard::{BackendError, BackendFuture, DashboardBackend};
use digest::{format_rfc3339, TraceId};
use parking_lot::Mutex;
use screen::{
    Alert, ChangeEvent, DrillKind, Health, HotSpot, IncidentDetail, IncidentRow, NodeDetail,
    NodeKind, Overview, PlanChoice, SceneStatus, ServiceRow, Silence, SloBoard, SpanKind, Topology,
    TopologyEdge, TopologyNode, TraceSpan,
};

/// Everything the backend answers.
#[derive(Debug, Clone, Default)]
pub struct Answers {
    pub overview: Overview,
    pub scenes: Vec<SceneStatus>,
    pub topology: Topology,
    pub services: Vec<ServiceRow>,
    pub hotspots: Vec<HotSpot>,
    pub incidents: Vec<IncidentRow>,
    /// The incident rooms, found by id.
    pub details: Vec<IncidentDetail>,
    /// The plans every known incident offers.
    pub plans: Vec<PlanChoice>,
    pub alerts: Vec<Alert>,
    pub silences: Vec<Silence>,
    pub slo: SloBoard,
    pub changes: Vec<ChangeEvent>,
    /// Spans of every trace, found by trace id.
    pub spans: Vec<TraceSpan>,
    pub drill_kinds: Vec<DrillKind>,
}

/// The services a payment passes through, in call order; the last calls the bank.
pub const CHAIN: [&str; 4] = ["cashier", "trade", "payment", "engine"];
pub const BANK: &str = "bank_icbc";

/// The trace id of payment `n` (as [`payment_trace`] writes it).
pub fn trace_id(n: u64) -> TraceId {
    TraceId(0x4000_0000_0000_0000_0000_0000_0000_0000 | n as u128)
}

impl Answers {
    /// `per_s` payments a second, `success` of them successful: the figures, both scenes
    /// (a third `quick_pay`, the rest `balance_pay`), the call graph, and the traces of
    /// payments `0..per_s` (all starting at `time_us`).
    pub fn payments(&mut self, time_us: u64, per_s: f64, success: f64) {
        let health = Health::of_error_ratio(1.0 - success);
        self.overview.as_of_us = time_us;
        self.overview.payments_per_s = per_s;
        self.overview.success_rate = Some(success);
        self.scenes = [
            ("balance_pay", per_s * 2.0 / 3.0),
            ("quick_pay", per_s / 3.0),
        ]
        .into_iter()
        .map(|(scene, rate)| SceneStatus {
            scene: scene.into(),
            health,
            rate,
            success_rate: Some(success),
        })
        .collect();
        let node = |id: &str, kind: NodeKind| TopologyNode {
            id: id.into(),
            kind,
            health,
            root_cause: false,
            detail: Some(NodeDetail {
                id: id.into(),
                kind,
                instances: if kind == NodeKind::Bank { 0 } else { 1 },
                rate: per_s,
                error_ratio: 1.0 - success,
                p99_ms: 40.0,
                healthy: health == Health::Green,
            }),
        };
        let mut nodes: Vec<TopologyNode> =
            CHAIN.iter().map(|s| node(s, NodeKind::Service)).collect();
        nodes.push(node(BANK, NodeKind::Bank));
        nodes.sort_by(|a, b| a.id.cmp(&b.id));
        let callees = CHAIN.iter().skip(1).copied().chain([BANK]);
        self.topology = Topology {
            nodes,
            edges: CHAIN
                .iter()
                .zip(callees)
                .map(|(from, to)| TopologyEdge {
                    from: from.to_string(),
                    to: to.to_string(),
                    rate: per_s,
                    error_ratio: 1.0 - success,
                    p99_ms: 35.0,
                })
                .collect(),
        };
        let failing = ((1.0 - success) * per_s).round() as u64;
        self.spans = (0..per_s as u64)
            .flat_map(|n| {
                let scene = if n % 3 == 0 {
                    "quick_pay"
                } else {
                    "balance_pay"
                };
                payment_trace(n, time_us, n >= failing, scene)
            })
            .collect();
    }
}

/// One payment as the platform records it: four services, a server and a client span
/// each (the engine's client span is the call out to the bank).
pub fn payment_trace(n: u64, time_us: u64, success: bool, scene: &str) -> Vec<TraceSpan> {
    let trace = trace_id(n).to_hex();
    let code = if success { "SUCCESS" } else { "BANK_TIMEOUT" };
    let mut out = Vec::new();
    let mut parent: Option<String> = None;
    for (i, svc) in CHAIN.iter().enumerate() {
        let hop = i as u64;
        let span =
            |kind: SpanKind, k: u64, peer: &str, op: String, parent: Option<String>| TraceSpan {
                time: format_rfc3339(time_us + hop * 100 + (k % 2) * 50),
                trace_id: trace.clone(),
                span_id: format!("{:016x}", (n << 8) | k),
                parent_span_id: parent,
                kind,
                service: svc.to_string(),
                instance: format!("{svc}-1"),
                zone: "gz01".into(),
                operation: op,
                peer: peer.into(),
                duration_us: 40_000 - hop * 5_000 - (k % 2) * 5_000,
                success,
                code: code.into(),
                error: None,
                scene: scene.into(),
                channel: "SDK".into(),
                shadow: false,
                version: "1.0.0".into(),
                keys: Default::default(),
                amount_cents: (i == 0).then_some(1999),
                sql_count: None,
            };
        let server = span(
            SpanKind::Server,
            2 * hop + 1,
            if i == 0 { "sdk" } else { CHAIN[i - 1] },
            format!("{svc}.pay"),
            parent.clone(),
        );
        let (kind, callee) = match CHAIN.get(i + 1) {
            Some(next) => (SpanKind::Client, *next),
            None => (SpanKind::Integrator, BANK),
        };
        let client = span(
            kind,
            2 * hop + 2,
            callee,
            format!("{callee}.pay"),
            Some(server.span_id.clone()),
        );
        parent = Some(client.span_id.clone());
        out.push(server);
        out.push(client);
    }
    out
}

/// Fixed answers; [`FixedBackend::set`] changes them.
#[derive(Default)]
pub struct FixedBackend {
    answers: Mutex<Answers>,
}

impl FixedBackend {
    pub fn set(&self, f: impl FnOnce(&mut Answers)) {
        f(&mut self.answers.lock());
    }

    pub fn answers(&self) -> Answers {
        self.answers.lock().clone()
    }
}

impl DashboardBackend for FixedBackend {
    fn overview(&self) -> Overview {
        self.answers.lock().overview.clone()
    }
    fn scenes(&self) -> Vec<SceneStatus> {
        self.answers.lock().scenes.clone()
    }
    fn topology(&self) -> Topology {
        self.answers.lock().topology.clone()
    }
    fn services(&self) -> Vec<ServiceRow> {
        self.answers.lock().services.clone()
    }
    fn hotspots(&self) -> Vec<HotSpot> {
        self.answers.lock().hotspots.clone()
    }
    fn incidents(&self) -> Vec<IncidentRow> {
        self.answers.lock().incidents.clone()
    }
    fn incident(&self, id: &str) -> Result<IncidentDetail, BackendError> {
        let a = self.answers.lock();
        a.details
            .iter()
            .find(|d| d.id == id)
            .cloned()
            .ok_or_else(|| BackendError::NotFound(format!("incident {id}")))
    }
    fn plans(&self, id: &str) -> BackendFuture<Vec<PlanChoice>> {
        let plans = self.incident(id).map(|_| self.answers.lock().plans.clone());
        Box::pin(async move { plans })
    }
    fn alerts(&self) -> Vec<Alert> {
        self.answers.lock().alerts.clone()
    }
    fn silences(&self) -> Vec<Silence> {
        self.answers.lock().silences.clone()
    }
    fn slo(&self) -> SloBoard {
        self.answers.lock().slo.clone()
    }
    fn changes(&self) -> Vec<ChangeEvent> {
        self.answers.lock().changes.clone()
    }
    fn trace(&self, id: TraceId) -> BackendFuture<Vec<TraceSpan>> {
        let hex = id.to_hex();
        let spans: Vec<TraceSpan> = self
            .answers
            .lock()
            .spans
            .iter()
            .filter(|s| s.trace_id == hex)
            .cloned()
            .collect();
        Box::pin(async move {
            if spans.is_empty() {
                Err(BackendError::NotFound(format!("trace {hex}")))
            } else {
                Ok(spans)
            }
        })
    }
    fn drill_kinds(&self) -> Vec<DrillKind> {
        self.answers.lock().drill_kinds.clone()
    }
}
