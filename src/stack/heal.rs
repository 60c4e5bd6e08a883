//! Diagnoses → healer: each analyzer incident becomes one healer `Trigger`
//! (kind and `KIND:NAME` target from its root cause, first bad request and
//! detection times from the analyzer); the engine is ticked with a probe that
//! reads the analyzer's current candidates; a recovered incident gets
//! payments-sim's reconciliation (orders vs ledger vs bank books) attached.

use analyzer::{CauseKind, RootCause, SharedAnalyzer};
use anyhow::Context;
use healer::executor::sim::SimExecutor;
use healer::{
    builtin_plans, ApprovalMode, AuditLog, Engine, EngineConfig, ExecutorKind, Executors,
    IncidentState, Probe, Reconciliation, Trigger,
};
use parking_lot::Mutex;
use payments_sim::Sim;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The healer side of the stack.
pub struct Heal {
    pub engine: Arc<tokio::sync::Mutex<Engine>>,
    clock: digest::SharedClock,
    enabled: bool,
    /// analyzer incident id → healer incident id (the latest one).
    links: Mutex<BTreeMap<u64, u64>>,
    /// analyzer incident id → the target the healer last took it up for.
    acted_on: Mutex<BTreeMap<u64, String>>,
    reconciled: Mutex<BTreeSet<u64>>,
    /// Mismatches already attached to an earlier incident (payment id, kind).
    reported: Mutex<HashSet<(u64, &'static str)>>,
    /// Wait between two reconciliation passes (zero: one pass, for drills
    /// where no payment is in flight at a step's end).
    settle: Duration,
    /// Incidents between their two passes: id, when, the first pass's mismatches.
    #[allow(clippy::type_complexity)]
    pending: Mutex<Vec<(u64, Instant, HashSet<(u64, &'static str)>)>>,
}

/// The healer's target for a root cause: `bank:NAME`, `merchant:NAME`, `zone:NAME`,
/// `instance:NAME` (one sick instance of a service), `service:NAME`.
pub fn target_of(rc: &RootCause) -> String {
    if let Some(instance) = &rc.instance {
        return format!("instance:{instance}");
    }
    match rc.kind {
        CauseKind::Dependency => format!("bank:{}", rc.bank.as_deref().unwrap_or("")),
        CauseKind::Zone => format!("zone:{}", rc.zone.as_deref().unwrap_or("")),
        CauseKind::HotSpot if rc.key.is_some() => rc.key.clone().unwrap_or_default(),
        _ => format!("service:{}", rc.service.as_deref().unwrap_or("")),
    }
}

/// Refusals the control plane makes on purpose (load shedding by a plan's
/// flow or hot-parameter limit): a candidate whose only failures are these and
/// whose calls are not slow is the plan working, not the fault.
const SHED_CODES: &[&str] = &["FLOW_LIMITED", "PARAM_FLOW_LIMITED"];

/// Whether a candidate is only the plan's own load shedding.
pub fn only_shedding(c: &analyzer::Candidate) -> bool {
    !c.codes.is_empty()
        && c.codes
            .iter()
            .all(|(code, _)| SHED_CODES.contains(&code.as_str()))
        && c.slow_share < 0.05
}

/// Whether a candidate blames a zone that no user is routed to any more: a
/// cut-over leaves the zone without traffic (a "drop" to the analyzer) and
/// its last failures in the window, but nobody is hurt there.
pub fn drained_zone(c: &analyzer::Candidate, drained: &HashSet<String>) -> bool {
    c.root_cause.kind == CauseKind::Zone
        && c.root_cause
            .zone
            .as_deref()
            .is_some_and(|z| drained.contains(z))
}

/// Answers "has it cleared?" from the candidates of the analyzer's last tick:
/// cleared when no candidate (other than the plan's own shedding, or a zone
/// the control plane has drained of users) names the trigger's target.
struct CandidateProbe {
    targets: HashSet<String>,
}

impl Probe for CandidateProbe {
    fn cleared(&self, t: &Trigger) -> bool {
        !self.targets.contains(&t.target)
    }
}

impl Heal {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        clock: digest::SharedClock,
        control_url: &str,
        token: &str,
        banks: &[&str],
        zones: &[&str],
        approval: Option<ApprovalMode>,
        enabled: bool,
        audit: &Path,
        settle: Duration,
    ) -> anyhow::Result<Self> {
        let sim = SimExecutor::new(control_url, token, banks, zones);
        let cfg = EngineConfig {
            approval_override: approval,
            ..EngineConfig::default()
        };
        let audit = AuditLog::open(audit).context("healer audit log")?;
        let engine = Engine::new(
            clock.clone(),
            cfg,
            builtin_plans(),
            Executors::default().with(ExecutorKind::Sim, Arc::new(sim)),
            audit,
        );
        Ok(Self {
            engine: Arc::new(tokio::sync::Mutex::new(engine)),
            clock,
            enabled,
            links: Mutex::new(BTreeMap::new()),
            acted_on: Mutex::new(BTreeMap::new()),
            reconciled: Mutex::new(BTreeSet::new()),
            reported: Mutex::new(HashSet::new()),
            settle,
            pending: Mutex::new(Vec::new()),
        })
    }

    /// The healer incident opened for an analyzer incident.
    pub fn linked(&self, analyzer_id: u64) -> Option<u64> {
        self.links.lock().get(&analyzer_id).copied()
    }

    /// New diagnoses → triggers; one engine tick; reconciliation after recovery.
    /// `drained` are the zones the zone split currently sends no users to.
    pub async fn step(&self, analyzer: &SharedAnalyzer, sim: &Arc<Sim>, drained: &HashSet<String>) {
        if !self.enabled {
            return;
        }
        let now_us = self.clock.now_us();
        let (triggers, probe) = {
            let a = analyzer.lock();
            let links = self.links.lock();
            let acted = self.acted_on.lock();
            // New diagnoses, and revised ones whose target changed since the
            // healer took them up (the earlier plan was chosen for the wrong
            // target).
            let triggers: Vec<(u64, Trigger)> = a
                .incidents()
                .open
                .iter()
                .filter(|i| {
                    !links.contains_key(&i.id)
                        || acted
                            .get(&i.id)
                            .is_some_and(|t| *t != target_of(&i.root_cause))
                })
                .filter(|i| !awaits_instance(i, now_us))
                .map(|i| (i.id, trigger_of(i)))
                .collect();
            drop(acted);
            let targets = a
                .candidates()
                .iter()
                .filter(|c| !only_shedding(c) && !drained_zone(c, drained))
                .map(|c| target_of(&c.root_cause))
                .collect();
            (triggers, CandidateProbe { targets })
        };
        let mut engine = self.engine.lock().await;
        for (aid, t) in triggers {
            if let Some(old) = self.linked(aid) {
                let state = engine.incident(old).map(|i| i.state);
                match state {
                    // Still acting on the old target: its verification
                    // decides first (and undoes what did not help).
                    Some(IncidentState::Running | IncidentState::Verifying) => continue,
                    // It worked after all: nothing more to do.
                    Some(IncidentState::Recovered) => {
                        self.acted_on.lock().insert(aid, t.target.clone());
                        continue;
                    }
                    Some(IncidentState::AwaitingApproval) => {
                        let _ = engine.reject(
                            old,
                            "healer",
                            &format!("diagnosis revised to {} {}", t.kind, t.target),
                        );
                    }
                    _ => {}
                }
            }
            self.acted_on.lock().insert(aid, t.target.clone());
            let hid = engine.on_trigger(t);
            self.links.lock().insert(aid, hid);
            let plan = engine
                .incident(hid)
                .and_then(|i| i.plan.clone())
                .unwrap_or_else(|| "no plan".into());
            analyzer
                .lock()
                .note(aid, "healer", "incident", &format!("healer #{hid}: {plan}"));
        }
        engine.tick(&probe).await;
        let due: Vec<u64> = engine
            .incidents()
            .filter(|i| i.state == IncidentState::Recovered && i.reconciliation.is_none())
            .map(|i| i.id)
            .filter(|id| !self.reconciled.lock().contains(id))
            .collect();
        for id in due {
            self.reconciled.lock().insert(id);
            let r = sim.reconcile().await;
            if self.settle.is_zero() {
                self.attach(&mut engine, id, &r, books(sim), None);
            } else {
                let first = r
                    .real
                    .iter()
                    .chain(&r.shadow)
                    .map(|m| (m.payment_id, m.kind))
                    .collect();
                self.pending
                    .lock()
                    .push((id, Instant::now() + self.settle, first));
            }
        }
        let ready: Vec<(u64, Instant, HashSet<(u64, &'static str)>)> = {
            let mut p = self.pending.lock();
            let (ready, wait) = std::mem::take(&mut *p)
                .into_iter()
                .partition(|(_, due, _)| *due <= Instant::now());
            *p = wait;
            ready
        };
        for (id, _, first) in ready {
            let r = sim.reconcile().await;
            self.attach(&mut engine, id, &r, books(sim), Some(&first));
        }
    }

    /// Attaches what is new since the last reconciliation (and, with
    /// `first`, also present in the earlier pass: payments in flight during
    /// the first pass have finished by the second).
    fn attach(
        &self,
        engine: &mut Engine,
        id: u64,
        r: &payments_sim::ReconReport,
        (ledger_entries, bank_records): (u64, u64),
        first: Option<&HashSet<(u64, &'static str)>>,
    ) {
        let fresh: Vec<&payments_sim::Mismatch> = {
            let mut seen = self.reported.lock();
            r.real
                .iter()
                .chain(&r.shadow)
                .filter(|m| first.is_none_or(|f| f.contains(&(m.payment_id, m.kind))))
                .filter(|m| seen.insert((m.payment_id, m.kind)))
                .collect()
        };
        let detail = fresh
            .iter()
            .take(20)
            .map(|m| format!("{} {}: {}", m.payment_id, m.kind, m.detail))
            .collect();
        let rec = Reconciliation {
            orders: r.orders_checked,
            ledger_entries,
            bank_records,
            mismatches: fresh.len() as u64,
            detail,
        };
        let _ = engine.attach_reconciliation(id, rec);
    }
}

/// How long a service-wide latency or error diagnosis is held back while the
/// analyzer may still name one sick instance (its per-instance views need a
/// few hundred ms of calls): acting on the service would pick a plan that
/// cannot route around the instance.
const LOCALIZE_US: u64 = 1_500_000;

fn awaits_instance(i: &analyzer::Incident, now_us: u64) -> bool {
    let rc = &i.root_cause;
    matches!(rc.kind, CauseKind::Latency | CauseKind::Errors)
        && rc.instance.is_none()
        && rc.service.is_some()
        && now_us.saturating_sub(i.detected_us.max(1)) < LOCALIZE_US
}

/// What the reconciliation read besides the orders: journal entries (real and
/// shadow ledgers) and the banks' booked transactions.
fn books(sim: &Sim) -> (u64, u64) {
    let ledger = sim.ledger(false).journal().len() + sim.ledger(true).journal().len();
    let bank: usize = sim.banks().iter().map(|b| b.book().len()).sum();
    (ledger as u64, bank as u64)
}

fn trigger_of(i: &analyzer::Incident) -> Trigger {
    let rc = &i.root_cause;
    let mut labels = BTreeMap::new();
    for (k, v) in [
        ("service", &rc.service),
        ("bank", &rc.bank),
        ("zone", &rc.zone),
        ("key", &rc.key),
        ("instance", &rc.instance),
    ] {
        if let Some(v) = v {
            labels.insert(k.to_string(), v.clone());
        }
    }
    labels.insert("analyzer_incident".into(), i.id.to_string());
    Trigger {
        kind: rc.kind.as_str().to_string(),
        target: target_of(rc),
        alert: None,
        labels,
        first_bad_us: (i.start_us > 0).then_some(i.start_us),
        detected_us: i.detected_us,
        diagnosed_us: i.diagnosed_us,
    }
}
