//! The dashboard's backend over the running stack (glue: each method reads one part
//! and shapes its answer): payments/s, success and scenes from the records the
//! collector published (`dashboard::RecordBackend` as a consumer of the same
//! subscription), topology, services and hot spots from the analyzer, incidents and
//! their plan runs from the command loop, alerts and silences from the alerts manager,
//! `/api/slo` from the SLA engine, drills through payments-sim's control API.

use command::{figures, CommandError};
use dashboard::{
    ActionFuture, Actor, BackendError, BackendResult, DashboardBackend, DrillRequest, Health,
    Overview, RecordBackend, SceneStatus, SilenceRequest, Topology, TopologyEdge, TopologyNode,
};
use digest::TraceId;
use healer::RunState;
use serde_json::{json, Value};
use stack::{faults, Stack};
use std::sync::Arc;

pub struct StackBackend {
    pub stack: Arc<Stack>,
    pub records: Arc<RecordBackend>,
}

/// Feeds the dashboard's record figures from the collector's subscription.
pub struct RecordTap(pub Arc<RecordBackend>);

impl stack::Tap for RecordTap {
    fn record(&self, r: &digest::DigestRecord) {
        self.0.ingest(r.clone());
    }
    fn event(&self, e: &digest::ChangeEvent) {
        self.0.ingest_event(e.clone());
    }
}

fn cause_text(rc: &analyzer::RootCause) -> String {
    format!("{} {}", rc.kind.as_str(), command::target_of(rc))
}

fn incident_id(id: &str) -> BackendResult<u64> {
    id.parse()
        .map_err(|_| BackendError::NotFound(format!("incident {id}")))
}

fn command_err(e: CommandError) -> BackendError {
    match e {
        CommandError::UnknownIncident(id) => BackendError::NotFound(format!("incident {id}")),
        other => BackendError::Conflict(other.to_string()),
    }
}

impl DashboardBackend for StackBackend {
    fn overview(&self) -> Overview {
        let mut o = self.records.overview();
        let (last, avg, open) = self.stack.command.book(|b| {
            let (last, avg) = figures::healed_mttr(b);
            (last, avg, b.open().len() as u32)
        });
        o.mttr_last_s = last;
        o.mttr_avg_s = avg;
        o.open_incidents = open;
        o.error_budget_left = figures::error_budget_left(&self.stack.sla.lock().status());
        o
    }

    fn scenes(&self) -> Vec<SceneStatus> {
        self.records.scenes()
    }

    fn topology(&self) -> Topology {
        let snap = analyzer::api::topology(&self.stack.analyzer.lock());
        let causes: Vec<String> = self.stack.command.book(|b| {
            b.open()
                .iter()
                .map(|i| i.root_cause.target().to_string())
                .collect()
        });
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
        let mut list: Vec<command::Incident> =
            self.stack.command.book(|b| b.all().cloned().collect());
        list.sort_by_key(|i| std::cmp::Reverse(i.detected_us));
        let rows: Vec<Value> = list
            .iter()
            .map(|i| {
                json!({
                    "id": i.id.to_string(),
                    "title": i.title(),
                    "status": i.status,
                    "root_cause": i.title(),
                    "started": digest::format_rfc3339(i.start_us),
                    "detected": digest::format_rfc3339(i.detected_us),
                    "failed_payments": i.impact.failed_payments,
                })
            })
            .collect();
        json!(rows)
    }

    fn incident(&self, id: &str) -> BackendResult<Value> {
        let i = self
            .stack
            .command
            .incident(incident_id(id)?)
            .ok_or_else(|| BackendError::NotFound(format!("incident {id}")))?;
        let timeline: Vec<Value> = i
            .timeline
            .iter()
            .map(|t| {
                json!({
                    "time": digest::format_rfc3339(t.at_us),
                    "what": timeline_text(t),
                    "by": t.by,
                })
            })
            .collect();
        let plan = i.last_run().map(|r| {
            json!({
                "name": r.plan,
                "approval": match (&r.approved_by, r.state) {
                    (Some(by), _) => format!("approved by {by}"),
                    (None, RunState::AwaitingApproval) => "awaiting a commander".into(),
                    (None, st) => format!("{st:?}"),
                },
                "status": r.state,
                "steps": r.actions.iter().map(|(a, _)| a.clone()).collect::<Vec<_>>(),
                "mttd_s": i.mttd_s(),
                "mttr_s": r.recovered_us.and(i.mttr_s()),
            })
        });
        Ok(json!({
            "id": i.id.to_string(),
            "title": i.title(),
            "status": i.status,
            "root_cause": i.title(),
            "candidates": i.candidates.iter().take(3).map(|c| json!({"root_cause": cause_text(&c.root_cause), "confidence": c.confidence, "evidence": c.evidence})).collect::<Vec<_>>(),
            "timeline": timeline,
            "impact": {
                "users": i.impact.users,
                "scenes": i.impact.scenes,
                "failed_payments": i.impact.failed_payments,
                "money_at_stake_cents": i.impact.money_at_stake_cents,
            },
            "plan": plan,
            "reconciliation": i.reconciliation,
        }))
    }

    fn alerts(&self) -> Value {
        serde_json::to_value(self.stack.alerting.manager.lock().alerts()).unwrap_or(json!([]))
    }

    fn silences(&self) -> Value {
        serde_json::to_value(self.stack.alerting.manager.lock().silences()).unwrap_or(json!([]))
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
        let id = incident_id(id);
        let (stack, user) = (self.stack.clone(), by.user.clone());
        Box::pin(async move {
            let id = id?;
            let run = stack
                .command
                .approve(id, &user)
                .await
                .map_err(command_err)?;
            Ok(json!({"ok": true, "incident": id, "run": run, "approved_by": user}))
        })
    }

    fn reject(&self, id: &str, by: &Actor, reason: Option<String>) -> ActionFuture {
        let id = incident_id(id);
        let (stack, user) = (self.stack.clone(), by.user.clone());
        Box::pin(async move {
            let id = id?;
            let why = reason.as_deref().unwrap_or("rejected by a commander");
            let run = stack
                .command
                .reject(id, &user, why)
                .await
                .map_err(command_err)?;
            Ok(json!({"ok": true, "incident": id, "run": run, "rejected_by": user}))
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
                .alerting
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

/// A timeline line as the screen reads it: the analyzer's moments in words, the
/// plan's as `Kind: detail` (the incident room's tests read `approved`, `Action`).
fn timeline_text(t: &command::Entry) -> String {
    use command::EntryKind::*;
    match t.kind {
        FirstBadRequest => "first bad request".into(),
        Detected => "detected".into(),
        Diagnosed => format!("diagnosed: {}", t.detail),
        HealthyAgain => "analyzer: healthy again".into(),
        k => format!("{}: {}", camel(k.as_str()), t.detail),
    }
}

/// `plan_matched` → `PlanMatched`.
fn camel(s: &str) -> String {
    s.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}
