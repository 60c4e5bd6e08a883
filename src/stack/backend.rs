//! The dashboard's backend over the running stack, every answer typed with the
//! `screen` crate: payments/s, success and scenes from the analyzer's entry view,
//! topology, services and hot spots from its windows, change events from its change
//! log, incidents from the analyzer with the healer's plans and approvals
//! (`backend/incidents.rs`), alerts and silences from the alerts manager, `/api/slo`
//! from the SLA engine, traces from the collector's store, drills through
//! payments-sim's control API. The field-by-field mappings are in `backend/views.rs`.

mod incidents;
mod views;

use super::{faults, Stack};
use dashboard::{
    ActionFuture, Actor, BackendError, BackendFuture, BackendResult, DashboardBackend,
};
use digest::TraceId;
use healer::IncidentState;
use screen::{
    Alert, Approved, ChangeEvent, DrillInjected, DrillKind, DrillRequest, HotSpot, IncidentDetail,
    IncidentRow, Overview, Rejected, SceneStatus, ServiceRow, Silence, SilenceRequest, SloBoard,
    Topology, TraceSpan,
};
use std::sync::Arc;

/// Change events the changes screen lists.
const CHANGES_SHOWN: usize = 500;

pub struct StackBackend {
    pub stack: Arc<Stack>,
}

impl StackBackend {
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
        let (entry, open) = {
            let a = self.stack.analyzer.lock();
            (analyzer::api::entry(&a), a.incidents().open.len() as u32)
        };
        let mut o = Overview {
            as_of_us: entry.now_us,
            payments_per_s: entry.payments_per_s,
            success_rate: entry.success_rate,
            open_incidents: open,
            ..Overview::default()
        };
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
        let entry = analyzer::api::entry(&self.stack.analyzer.lock());
        entry.scenes.iter().map(views::scene).collect()
    }

    fn topology(&self) -> Topology {
        let a = self.stack.analyzer.lock();
        let causes: Vec<String> = a
            .incidents()
            .open
            .iter()
            .map(|i| i.root_cause.target().to_string())
            .collect();
        views::topology(&analyzer::api::topology(&a), &causes)
    }

    fn services(&self) -> Vec<ServiceRow> {
        let a = self.stack.analyzer.lock();
        let snap = analyzer::api::services(&a);
        snap.services.iter().filter_map(views::service).collect()
    }

    fn hotspots(&self) -> Vec<HotSpot> {
        let a = self.stack.analyzer.lock();
        analyzer::api::hotspots(&a)
            .hot
            .iter()
            .map(views::hot_spot)
            .collect()
    }

    fn incidents(&self) -> Vec<IncidentRow> {
        incidents::rows(&self.stack.analyzer.lock())
    }

    fn incident(&self, id: &str) -> BackendResult<IncidentDetail> {
        incidents::detail(&self.stack, id)
    }

    fn alerts(&self) -> Vec<Alert> {
        let m = self.stack.watch.manager.lock();
        m.alerts().iter().map(views::alert).collect()
    }

    fn silences(&self) -> Vec<Silence> {
        let m = self.stack.watch.manager.lock();
        m.silences().iter().map(views::silence).collect()
    }

    fn slo(&self) -> SloBoard {
        views::slo(&sla::slo(&self.stack.sla.lock()))
    }

    fn changes(&self) -> Vec<ChangeEvent> {
        let a = self.stack.analyzer.lock();
        analyzer::api::changes(&a, CHANGES_SHOWN)
            .iter()
            .map(views::change)
            .collect()
    }

    fn trace(&self, id: TraceId) -> BackendFuture<Vec<TraceSpan>> {
        let store = self.stack.pipeline.store().clone();
        Box::pin(async move {
            let mut records = store
                .trace(id)
                .await
                .map_err(|e| BackendError::Unavailable(format!("store: {e}")))?;
            if records.is_empty() {
                return Err(BackendError::NotFound(format!("trace {}", id.to_hex())));
            }
            records.sort_by_key(|r| (r.time_us, r.span_id.0));
            Ok(records.iter().map(views::span).collect())
        })
    }

    fn drill_kinds(&self) -> Vec<DrillKind> {
        // faults.rs lists them as JSON; its rows are `screen::DrillKind`'s shape.
        serde_json::from_value(faults::kinds_json()).unwrap_or_default()
    }

    fn approve(&self, id: &str, by: &Actor) -> ActionFuture<Approved> {
        let hid = self.healer_id(id);
        let (stack, user) = (self.stack.clone(), by.user.clone());
        Box::pin(async move {
            let hid = hid?;
            let mut e = stack.healer.engine.lock().await;
            e.approve(hid, &user)
                .map_err(|err| BackendError::Conflict(err.to_string()))?;
            Ok(Approved {
                ok: true,
                incident: hid,
                approved_by: user,
            })
        })
    }

    fn reject(&self, id: &str, by: &Actor, reason: Option<String>) -> ActionFuture<Rejected> {
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
            Ok(Rejected {
                ok: true,
                incident: hid,
                rejected_by: user,
            })
        })
    }

    fn create_silence(&self, req: SilenceRequest, by: &Actor) -> ActionFuture<Silence> {
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
            Ok(views::silence(&s))
        })
    }

    fn inject_drill(&self, req: DrillRequest, _by: &Actor) -> ActionFuture<DrillInjected> {
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
            Ok(DrillInjected {
                injected: pick.spec(),
            })
        })
    }
}
