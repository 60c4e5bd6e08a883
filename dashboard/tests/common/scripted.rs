//! A stand-in for the command loop and healer in the API and browser tests: a backend
//! that serves the answers of a [`FixedBackend`] plus one scripted incident (`inc-1`, a
//! bank outage on `bank_icbc`), its plan awaiting a commander. Approving it marks it
//! recovered with an MTTR; rejecting it leaves it unhealed. The commander's levers follow
//! the command loop's rules: the plans that fit `bank:bank_icbc`; Run refused for an
//! unknown plan (404), a plan that does not fit the target, while another run holds it,
//! or once the incident is closed (409); Undo refused for an unknown action (404) or one
//! undone already (409); Resolve refused once closed (409).
#![allow(dead_code)]

use super::fixed::FixedBackend;
use dashboard::{ActionFuture, Actor, BackendError, DashboardBackend};
use parking_lot::Mutex;
use screen::{
    Approved, DamagePoint, Impact, IncidentDetail, IncidentRow, IncidentStatus, Overview, Plan,
    PlanApproval, PlanChoice, PlanStatus, Reconciliation, Rejected, ResolveRequest, Resolved,
    RunAction, RunDetail, RunRequest, RunStarted, SceneStatus, TimelineEntry, TimelineKind,
    Topology, UndoRequest, Undone,
};
use std::sync::Arc;

/// 2026-11-27T12:00:01Z, when the scripted incident's first bad request came.
const START_US: u64 = 1_795_780_801_000_000;
/// What the scripted incident's runs act on.
pub const TARGET: &str = "bank:bank_icbc";
/// A plan the healer knows that fits zones only (Run refuses it here: 409).
pub const ZONE_PLAN: &str = "zone-cutover";

fn entry(at_us: u64, kind: TimelineKind, what: &str, by: Option<&str>) -> TimelineEntry {
    TimelineEntry {
        time: digest::format_rfc3339(at_us),
        at_us,
        kind,
        what: what.into(),
        by: by.map(String::from),
        run: None,
    }
}

/// The plans that fit the scripted incident's target, the healer's pick first.
pub fn plan_choices() -> Vec<PlanChoice> {
    vec![
        PlanChoice {
            name: "bank-failover".into(),
            description: "route payments away from a failing bank".into(),
            automatic: true,
            answers_kind: true,
            changes: vec!["channel bank_icbc weight 0".into()],
            approval: PlanApproval::Commander,
        },
        PlanChoice {
            name: "bank-limit".into(),
            description: "hold a struggling bank's calls to a rate it can carry".into(),
            automatic: false,
            answers_kind: false,
            changes: vec![
                "flow limit bank_icbc 50 qps".into(),
                "channel bank_icbc weight 20".into(),
            ],
            approval: PlanApproval::CommanderOnCore,
        },
    ]
}

/// The latest run as the screen's `plan` reads it.
fn plan_of(runs: &[RunDetail]) -> Option<Plan> {
    let r = runs.last()?;
    Some(Plan {
        name: r.plan.clone(),
        approval: match (&r.approved_by, r.state) {
            (Some(by), _) => format!("approved by {by}"),
            (None, PlanStatus::AwaitingApproval) => "awaiting a commander".into(),
            (None, s) => s.as_str().into(),
        },
        status: r.state,
        steps: r.actions.iter().map(|a| a.what.clone()).collect(),
        mttd_s: 0.4,
        mttr_s: (r.state == PlanStatus::Recovered).then_some(4.2),
    })
}

fn open_run(r: &RunDetail) -> bool {
    matches!(
        r.state,
        PlanStatus::AwaitingApproval | PlanStatus::Running | PlanStatus::Verifying
    )
}

pub struct ScriptedIncident {
    pub fixed: Arc<FixedBackend>,
    incident: Arc<Mutex<IncidentDetail>>,
}

