//! The dashboard's backend over the running stack: payments/s, success and
//! scenes from the records the collector published (`dashboard::RecordBackend`
//! as a consumer of the same subscription), topology, services, hot spots and
//! incidents from the analyzer, plans and approvals from the healer, alerts
//! and silences from the alerts manager, `/api/slo` from the SLA engine, drills
//! through payments-sim's control API.

use super::{faults, Stack};
use dashboard::{
    ActionFuture, Actor, BackendError, BackendResult, DashboardBackend, DrillRequest, Health,
    Overview, RecordBackend, SceneStatus, SilenceRequest, Topology, TopologyEdge, TopologyNode,
};
use digest::TraceId;
use healer::{IncidentState, TimelineKind};
use serde_json::{json, Value};
use std::sync::Arc;

pub struct StackBackend {
    pub stack: Arc<Stack>,
    pub records: Arc<RecordBackend>,
}

fn cause_text(rc: &analyzer::RootCause) -> String {
    format!("{} {}", rc.kind.as_str(), super::heal::target_of(rc))
}

impl StackBackend {
    fn analyzer_incident(&self, id: u64) -> Option<analyzer::Incident> {
        let a = self.stack.analyzer.lock();
        let b = a.incidents();
        b.open
            .iter()
            .chain(b.closed.iter())
            .find(|i| i.id == id)
            .cloned()
    }

    fn healer_id(&self, id: &str) -> BackendResult<u64> {
        let aid: u64 = id
            .parse()
            .map_err(|_| BackendError::NotFound(format!("incident {id}")))?;
        self.stack
            .healer
            .linked(aid)
            .ok_or_else(|| BackendError::Conflict(format!("incident {id} has no plan")))
    }
}

impl DashboardBackend for StackBackend {
    fn overview(&self) -> Overview {
        let mut o = self.records.overview();
        if let Ok(engine) = self.stack.healer.engine.try_lock() {
            let mttrs: Vec<f64> = engine
                .incidents()
                .filter(|i| i.state == IncidentState::Recovered)
                .filter_map(|i| i.mttr_s())
                .collect();
            o.mttr_last_s = mttrs.last().copied();
            o.mttr_avg_s =
                (!mttrs.is_empty()).then(|| mttrs.iter().sum::<f64>() / mttrs.len() as f64);
        }
        o.open_incidents = self.stack.analyzer.lock().incidents().open.len() as u32;
        let budgets: Vec<f64> = self
            .stack
            .sla
            .lock()
            .status()
            .iter()
            .flat_map(|s| {
                s.slis
                    .iter()
                    // Judged once the period has room for 10 failures:
                    // before that one bad call reads as a spent budget.
                    .filter(|x| (1.0 - x.period.target) * x.period.total as f64 >= 10.0)
                    .map(|x| x.period.budget_remaining)
            })
            .collect();
        if !budgets.is_empty() {
            o.error_budget_left = Some(budgets.iter().cloned().fold(1.0, f64::min).max(0.0));
        }
        o
    }

    fn scenes(&self) -> Vec<SceneStatus> {
        self.records.scenes()
    }

