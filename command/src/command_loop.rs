//! The command loop: after every analyzer tick, [`CommandLoop::step`] updates the incident
//! book, raises a plan run for each incident the healer has not taken up for its current
//! diagnosis (held while an instance may still be named; a revised diagnosis starts a new
//! run once the old one has decided), ticks the healer with the analyzer's current targets
//! as its probe, copies every run event onto its incident's timeline, and reconciles the
//! books after a heal. Commanders act on incidents by id through the same loop.
//!
//! Locks: the book sits behind a plain mutex never held across an await, so readers (the
//! screen, a drill) never wait for the healer; the healer engine sits behind an async mutex
//! because its actions call out.

use crate::book::{BookConfig, IncidentBook, Observation};
use crate::books::{Books, Reconciler};
use crate::error::CommandError;
use crate::incident::{EntryKind, Incident, RunRecord};
use crate::meter::{FailureMeter, PaymentTally};
use crate::notice::Notice;
use crate::rules::{target_of, trigger_of, Readings, RulesConfig};
use analyzer::{Analyzer, Candidate, Impact, RootCause};
use digest::{Micros, SharedClock};
use healer::{Engine, PlanOption, RunId, RunState, Trigger};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// How the command loop behaves (`[incidents]` and `[rules]` in the config).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommandConfig {
    pub incidents: BookConfig,
    pub rules: RulesConfig,
    /// Time between the two reconciliation passes after a heal, milliseconds (0: one pass,
    /// for drills where no payment is in flight at a step's end).
    pub reconcile_settle_ms: u64,
}

/// What the loop reads of the diagnosis at a step: the analyzer, or in a test a fixed list.
pub trait DiagnosisSource {
    /// The ranked candidates of the last tick, best first.
    fn candidates(&self) -> &[Candidate];
    /// Whether anything real was unhealthy at the last tick, named or not.
    fn any_unhealthy(&self) -> bool;
    /// The damage from `from_us` to the newest data.
    fn impact_since(&self, from_us: Micros) -> Impact;
    /// Whether `caller`'s calls reach `callee` in the call graph. Default: no graph.
    fn calls(&self, _caller: &str, _callee: &str) -> bool {
        false
    }
    /// Real payments taken so far, failed ones and those failed with one of `shed_codes`
    /// (counters that only grow).
    fn payment_tally(&self, shed_codes: &[String]) -> PaymentTally;
}

impl DiagnosisSource for Analyzer {
    fn candidates(&self) -> &[Candidate] {
        Analyzer::candidates(self)
    }
    fn any_unhealthy(&self) -> bool {
        Analyzer::any_unhealthy(self)
    }
    fn impact_since(&self, from_us: Micros) -> Impact {
        Analyzer::impact_since(self, from_us)
    }
    fn calls(&self, caller: &str, callee: &str) -> bool {
        self.calls_reach(caller, callee)
    }
    fn payment_tally(&self, shed_codes: &[String]) -> PaymentTally {
        PaymentTally {
            payments: self.payments_total(),
            failed: self.failed_payments_total(),
            shed: self.failed_payments_with_codes(shed_codes),
        }
    }
}

/// What the loop needs to know of the watched system at a step.
pub struct Situation<'a> {
    /// Zones the control plane routes no users to (a cut-over drained them).
    pub drained_zones: &'a HashSet<String>,
    /// The system's books, for reconciliation after a heal (`None`: not reconciled).
    pub books: Option<&'a dyn Books>,
}

struct Healer {
    engine: Engine,
    reconciler: Reconciler,
}

/// The incident book, the healer and the rules between them.
pub struct CommandLoop {
    clock: SharedClock,
    rules: RulesConfig,
    /// Raise plan runs (off: watch and diagnose only).
    heal: bool,
    book: Mutex<IncidentBook>,
    healer: tokio::sync::Mutex<Healer>,
    /// Per incident, how much of its timeline was already turned into notices.
    noticed: Mutex<BTreeMap<u64, usize>>,
    /// Failed payments sampled at every step (the no-harm check's readings).
    meter: Mutex<FailureMeter>,
}