impl ScriptedIncident {
    pub fn new(fixed: Arc<FixedBackend>) -> Self {
        let at = |ms: u64| START_US + ms * 1000;
        let runs = vec![RunDetail {
            id: 1,
            plan: Some("bank-failover".into()),
            state: PlanStatus::AwaitingApproval,
            target: TARGET.into(),
            approved_by: None,
            actions: Vec::new(),
            harm_failed_payments: 0.0,
            harm_aborted: false,
        }];
        // Failures climb for eight seconds: 0, 3, 8, 15, … a second apart.
        let damage = (0..8u64)
            .map(|s| DamagePoint {
                second: START_US / 1_000_000 + s,
                failed_payments: s * s + 2 * s,
                money_at_stake_cents: ((s * s + 2 * s) * 1999) as i64,
            })
            .collect();
        let incident = IncidentDetail {
            id: "inc-1".into(),
            title: "bank_icbc outage".into(),
            status: IncidentStatus::Open,
            root_cause: "bank bank_icbc (dependency failure)".into(),
            candidates: Vec::new(),
            timeline: vec![
                entry(
                    at(0),
                    TimelineKind::FirstBadRequest,
                    "first bad request",
                    None,
                ),
                entry(at(400), TimelineKind::Detected, "detected", None),
                entry(
                    at(900),
                    TimelineKind::Diagnosed,
                    "diagnosed: bank bank_icbc",
                    None,
                ),
                entry(
                    at(1000),
                    TimelineKind::PlanMatched,
                    "plan matched: bank-failover (commander)",
                    None,
                ),
            ],
            impact: Impact {
                users: 120,
                scenes: vec!["quick_pay".into(), "balance_pay".into()],
                failed_payments: 37,
                money_at_stake_cents: 73963,
            },
            plan: plan_of(&runs),
            runs,
            damage,
            reconciliation: None,
        };
        Self {
            fixed,
            incident: Arc::new(Mutex::new(incident)),
        }
    }

    fn recovered(&self) -> bool {
        self.incident.lock().status == IncidentStatus::Recovered
    }

    /// The incident as it is now.
    pub fn detail(&self) -> IncidentDetail {
        self.incident.lock().clone()
    }

    /// Runs `f` on the incident if `id` names it (404 otherwise), then re-derives `plan`
    /// from the latest run.
    fn change<T: Send + 'static>(
        &self,
        id: &str,
        f: impl FnOnce(&mut IncidentDetail) -> Result<T, BackendError> + Send + 'static,
    ) -> ActionFuture<T> {
        let inc = self.incident.clone();
        let id = id.to_string();
        Box::pin(async move {
            let mut i = inc.lock();
            if i.id != id {
                return Err(BackendError::NotFound(format!("incident {id}")));
            }
            let out = f(&mut i)?;
            i.plan = plan_of(&i.runs);
            Ok(out)
        })
    }
}

/// Appends a timeline line 100 ms after the last one.
fn note(i: &mut IncidentDetail, kind: TimelineKind, what: String, by: &str, run: Option<u64>) {
    let at_us = i.timeline.last().map_or(START_US, |e| e.at_us) + 100_000;
    let mut e = entry(at_us, kind, &what, Some(by));
    e.run = run;
    i.timeline.push(e);
}

fn closed(i: &IncidentDetail) -> Result<(), BackendError> {
    match i.status {
        IncidentStatus::Open => Ok(()),
        _ => Err(BackendError::Conflict(format!(
            "incident {} is closed",
            i.id
        ))),
    }
}