    fn topology(&self) -> Topology {
        let a = self.stack.analyzer.lock();
        let snap = analyzer::api::topology(&a);
        let causes: Vec<String> = a
            .incidents()
            .open
            .iter()
            .map(|i| i.root_cause.target().to_string())
            .collect();
        drop(a);
        let health = |healthy: bool, er: f64| {
            if healthy {
                Health::of_error_ratio(er)
            } else {
                Health::Red
            }
        };
        Topology {
            nodes: snap
                .nodes
                .iter()
                .map(|n| TopologyNode {
                    id: n.id.clone(),
                    kind: serde_json::to_value(n.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_default(),
                    health: health(n.healthy, n.error_ratio),
                    root_cause: causes.iter().any(|c| c == &n.id),
                    detail: serde_json::to_value(n).unwrap_or(Value::Null),
                })
                .collect(),
            edges: snap
                .edges
                .iter()
                .map(|e| TopologyEdge {
                    from: e.from.clone(),
                    to: e.to.clone(),
                    rate: e.rate,
                    error_ratio: e.error_ratio,
                    p99_ms: e.p99_ms,
                })
                .collect(),
        }
    }

    fn services(&self) -> Value {
        let a = self.stack.analyzer.lock();
        serde_json::to_value(analyzer::api::services(&a).services).unwrap_or(json!([]))
    }

    fn hotspots(&self) -> Value {
        let a = self.stack.analyzer.lock();
        let v = serde_json::to_value(analyzer::api::hotspots(&a)).unwrap_or(Value::Null);
        v.get("hot").cloned().filter(Value::is_array).unwrap_or(v)
    }

    fn incidents(&self) -> Value {
        let a = self.stack.analyzer.lock();
        let b = a.incidents();
        let mut list: Vec<&analyzer::Incident> = b.open.iter().chain(b.closed.iter()).collect();
        list.sort_by_key(|i| std::cmp::Reverse(i.detected_us));
        let rows: Vec<Value> = list
            .iter()
            .map(|i| {
                json!({
                    "id": i.id.to_string(),
                    "title": cause_text(&i.root_cause),
                    "status": i.status,
                    "root_cause": cause_text(&i.root_cause),
                    "started": digest::format_rfc3339(i.start_us),
                    "detected": digest::format_rfc3339(i.detected_us),
                    "failed_payments": i.impact.failed_payments,
                })
            })
            .collect();
        json!(rows)
    }

    fn incident(&self, id: &str) -> BackendResult<Value> {
        let nf = || BackendError::NotFound(format!("incident {id}"));
        let aid: u64 = id.parse().map_err(|_| nf())?;
        let i = self.analyzer_incident(aid).ok_or_else(nf)?;
        let mut timeline: Vec<Value> = vec![
            json!({"time": digest::format_rfc3339(i.start_us), "what": "first bad request"}),
            json!({"time": digest::format_rfc3339(i.detected_us), "what": "detected"}),
            json!({"time": digest::format_rfc3339(i.diagnosed_us), "what": format!("diagnosed: {}", cause_text(&i.root_cause))}),
        ];
        let (mut plan, mut recon) = (Value::Null, Value::Null);
        if let Some(hid) = self.stack.healer.linked(aid) {
            if let Ok(engine) = self.stack.healer.engine.try_lock() {
                if let Some(h) = engine.incident(hid) {
                    // The first three moments are the analyzer's (listed above).
                    let analyzers = [
                        TimelineKind::FirstBadRequest,
                        TimelineKind::Detected,
                        TimelineKind::Diagnosed,
                    ];
                    for t in h.timeline.iter().filter(|t| !analyzers.contains(&t.kind)) {
                        timeline.push(json!({
                            "time": digest::format_rfc3339(t.at_us),
                            "what": format!("{:?}: {}", t.kind, t.detail),
                            "by": t.by,
                        }));
                    }
                    let s = h.summary();
                    plan = json!({
                        "name": h.plan,
                        "approval": match (&h.approved_by, h.state) {
                            (Some(by), _) => format!("approved by {by}"),
                            (None, IncidentState::AwaitingApproval) => "awaiting a commander".into(),
                            (None, st) => format!("{st:?}"),
                        },
                        "status": h.state,
                        "steps": s.actions,
                        "mttd_s": s.mttd_s,
                        "mttr_s": s.mttr_s,
                    });
                    recon = json!(h.reconciliation);
                }
            }
        }
        if let Some(r) = i.recovered_us {
            timeline.push(
                json!({"time": digest::format_rfc3339(r), "what": "analyzer: healthy again"}),
            );
        }
        Ok(json!({
            "id": i.id.to_string(),
            "title": cause_text(&i.root_cause),
            "status": i.status,
            "root_cause": cause_text(&i.root_cause),
            "candidates": i.candidates.iter().take(3).map(|c| json!({"root_cause": cause_text(&c.root_cause), "confidence": c.confidence, "evidence": c.evidence})).collect::<Vec<_>>(),
            "timeline": timeline,
            "impact": {
                "users": i.impact.users,
                "scenes": i.impact.scenes,
                "failed_payments": i.impact.failed_payments,
                "money_at_stake_cents": i.impact.money_at_stake_cents,
            },
            "plan": plan,
            "reconciliation": recon,
        }))
    }

    fn alerts(&self) -> Value {
        serde_json::to_value(self.stack.watch.manager.lock().alerts()).unwrap_or(json!([]))
    }

    fn silences(&self) -> Value {
        serde_json::to_value(self.stack.watch.manager.lock().silences()).unwrap_or(json!([]))
    }

    fn slo(&self) -> Value {
        serde_json::to_value(sla::slo(&self.stack.sla.lock())).unwrap_or(json!([]))
    }

    fn changes(&self) -> Value {
        self.records.changes()
    }

    fn trace(&self, id: TraceId) -> BackendResult<Value> {
        self.records.trace(id)
    }

    fn drill_kinds(&self) -> Value {
        faults::kinds_json()
    }

    fn approve(&self, id: &str, by: &Actor) -> ActionFuture {
        let hid = self.healer_id(id);
        let (stack, user) = (self.stack.clone(), by.user.clone());
        Box::pin(async move {
            let hid = hid?;
            let mut e = stack.healer.engine.lock().await;
            e.approve(hid, &user)
                .map_err(|err| BackendError::Conflict(err.to_string()))?;
            Ok(json!({"ok": true, "incident": hid, "approved_by": user}))
        })
    }

    fn reject(&self, id: &str, by: &Actor, reason: Option<String>) -> ActionFuture {
        let hid = self.healer_id(id);
        let (stack, user) = (self.stack.clone(), by.user.clone());
        Box::pin(async move {
            let hid = hid?;
            let mut e = stack.healer.engine.lock().await;
            e.reject(
                hid,
                &user,
                reason.as_deref().unwrap_or("rejected by a commander"),
            )
            .map_err(|err| BackendError::Conflict(err.to_string()))?;
            Ok(json!({"ok": true, "incident": hid, "rejected_by": user}))
        })
    }

    fn create_silence(&self, req: SilenceRequest, by: &Actor) -> ActionFuture {
        let stack = self.stack.clone();
        let user = by.user.clone();
        Box::pin(async move {
            req.validate()?;
            let end = stack.clock.now_us() + req.duration_s * 1_000_000;
            let r = alerts::SilenceRequest {
                matchers: req
                    .matchers
                    .iter()
                    .map(|(k, v)| format!("{k}={}", serde_json::to_string(v).unwrap_or_default()))
                    .collect(),
                starts_at: None,
                ends_at: digest::format_rfc3339(end),
                created_by: user,
                comment: req.comment,
            };
            let s = stack
                .watch
                .manager
                .lock()
                .create_silence(&r)
                .map_err(|e| BackendError::Invalid(e.to_string()))?;
            Ok(serde_json::to_value(s).unwrap_or(Value::Null))
        })
    }

    fn inject_drill(&self, req: DrillRequest, _by: &Actor) -> ActionFuture {
        let stack = self.stack.clone();
        Box::pin(async move {
            req.validate()?;
            let pick = faults::FaultPick::new(&req.fault, req.target.as_deref().unwrap_or(""));
            payments_sim::faults::parse_fault(&pick.spec())
                .map_err(|e| BackendError::Invalid(format!("fault: {e}")))?;
            stack
                .control
                .put_faults(&[pick.spec()])
                .await
                .map_err(|e| BackendError::Unavailable(e.to_string()))?;
            Ok(json!({"injected": pick.spec()}))
        })
    }
}