/// A plan run to start: for which incident, on what.
struct Start {
    incident: u64,
    trigger: Trigger,
    cause: RootCause,
}

impl CommandLoop {
    /// `heal = false` keeps the book and never starts a run.
    pub fn new(clock: SharedClock, cfg: CommandConfig, engine: Engine, heal: bool) -> Self {
        Self {
            book: Mutex::new(IncidentBook::new(cfg.incidents)),
            healer: tokio::sync::Mutex::new(Healer {
                engine,
                reconciler: Reconciler::new(cfg.reconcile_settle_ms * 1_000),
            }),
            rules: cfg.rules,
            heal,
            clock,
            noticed: Mutex::new(BTreeMap::new()),
            meter: Mutex::new(FailureMeter::default()),
        }
    }

    /// One step after the analyzer's tick (`analyzer` is locked only to read it).
    pub async fn step<D: DiagnosisSource>(&self, analyzer: &Mutex<D>, s: &Situation<'_>) {
        let now = self.clock.now_us();
        let (starts, probe) = {
            let a = analyzer.lock();
            let mut book = self.book.lock();
            book.update(
                &Observation {
                    now_us: now,
                    candidates: a.candidates(),
                    any_unhealthy: a.any_unhealthy(),
                    calls: &|caller, callee| a.calls(caller, callee),
                },
                |from| a.impact_since(from),
            );
            if !self.heal {
                return;
            }
            let starts: Vec<Start> = book
                .open()
                .iter()
                .filter(|i| needs_run(i) && !self.rules.awaits_instance(i, now))
                .map(|i| Start {
                    incident: i.id,
                    trigger: trigger_of(i),
                    cause: i.root_cause.clone(),
                })
                .collect();
            let mut meter = self.meter.lock();
            meter.sample(now, a.payment_tally(&self.rules.shed_codes));
            let readings = Readings {
                named: self.rules.still_named(a.candidates(), s.drained_zones),
                failures: meter.clone(),
            };
            (starts, readings)
        };
        let mut h = self.healer.lock().await;
        for st in starts {
            self.start_run(&mut h.engine, st);
        }
        h.engine.tick(&probe).await;
        self.copy_events(&mut h.engine);
        if let Some(books) = s.books {
            h.reconciler.step(now, &self.book, books).await;
        }
    }

    /// Starts (or declines to start) a run for a new or revised diagnosis.
    fn start_run(&self, engine: &mut Engine, st: Start) {
        let last = self
            .book
            .lock()
            .get(st.incident)
            .and_then(|i| i.last_run().map(|r| r.id));
        if let Some(old) = last {
            match engine.run(old).map(|r| r.state) {
                // Still acting on the old target: its verification decides first (and
                // undoes what did not help).
                Some(RunState::Running | RunState::Verifying) => return,
                // It worked after all: nothing more to do.
                Some(RunState::Recovered) => {
                    if let Some(i) = self.book.lock().get_mut(st.incident) {
                        i.acted_on = Some(st.trigger.target.clone());
                    }
                    return;
                }
                Some(RunState::AwaitingApproval) => {
                    let why = format!(
                        "diagnosis revised to {} {}",
                        st.trigger.kind, st.trigger.target
                    );
                    let _ = engine.reject(old, "healer", &why);
                }
                _ => {}
            }
        }
        let target = st.trigger.target.clone();
        let id = engine.start(st.incident, st.trigger);
        let mut book = self.book.lock();
        if let Some(i) = book.get_mut(st.incident) {
            i.acted_on = Some(target.clone());
            if !i.runs.iter().any(|r| r.id == id) {
                if let Some(run) = engine.run(id) {
                    i.runs.push(record(run, st.cause, target));
                }
            }
        }
    }

