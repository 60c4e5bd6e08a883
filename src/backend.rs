//! The dashboard's backend over the running stack (glue: each method reads one part
//! and maps its answer onto the `screen` crate's types): payments/s, success and
//! scenes from the analyzer's entry view, topology, services and hot spots from its
//! windows, change events from its change log, incidents and their plan runs from the
//! command loop (`backend/incidents.rs`) — the commander's levers (plans, run, undo,
//! resolve) act through it too — alerts and silences from the alerts manager,
//! `/api/slo` from the SLA engine, traces from the collector's store, drills through
//! payments-sim's control API. The other field-by-field mappings are in
//! `backend/views.rs`.

mod incidents;
mod views;

use command::{figures, CommandError, CommandLoop};
use dashboard::{
    ActionFuture, Actor, BackendError, BackendFuture, BackendResult, DashboardBackend,
};
use digest::TraceId;
use healer::HealerError;
use screen::{
    Alert, Approved, ChangeEvent, DrillInjected, DrillKind, DrillRequest, HotSpot, IncidentDetail,
    IncidentRow, Overview, PlanChoice, Rejected, ResolveRequest, Resolved, RunRequest, RunStarted,
    SceneStatus, ServiceRow, Silence, SilenceRequest, SloBoard, Topology, TraceSpan, UndoRequest,
    Undone,
};
use stack::{faults, ControlClient, Room};
use std::future::Future;
use std::sync::Arc;

/// Change events the changes screen lists.
const CHANGES_SHOWN: usize = 500;

/// The dashboard's backend over a running room (`warroom serve`), with payments-sim's
/// control API for the drills screen when there is a simulator to inject into (`up`).
pub struct StackBackend {
    pub room: Arc<Room>,
    /// `None`: nothing to inject into; the drills screen is hidden.
    pub drills: Option<ControlClient>,
}

fn incident_id(id: &str) -> BackendResult<u64> {
    id.parse()
        .map_err(|_| BackendError::NotFound(format!("incident {id}")))
}

/// Unknown things are 404, an executor or audit log that failed 503, the rest (closed,
/// busy, does not fit, undone already, nothing waiting) 409.
fn command_err(e: CommandError) -> BackendError {
    match e {
        CommandError::UnknownIncident(id) => BackendError::NotFound(format!("incident {id}")),
        CommandError::UnknownAction(_)
        | CommandError::Healer(
            HealerError::UnknownPlan(_)
            | HealerError::UnknownRun(_)
            | HealerError::UnknownAction { .. },
        ) => BackendError::NotFound(e.to_string()),
        CommandError::Healer(HealerError::Undo(_) | HealerError::Audit { .. }) => {
            BackendError::Unavailable(e.to_string())
        }
        other => BackendError::Conflict(other.to_string()),
    }
}

impl StackBackend {
    /// A commander's action on incident `id`: `act` gets the command loop, the parsed id
    /// and the user (an id that is not a number is an unknown incident).
    fn on_incident<T, F, Fut>(&self, id: &str, by: &Actor, act: F) -> ActionFuture<T>
    where
        T: Send + 'static,
        F: FnOnce(Arc<CommandLoop>, u64, String) -> Fut + Send + 'static,
        Fut: Future<Output = BackendResult<T>> + Send + 'static,
    {
        let id = incident_id(id);
        let (command, user) = (self.room.command.clone(), by.user.clone());
        Box::pin(async move { act(command, id?, user).await })
    }
}

impl DashboardBackend for StackBackend {
    fn overview(&self) -> Overview {
        let entry = analyzer::api::entry(&self.room.analyzer.lock());
        let (mttr_last_s, mttr_avg_s, open_incidents) = self.room.command.book(|b| {
            let (last, avg) = figures::healed_mttr(b);
            (last, avg, b.open().len() as u32)
        });
        Overview {
            as_of_us: entry.now_us,
            payments_per_s: entry.payments_per_s,
            success_rate: entry.success_rate,
            mttr_last_s,
            mttr_avg_s,
            open_incidents,
            error_budget_left: figures::error_budget_left(&self.room.sla.lock().status()),
        }
    }

