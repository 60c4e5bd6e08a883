//! A stand-in for the healer in the browser harness: a backend that serves the answers
//! of a [`FixedBackend`] plus one scripted incident, its plan awaiting a commander;
//! approving it marks it recovered with an MTTR. Used only to drive the incident room.
#![allow(dead_code)]

use super::fixed::FixedBackend;
use dashboard::{ActionFuture, Actor, BackendError, DashboardBackend};
use parking_lot::Mutex;
use screen::{
    Approved, Impact, IncidentDetail, IncidentRow, IncidentStatus, Overview, Plan, PlanStatus,
    Reconciliation, SceneStatus, TimelineEntry, TimelineKind, Topology,
};
use std::sync::Arc;

/// 2026-11-27T12:00:01Z, when the scripted incident's first bad request came.
const START_US: u64 = 1_795_780_801_000_000;

fn entry(ms: u64, kind: TimelineKind, what: &str, by: Option<&str>) -> TimelineEntry {
    let at_us = START_US + ms * 1000;
    TimelineEntry {
        time: digest::format_rfc3339(at_us),
        at_us,
        kind,
        what: what.into(),
        by: by.map(String::from),
        run: None,
    }
}

pub struct ScriptedIncident {
    pub fixed: Arc<FixedBackend>,
    incident: Arc<Mutex<IncidentDetail>>,
}

impl ScriptedIncident {
    pub fn new(fixed: Arc<FixedBackend>) -> Self {
        let incident = IncidentDetail {
            id: "inc-1".into(),
            title: "bank_icbc outage".into(),
            status: IncidentStatus::Open,
            root_cause: "bank bank_icbc (dependency failure)".into(),
            candidates: Vec::new(),
            timeline: vec![
                entry(0, TimelineKind::FirstBadRequest, "first bad request", None),
                entry(400, TimelineKind::Detected, "detected", None),
                entry(
                    900,
                    TimelineKind::Diagnosed,
                    "diagnosed: bank bank_icbc",
                    None,
                ),
                entry(
                    1000,
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
            plan: Some(Plan {
                name: Some("bank-failover".into()),
                approval: "commander".into(),
                status: PlanStatus::AwaitingApproval,
                steps: vec!["route bank_icbc → bank_cmb".into()],
                mttd_s: 0.4,
                mttr_s: None,
            }),
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
        let inc = self.incident.clone();
        let (id, by) = (id.to_string(), by.user.clone());
        Box::pin(async move {
            let mut i = inc.lock();
            if i.id != id {
                return Err(BackendError::NotFound(format!("incident {id}")));
            }
            let Some(plan) = i.plan.as_mut() else {
                return Err(BackendError::Conflict("no plan".into()));
            };
            if plan.status != PlanStatus::AwaitingApproval {
                return Err(BackendError::Conflict("not awaiting approval".into()));
            }
            plan.status = PlanStatus::Recovered;
            plan.approval = format!("approved by {by}");
            plan.mttr_s = Some(4.2);
            i.status = IncidentStatus::Recovered;
            i.timeline.extend([
                entry(2000, TimelineKind::Approved, "approved", Some(&by)),
                entry(4200, TimelineKind::Recovered, "recovered", None),
            ]);
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
                run: 1,
                approved_by: by,
            })
        })
    }
}