    /// Every run event since the last copy onto its incident's timeline; the runs' records
    /// refreshed; the first verified recovery dates the incident's.
    fn copy_events(&self, engine: &mut Engine) {
        let updates = engine.take_events();
        if updates.is_empty() {
            return;
        }
        let mut book = self.book.lock();
        let mut touched: Vec<(u64, RunId)> = Vec::new();
        for u in updates {
            let Some(inc) = book.get_mut(u.incident) else {
                continue;
            };
            let e = u.event;
            if e.kind == healer::RunEventKind::Recovered && inc.recovered_us.is_none() {
                inc.recovered_us = Some(e.at_us);
            }
            // A recovery its own plan then made worse is no recovery: the plan is undone
            // and the incident is open again.
            if e.kind == healer::RunEventKind::Harm
                && inc
                    .runs
                    .iter()
                    .any(|r| r.id == u.run && r.recovered_us.is_some())
            {
                inc.recovered_us = None;
            }
            inc.note(
                e.at_us,
                EntryKind::from(e.kind),
                e.detail,
                e.by,
                Some(u.run),
            );
            if !touched.contains(&(u.incident, u.run)) {
                touched.push((u.incident, u.run));
            }
        }
        for (incident, run) in touched {
            let (Some(inc), Some(r)) = (book.get_mut(incident), engine.run(run)) else {
                continue;
            };
            if let Some(rec) = inc.runs.iter_mut().find(|x| x.id == run) {
                let (cause, target) = (rec.cause.clone(), rec.target.clone());
                *rec = record(r, cause, target);
            }
        }
    }

    /// A commander approves the plan waiting on `incident`; it acts from the next step.
    pub async fn approve(&self, incident: u64, by: &str) -> Result<RunId, CommandError> {
        let run = self.waiting_run(incident)?;
        let mut h = self.healer.lock().await;
        h.engine.approve(run, by)?;
        self.copy_events(&mut h.engine);
        Ok(run)
    }

    /// A commander rejects the plan waiting on `incident`: nothing changes.
    pub async fn reject(
        &self,
        incident: u64,
        by: &str,
        reason: &str,
    ) -> Result<RunId, CommandError> {
        let run = self.waiting_run(incident)?;
        let mut h = self.healer.lock().await;
        h.engine.reject(run, by, reason)?;
        self.copy_events(&mut h.engine);
        Ok(run)
    }

    /// The plans a commander may run for `incident`, with what each would change.
    pub async fn plans_for(&self, incident: u64) -> Result<Vec<PlanOption>, CommandError> {
        let trigger = self.trigger_for(incident)?;
        Ok(self.healer.lock().await.engine.plans_for(&trigger))
    }

    /// A commander runs `plan` for `incident` now (approved by them).
    pub async fn run_plan(
        &self,
        incident: u64,
        plan: &str,
        by: &str,
    ) -> Result<RunId, CommandError> {
        let (trigger, cause) = {
            let book = self.book.lock();
            let i = book
                .get(incident)
                .ok_or(CommandError::UnknownIncident(incident))?;
            if !i.is_open() {
                return Err(CommandError::Closed(incident));
            }
            (trigger_of(i), i.root_cause.clone())
        };
        let target = trigger.target.clone();
        let mut h = self.healer.lock().await;
        let id = h.engine.start_plan(incident, trigger, plan, by)?;
        {
            let mut book = self.book.lock();
            if let (Some(i), Some(run)) = (book.get_mut(incident), h.engine.run(id)) {
                i.acted_on = Some(target.clone());
                i.runs.push(record(run, cause, target));
            }
        }
        self.copy_events(&mut h.engine);
        Ok(id)
    }

    /// A commander undoes one applied action of one of `incident`'s runs; `action` is
    /// `RUN.INDEX` as [`RunRecord::action_ids`] names them.
    pub async fn undo(&self, incident: u64, action: &str, by: &str) -> Result<(), CommandError> {
        let unknown = || CommandError::UnknownAction(action.to_string());
        let (run, index) = action
            .split_once('.')
            .and_then(|(r, i)| Some((r.parse::<RunId>().ok()?, i.parse::<usize>().ok()?)))
            .ok_or_else(unknown)?;
        {
            let book = self.book.lock();
            let i = book
                .get(incident)
                .ok_or(CommandError::UnknownIncident(incident))?;
            let r = i.runs.iter().find(|r| r.id == run).ok_or_else(unknown)?;
            if index >= r.actions.len() {
                return Err(unknown());
            }
        }
        let mut h = self.healer.lock().await;
        let result = h.engine.undo_action(run, index, by).await;
        self.copy_events(&mut h.engine);
        Ok(result?)
    }