    fn scenes(&self) -> Vec<SceneStatus> {
        let entry = analyzer::api::entry(&self.room.analyzer.lock());
        entry.scenes.iter().map(views::scene).collect()
    }

    fn topology(&self) -> Topology {
        let snap = analyzer::api::topology(&self.room.analyzer.lock());
        let causes: Vec<String> = self.room.command.book(|b| {
            b.open()
                .iter()
                .map(|i| i.root_cause.target().to_string())
                .collect()
        });
        views::topology(&snap, &causes)
    }

    fn services(&self) -> Vec<ServiceRow> {
        let a = self.room.analyzer.lock();
        let snap = analyzer::api::services(&a);
        snap.services.iter().filter_map(views::service).collect()
    }

    fn hotspots(&self) -> Vec<HotSpot> {
        let a = self.room.analyzer.lock();
        analyzer::api::hotspots(&a)
            .hot
            .iter()
            .map(views::hot_spot)
            .collect()
    }

    fn incidents(&self) -> Vec<IncidentRow> {
        incidents::rows(self.room.command.book(|b| b.all().cloned().collect()))
    }

    fn incident(&self, id: &str) -> BackendResult<IncidentDetail> {
        let i = self
            .room
            .command
            .incident(incident_id(id)?)
            .ok_or_else(|| BackendError::NotFound(format!("incident {id}")))?;
        Ok(incidents::detail(&i))
    }

    fn alerts(&self) -> Vec<Alert> {
        let m = self.room.alerting.manager.lock();
        m.alerts().iter().map(views::alert).collect()
    }

    fn silences(&self) -> Vec<Silence> {
        let m = self.room.alerting.manager.lock();
        m.silences().iter().map(views::silence).collect()
    }

    fn slo(&self) -> SloBoard {
        views::slo(&sla::slo(&self.room.sla.lock()))
    }

    fn changes(&self) -> Vec<ChangeEvent> {
        let a = self.room.analyzer.lock();
        analyzer::api::changes(&a, CHANGES_SHOWN)
            .iter()
            .map(views::change)
            .collect()
    }

    fn trace(&self, id: TraceId) -> BackendFuture<Vec<TraceSpan>> {
        let store = self.room.pipeline.store().clone();
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
        if self.drills.is_none() {
            return Vec::new();
        }
        // faults.rs lists them as JSON; its rows are `screen::DrillKind`'s shape.
        serde_json::from_value(faults::kinds_json()).unwrap_or_default()
    }

    fn approve(&self, id: &str, by: &Actor) -> ActionFuture<Approved> {
        self.on_incident(id, by, |command, id, user| async move {
            let run = command.approve(id, &user).await.map_err(command_err)?;
            Ok(Approved {
                ok: true,
                incident: id,
                run,
                approved_by: user,
            })
        })
    }

    fn reject(&self, id: &str, by: &Actor, reason: Option<String>) -> ActionFuture<Rejected> {
        self.on_incident(id, by, |command, id, user| async move {
            let why = reason.as_deref().unwrap_or("rejected by a commander");
            let run = command.reject(id, &user, why).await.map_err(command_err)?;
            Ok(Rejected {
                ok: true,
                incident: id,
                run,
                rejected_by: user,
            })
        })
    }

    fn plans(&self, id: &str) -> BackendFuture<Vec<PlanChoice>> {
        let id = incident_id(id);
        let command = self.room.command.clone();
        Box::pin(async move {
            let options = command.plans_for(id?).await.map_err(command_err)?;
            Ok(options.into_iter().map(incidents::plan_choice).collect())
        })
    }

