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
    enabled: bool,
    /// analyzer incident id → healer incident id.
    links: Mutex<BTreeMap<u64, u64>>,
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

/// The healer's target for a root cause: `bank:NAME`, `merchant:NAME`, `zone:NAME`, `service:NAME`.
pub fn target_of(rc: &RootCause) -> String {
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

/// Answers "has it cleared?" from the candidates of the analyzer's last tick:
/// cleared when no candidate (other than the plan's own shedding) names the
/// trigger's target.
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
            clock,
            cfg,
            builtin_plans(),
            Executors::default().with(ExecutorKind::Sim, Arc::new(sim)),
            audit,
        );
        Ok(Self {
            engine: Arc::new(tokio::sync::Mutex::new(engine)),
            enabled,
            links: Mutex::new(BTreeMap::new()),
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
    pub async fn step(&self, analyzer: &SharedAnalyzer, sim: &Arc<Sim>) {
        if !self.enabled {
            return;
        }
        let (triggers, probe) = {
            let a = analyzer.lock();
            let links = self.links.lock();
            let triggers: Vec<(u64, Trigger)> = a
                .incidents()
                .open
                .iter()
                .filter(|i| !links.contains_key(&i.id))
                .map(|i| (i.id, trigger_of(i)))
                .collect();
            let targets = a
                .candidates()
                .iter()
                .filter(|c| !only_shedding(c))
                .map(|c| target_of(&c.root_cause))
                .collect();
            (triggers, CandidateProbe { targets })
        };
        let mut engine = self.engine.lock().await;
        for (aid, t) in triggers {
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
                self.attach(&mut engine, id, &r, None);
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
            self.attach(&mut engine, id, &r, Some(&first));
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
            // payments-sim checks each order against the ledger, bank
            // books and clearing; it does not count their entries apart.
            ledger_entries: 0,
            bank_records: 0,
            mismatches: fresh.len() as u64,
            detail,
        };
        let _ = engine.attach_reconciliation(id, rec);
    }
}

fn trigger_of(i: &analyzer::Incident) -> Trigger {
    let rc = &i.root_cause;
    let mut labels = BTreeMap::new();
    for (k, v) in [
        ("service", &rc.service),
        ("bank", &rc.bank),
        ("zone", &rc.zone),
        ("key", &rc.key),
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