impl DashboardBackend for ScriptedIncident {
    fn overview(&self) -> Overview {
        let mut o = self.fixed.overview();
        if self.recovered() {
            o.mttr_last_s = Some(4.2);
            o.mttr_avg_s = Some(4.2);
        } else {
            o.open_incidents = 1;
        }
        o
    }
    fn scenes(&self) -> Vec<SceneStatus> {
        self.fixed.scenes()
    }
    fn topology(&self) -> Topology {
        let mut t = self.fixed.topology();
        for n in &mut t.nodes {
            n.root_cause = n.id == "bank_icbc" && !self.recovered();
        }
        t
    }
    fn incidents(&self) -> Vec<IncidentRow> {
        let i = self.incident.lock();
        vec![IncidentRow {
            id: i.id.clone(),
            title: i.title.clone(),
            status: i.status,
            root_cause: i.root_cause.clone(),
            started: i.timeline[0].time.clone(),
            detected: i.timeline[1].time.clone(),
            failed_payments: i.impact.failed_payments,
        }]
    }
    fn incident(&self, id: &str) -> Result<IncidentDetail, BackendError> {
        let i = self.incident.lock();
        if i.id == id {
            Ok(i.clone())
        } else {
            Err(BackendError::NotFound(format!("incident {id}")))
        }
    }
    fn approve(&self, id: &str, by: &Actor) -> ActionFuture<Approved> {
        let by = by.user.clone();
        self.change(id, move |i| {
            let Some(run) = i.runs.last_mut() else {
                return Err(BackendError::Conflict("no plan".into()));
            };
            if run.state != PlanStatus::AwaitingApproval {
                return Err(BackendError::Conflict("not awaiting approval".into()));
            }
            run.state = PlanStatus::Recovered;
            run.approved_by = Some(by.clone());
            run.actions.push(RunAction {
                id: format!("{}.0", run.id),
                what: "channel bank_icbc weight 0".into(),
                undone: false,
            });
            let run = run.id;
            i.status = IncidentStatus::Recovered;
            note(i, TimelineKind::Approved, "approved".into(), &by, Some(run));
            note(
                i,
                TimelineKind::Recovered,
                "recovered".into(),
                "healer",
                Some(run),
            );
            i.reconciliation = Some(Reconciliation {
                orders: 37,
                ledger_entries: 74,
                bank_records: 37,
                mismatches: 0,
                detail: Vec::new(),
            });
            Ok(Approved {
                ok: true,
                incident: 1,
                run,
                approved_by: by,
            })
        })
    }
    fn reject(&self, id: &str, by: &Actor, reason: Option<String>) -> ActionFuture<Rejected> {
        let by = by.user.clone();
        self.change(id, move |i| {
            let run = i
                .runs
                .iter_mut()
                .rev()
                .find(|r| r.state == PlanStatus::AwaitingApproval)
                .ok_or_else(|| BackendError::Conflict("nothing waiting".into()))?;
            run.state = PlanStatus::Rejected;
            let run = run.id;
            let why = format!("Rejected: {}", reason.unwrap_or_default());
            note(i, TimelineKind::Rejected, why, &by, Some(run));
            Ok(Rejected {
                ok: true,
                incident: 1,
                run,
                rejected_by: by,
            })
        })
    }
    fn plans(&self, id: &str) -> dashboard::BackendFuture<Vec<PlanChoice>> {
        let known = self.incident(id).map(|_| plan_choices());
        Box::pin(async move { known })
    }
    fn run_plan(&self, id: &str, req: RunRequest, by: &Actor) -> ActionFuture<RunStarted> {
        let by = by.user.clone();
        self.change(id, move |i| {
            closed(i)?;
            let Some(choice) = plan_choices().into_iter().find(|p| p.name == req.plan) else {
                return Err(if req.plan == ZONE_PLAN {
                    BackendError::Conflict(format!("plan `{ZONE_PLAN}` does not fit {TARGET}"))
                } else {
                    BackendError::NotFound(format!("no plan `{}`", req.plan))
                });
            };
            if let Some(r) = i.runs.iter().find(|r| open_run(r)) {
                return Err(BackendError::Conflict(format!(
                    "plan run {} is already working on {TARGET}",
                    r.id
                )));
            }
            let run = i.runs.last().map_or(1, |r| r.id + 1);
            i.runs.push(RunDetail {
                id: run,
                plan: Some(choice.name.clone()),
                state: PlanStatus::Verifying,
                target: TARGET.into(),
                approved_by: Some(by.clone()),
                actions: choice
                    .changes
                    .iter()
                    .enumerate()
                    .map(|(n, what)| RunAction {
                        id: format!("{run}.{n}"),
                        what: what.clone(),
                        undone: false,
                    })
                    .collect(),
                harm_failed_payments: 0.0,
                harm_aborted: false,
            });
            let chosen = format!("PlanMatched: {} (chosen by {by})", choice.name);
            note(i, TimelineKind::PlanMatched, chosen, &by, Some(run));
            for what in &choice.changes {
                note(
                    i,
                    TimelineKind::Action,
                    format!("Action: {what}"),
                    &by,
                    Some(run),
                );
            }
            Ok(RunStarted {
                ok: true,
                incident: 1,
                run,
                plan: choice.name,
                approved_by: by,
            })
        })
    }
    fn undo(&self, id: &str, req: UndoRequest, by: &Actor) -> ActionFuture<Undone> {
        let by = by.user.clone();
        self.change(id, move |i| {
            let unknown =
                || BackendError::NotFound(format!("no action {} on this incident", req.action));
            let run = i
                .runs
                .iter_mut()
                .find(|r| r.actions.iter().any(|a| a.id == req.action))
                .ok_or_else(unknown)?;
            let action = run
                .actions
                .iter_mut()
                .find(|a| a.id == req.action)
                .ok_or_else(unknown)?;
            if action.undone {
                return Err(BackendError::Conflict(format!(
                    "action {} is undone already",
                    req.action
                )));
            }
            action.undone = true;
            let what = format!("Undone: {}", action.what);
            if run.actions.iter().all(|a| a.undone) && open_run(run) {
                run.state = PlanStatus::RolledBack;
            }
            let run = run.id;
            note(i, TimelineKind::Undone, what, &by, Some(run));
            Ok(Undone {
                ok: true,
                incident: 1,
                action: req.action,
                undone_by: by,
            })
        })
    }
    fn resolve(&self, id: &str, req: ResolveRequest, by: &Actor) -> ActionFuture<Resolved> {
        let by = by.user.clone();
        self.change(id, move |i| {
            closed(i)?;
            i.status = IncidentStatus::Resolved;
            for r in i.runs.iter_mut() {
                if r.state == PlanStatus::AwaitingApproval {
                    r.state = PlanStatus::Rejected;
                }
            }
            note(
                i,
                TimelineKind::Resolved,
                format!("Resolved: {}", req.note),
                &by,
                None,
            );
            Ok(Resolved {
                ok: true,
                incident: 1,
                resolved_by: by,
            })
        })
    }
}