    fn run_plan(&self, id: &str, req: RunRequest, by: &Actor) -> ActionFuture<RunStarted> {
        self.on_incident(id, by, |command, id, user| async move {
            req.validate()?;
            let run = command
                .run_plan(id, &req.plan, &user)
                .await
                .map_err(command_err)?;
            Ok(RunStarted {
                ok: true,
                incident: id,
                run,
                plan: req.plan,
                approved_by: user,
            })
        })
    }

    fn undo(&self, id: &str, req: UndoRequest, by: &Actor) -> ActionFuture<Undone> {
        self.on_incident(id, by, |command, id, user| async move {
            req.validate()?;
            let undo = command.undo(id, &req.action, &user).await;
            undo.map_err(command_err)?;
            Ok(Undone {
                ok: true,
                incident: id,
                action: req.action,
                undone_by: user,
            })
        })
    }

    fn resolve(&self, id: &str, req: ResolveRequest, by: &Actor) -> ActionFuture<Resolved> {
        self.on_incident(id, by, |command, id, user| async move {
            req.validate()?;
            let resolve = command.resolve(id, &req.note, &user).await;
            resolve.map_err(command_err)?;
            Ok(Resolved {
                ok: true,
                incident: id,
                resolved_by: user,
            })
        })
    }

    fn create_silence(&self, req: SilenceRequest, by: &Actor) -> ActionFuture<Silence> {
        let room = self.room.clone();
        let user = by.user.clone();
        Box::pin(async move {
            req.validate()?;
            let end = room.clock.now_us() + req.duration_s * 1_000_000;
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
            let s = room
                .alerting
                .manager
                .lock()
                .create_silence(&r)
                .map_err(|e| BackendError::Invalid(e.to_string()))?;
            Ok(views::silence(&s))
        })
    }

    fn inject_drill(&self, req: DrillRequest, _by: &Actor) -> ActionFuture<DrillInjected> {
        let control = self.drills.clone();
        Box::pin(async move {
            let control = control.ok_or_else(|| {
                BackendError::Unavailable("nothing to inject into: no simulator runs here".into())
            })?;
            req.validate()?;
            let pick = faults::FaultPick::new(&req.fault, req.target.as_deref().unwrap_or(""));
            payments_sim::faults::parse_fault(&pick.spec())
                .map_err(|e| BackendError::Invalid(format!("fault: {e}")))?;
            control
                .put_faults(&[pick.spec()])
                .await
                .map_err(|e| BackendError::Unavailable(e.to_string()))?;
            Ok(DrillInjected {
                injected: pick.spec(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dashboard::error::ApiError;

    /// The command loop's refusals reach the API with the statuses the levers' contract
    /// names (issue 12): unknown things 404, the rest of a commander's refusals 409.
    #[test]
    fn command_refusals_map_to_the_documented_statuses() {
        let healer = |e: HealerError| CommandError::Healer(e);
        let cases = [
            (CommandError::UnknownIncident(7), 404),
            (CommandError::UnknownAction("3.9".into()), 404),
            (healer(HealerError::UnknownPlan("nope".into())), 404),
            (healer(HealerError::UnknownRun(3)), 404),
            (healer(HealerError::UnknownAction { run: 3, index: 9 }), 404),
            (
                healer(HealerError::DoesNotFit {
                    plan: "zone-cutover".into(),
                    target: "bank:bank-a".into(),
                }),
                409,
            ),
            (
                healer(HealerError::Busy("plan run 2 is already working".into())),
                409,
            ),
            (healer(HealerError::AlreadyUndone { run: 3, index: 0 }), 409),
            (CommandError::Closed(7), 409),
            (CommandError::NothingWaiting(7), 409),
            (healer(HealerError::Undo("control API down".into())), 503),
        ];
        for (e, status) in cases {
            let what = e.to_string();
            let api = ApiError::from(command_err(e));
            assert_eq!(api.status.as_u16(), status, "{what}: {}", api.message);
            let reason = what.trim_start_matches("no ");
            assert!(api.message.contains(reason), "{what}: {}", api.message);
        }
    }
}