    /// A commander declares `incident` over, with a note: plans still waiting for a decision
    /// are rejected; its cause must clear before the book opens another incident for it.
    pub async fn resolve(&self, incident: u64, note: &str, by: &str) -> Result<(), CommandError> {
        let waiting: Vec<RunId> = {
            let mut book = self.book.lock();
            book.resolve(incident, self.clock.now_us(), note, by)?;
            let i = book.get(incident).expect("just resolved");
            i.runs
                .iter()
                .filter(|r| r.state == RunState::AwaitingApproval)
                .map(|r| r.id)
                .collect()
        };
        let mut h = self.healer.lock().await;
        for run in waiting {
            let _ = h.engine.reject(run, by, "the incident was resolved");
        }
        self.copy_events(&mut h.engine);
        Ok(())
    }

    fn trigger_for(&self, incident: u64) -> Result<Trigger, CommandError> {
        let book = self.book.lock();
        let i = book
            .get(incident)
            .ok_or(CommandError::UnknownIncident(incident))?;
        Ok(trigger_of(i))
    }

    fn waiting_run(&self, incident: u64) -> Result<RunId, CommandError> {
        let book = self.book.lock();
        let i = book
            .get(incident)
            .ok_or(CommandError::UnknownIncident(incident))?;
        i.runs
            .iter()
            .rev()
            .find(|r| r.state == RunState::AwaitingApproval)
            .map(|r| r.id)
            .ok_or(CommandError::NothingWaiting(incident))
    }

    /// Reads the book (never waits for the healer).
    pub fn book<T>(&self, f: impl FnOnce(&IncidentBook) -> T) -> T {
        f(&self.book.lock())
    }

    /// One incident, as it is now.
    pub fn incident(&self, id: u64) -> Option<Incident> {
        self.book.lock().get(id).cloned()
    }

    /// Runs `f` on the healer engine (plans, runs, the audit log).
    pub async fn engine<T>(&self, f: impl FnOnce(&mut Engine) -> T) -> T {
        let mut h = self.healer.lock().await;
        let out = f(&mut h.engine);
        self.copy_events(&mut h.engine);
        out
    }

    /// Notices for people (approval requests, escalations, rejections, abandonments,
    /// recoveries) that happened since the last call.
    pub fn take_notices(&self) -> Vec<Notice> {
        let book = self.book.lock();
        let mut seen = self.noticed.lock();
        let mut out = Vec::new();
        for inc in book.all() {
            let from = seen.entry(inc.id).or_insert(0);
            out.extend(crate::notice::notices(inc, *from));
            *from = inc.timeline.len();
        }
        out
    }

    /// The clock the loop reads.
    pub fn now_us(&self) -> Micros {
        self.clock.now_us()
    }
}

/// Whether the healer has not taken the incident up for its current diagnosis.
fn needs_run(i: &Incident) -> bool {
    i.acted_on.as_deref() != Some(target_of(&i.root_cause).as_str())
}

fn record(r: &healer::PlanRun, cause: RootCause, target: String) -> RunRecord {
    RunRecord {
        id: r.id,
        cause,
        target,
        plan: r.plan.clone(),
        state: r.state,
        approved_by: r.approved_by.clone(),
        escalated_to: r.escalated_to.clone(),
        actions: r
            .actions
            .iter()
            .map(|a| (a.action.describe(), a.undone))
            .collect(),
        started_us: r.started_us,
        recovered_us: r.recovered_us,
        harm_failed_payments: r.harm_failed_payments,
        harm_aborted: r.harm_aborted,
    }
}
