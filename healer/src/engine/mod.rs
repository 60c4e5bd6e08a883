//! The engine: for an incident's trigger, match a plan, check the guards, get approval
//! (auto, or a commander with a timeout and an escalation), then — on [`Engine::tick`] — run
//! the steps, hold and verify each stage of a stepwise step, verify recovery within the
//! plan's window, and undo everything and escalate when it does not help. Each of those is a
//! [`PlanRun`]; its events go to the caller's incident through [`Engine::take_events`].
//! Time comes from the `Clock`; nothing sleeps, so tests step time exactly.

mod advance;
mod commander;

pub use commander::PlanOption;

use crate::audit::AuditLog;
use crate::error::HealerError;
use crate::executor::{Applied, ExecutorKind, Executors};
use crate::plan::{Action, ApprovalMode, Plan};
use crate::run::{PlanRun, RunEventKind, RunId, RunState, RunUpdate};
use crate::trigger::Trigger;
use digest::{Micros, SharedClock};
use std::collections::{BTreeMap, BTreeSet};

/// Answers the engine's questions about the watched system (filled from the analyzer).
pub trait Probe: Send + Sync {
    /// Has the condition that triggered this incident cleared?
    fn cleared(&self, trigger: &Trigger) -> bool;
    /// After a stage of a stepwise step: is the system still healthy (e.g. the zone now
    /// taking the traffic)? Default: yes.
    fn stage_ok(&self, _trigger: &Trigger, _stage: &Action) -> bool {
        true
    }
    /// Harmful failed payments per second between `from_us` and `to_us` while `trigger`'s
    /// incident is on, for the no-harm check (the probe may leave out a plan's shedding of
    /// what arrives beyond the normal rate); `None` when not known (the check is skipped).
    fn failure_rate(&self, _trigger: &Trigger, _from_us: Micros, _to_us: Micros) -> Option<f64> {
        None
    }
    /// Have payments recovered although the condition may still be named (failed payments
    /// back within the no-harm bar of their normal rate, shed surplus aside)? Asked for
    /// plans that mitigate (`[verify] mitigates = true`). Default: no.
    fn payments_recovered(&self, _trigger: &Trigger) -> bool {
        false
    }
    /// Whether `trigger`'s fault was only setting in when it was detected (its failures had
    /// not yet risen above the normal rate in the second before): the rate before an action
    /// taken at once is then provisional. Default: no.
    fn setting_in(&self, _trigger: &Trigger) -> bool {
        false
    }
    /// Failed payments per second before the fault (e.g. the ten seconds before its
    /// detection): the no-harm check never holds a plan to a rate below it. Default: none.
    fn normal_failure_rate(&self, _trigger: &Trigger) -> Option<f64> {
        None
    }
    /// Failed payments per second but every one a limit shed (the fault's own failures,
    /// as far as they can be told apart); default: [`Probe::failure_rate`].
    fn fault_rate(&self, trigger: &Trigger, from_us: Micros, to_us: Micros) -> Option<f64> {
        self.failure_rate(trigger, from_us, to_us)
    }
}

/// The no-harm check: after a run's first action, failed payments per second since it are
/// compared with the rate before it — measured since the fault was detected, so a fault
/// still ramping up at the action is not blamed on it; a run under which failures rise
/// above the bar is undone at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HarmGuard {
    /// Time after the first action before the check judges (the action must have had time
    /// to act, and the rate after it must span enough calls).
    pub settle_us: u64,
    /// The rate now is read over at most this much time before now (never before the
    /// first action).
    pub window_us: u64,
    /// How long the rate must stay above the bar before the run is undone.
    pub confirm_us: u64,
    /// The bar: the rate before × (1 + `margin`) + `floor_per_s`.
    pub margin: f64,
    pub floor_per_s: f64,
    /// How long after a run recovered its actions are still watched (they stay in force:
    /// a limit that cleared the diagnosis may go on refusing payments).
    pub watch_after_recovery_us: u64,
}

impl Default for HarmGuard {
    fn default() -> Self {
        Self {
            settle_us: 500_000,
            window_us: 1_000_000,
            confirm_us: 300_000,
            margin: 0.25,
            floor_per_s: 2.0,
            watch_after_recovery_us: 5_000_000,
        }
    }
}

impl HarmGuard {
    /// Whether `now_per_s` is worse than `before_per_s` by more than the bar: the margin,
    /// the floor, and three standard deviations of a Poisson count over the window (a few
    /// background failures in one second are noise, not harm).
    pub fn worse(&self, before_per_s: f64, now_per_s: f64) -> bool {
        let window_s = (self.window_us as f64 / 1e6).max(0.1);
        let noise = 3.0 * (before_per_s.max(1.0) / window_s).sqrt();
        now_per_s > before_per_s * (1.0 + self.margin) + self.floor_per_s + noise
    }
}

/// How soon after a fault's detection an action's rate before may be provisional.
const SETTING_IN_US: Micros = 1_000_000;

/// How the engine behaves.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Record what would be done; call no executor.
    pub dry_run: bool,
    /// Services whose plans need a commander unless the plan says otherwise.
    pub core_services: Vec<String>,
    /// Forces every plan's approval mode (drills: `--approve auto`).
    pub approval_override: Option<ApprovalMode>,
    /// Above this many plans acting at once, new ones need a commander (blast radius).
    pub max_concurrent_plans: usize,
    /// Platform-wide change freezes `[from, to)`: auto plans need a commander inside one.
    pub freeze: Vec<(Micros, Micros)>,
    /// The no-harm check on every run.
    pub harm: HarmGuard,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            dry_run: false,
            core_services: vec!["accounting".into(), "ledger".into(), "clearing".into()],
            approval_override: None,
            max_concurrent_plans: 3,
            freeze: Vec::new(),
            harm: HarmGuard::default(),
        }
    }
}

/// An applied action the engine can undo.
struct Held {
    /// Its index in the run's `actions`.
    record: usize,
    step: usize,
    kind: ExecutorKind,
    action: Action,
    applied: Applied,
}

/// Per-run execution state.
struct Exec {
    plan: Plan,
    /// Instantiated steps: executor and stages.
    steps: Vec<(ExecutorKind, Vec<Action>)>,
    next_step: usize,
    next_stage: usize,
    hold_until: Option<Micros>,
    /// Actions in force, in the order applied.
    applied: Vec<Held>,
    deadline: Micros,
    escalated: bool,
    resources: BTreeSet<String>,
    /// Failed payments per second just before the first action (the no-harm baseline).
    before_failures: Option<f64>,
    /// When the first action was applied.
    first_action_us: Option<Micros>,
    /// When the first action came within a second of detecting a fault still setting in
    /// ([`Probe::setting_in`]), the rate before was read off its onset: at the end of the
    /// settle time it is re-read from here on, as the fault's own failures (all but load
    /// shedding, the one harm an action shows at once).
    before_provisional_from: Option<Micros>,
    /// Since when the rate has been above the bar (while it is).
    worse_since: Option<Micros>,
    /// When the no-harm check last looked.
    checked_us: Micros,
}

/// The healer engine.
pub struct Engine {
    clock: SharedClock,
    cfg: EngineConfig,
    plans: Vec<Plan>,
    executors: Executors,
    audit: AuditLog,
    runs: BTreeMap<RunId, PlanRun>,
    execs: BTreeMap<RunId, Exec>,
    /// Starts of each plan (for `max_runs_per_hour`).
    started: Vec<(String, Micros)>,
    next_id: u64,
    /// Per run, how many of its events [`Engine::take_events`] already handed out.
    reported: BTreeMap<RunId, usize>,
}

impl Engine {
    /// Plans are tried highest `priority` first.
    pub fn new(
        clock: SharedClock,
        cfg: EngineConfig,
        mut plans: Vec<Plan>,
        executors: Executors,
        audit: AuditLog,
    ) -> Self {
        plans.sort_by_key(|p| std::cmp::Reverse(p.priority));
        Self {
            clock,
            cfg,
            plans,
            executors,
            audit,
            runs: BTreeMap::new(),
            execs: BTreeMap::new(),
            started: Vec::new(),
            next_id: 1,
            reported: BTreeMap::new(),
        }
    }

    pub fn plans(&self) -> &[Plan] {
        &self.plans
    }

    pub fn run(&self, id: RunId) -> Option<&PlanRun> {
        self.runs.get(&id)
    }

    /// Every run, oldest first.
    pub fn runs(&self) -> impl Iterator<Item = &PlanRun> {
        self.runs.values()
    }

    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    fn busy(&self) -> BTreeSet<String> {
        self.execs
            .iter()
            .filter(|(id, _)| self.runs[id].state.is_open())
            .flat_map(|(_, r)| r.resources.iter().cloned())
            .collect()
    }

    /// The open run that holds `trigger`'s target, if any.
    fn holding(&self, trigger: &Trigger) -> Option<RunId> {
        let key = target_key(trigger);
        self.runs
            .values()
            .find(|i| {
                i.state.is_open()
                    && self
                        .execs
                        .get(&i.id)
                        .is_some_and(|r| r.resources.contains(&key))
            })
            .map(|i| i.id)
    }

    /// Starts a run for `incident` (the caller's id) on a diagnosis or alert and decides
    /// its plan. A trigger on a target that already has an open run returns that run
    /// (never two plans on one target).
    pub fn start(&mut self, incident: u64, trigger: Trigger) -> RunId {
        let now = self.clock.now_us();
        if let Some(id) = self.holding(&trigger) {
            return id;
        }
        let id = self.next_id;
        self.next_id += 1;
        let mut inc = PlanRun::new(id, incident, trigger.clone(), self.cfg.dry_run, now);
        let Some(plan) = self.plans.iter().find(|p| p.matches(&trigger)).cloned() else {
            inc.note(
                now,
                RunEventKind::NoPlan,
                format!("no plan answers {} on {}", trigger.kind, trigger.target),
                None,
            );
            block(&mut inc, now, "commander");
            self.runs.insert(id, inc);
            return id;
        };
        inc.plan = Some(plan.name.clone());
        inc.note(
            now,
            RunEventKind::PlanMatched,
            format!("{}: {}", plan.name, plan.description),
            None,
        );
        let (steps, resources) = match instantiate(&plan, &trigger) {
            Ok(x) => x,
            Err(e) => {
                inc.note(
                    now,
                    RunEventKind::Guard,
                    format!("plan cannot run for this trigger: {e}"),
                    None,
                );
                block(&mut inc, now, &plan.escalate_to);
                self.runs.insert(id, inc);
                return id;
            }
        };
        let busy = self.busy();
        if let Some(r) = resources.iter().find(|r| busy.contains(*r)) {
            inc.note(
                now,
                RunEventKind::Guard,
                format!("{r} is already being changed by another incident"),
                None,
            );
            block(&mut inc, now, &plan.escalate_to);
            self.runs.insert(id, inc);
            return id;
        }
        let hour_ago = now.saturating_sub(3_600_000_000);
        let runs = self
            .started
            .iter()
            .filter(|(p, t)| *p == plan.name && *t > hour_ago)
            .count();
        if runs >= plan.guards.max_runs_per_hour as usize {
            inc.note(
                now,
                RunEventKind::Guard,
                format!(
                    "{} already ran {runs} times in the last hour (limit {})",
                    plan.name, plan.guards.max_runs_per_hour
                ),
                None,
            );
            block(&mut inc, now, &plan.escalate_to);
            self.runs.insert(id, inc);
            return id;
        }
        let mut mode = plan.approval.unwrap_or_else(|| {
            let svc = if trigger.target_kind() == "service" {
                trigger.target_name()
            } else {
                ""
            };
            if self.cfg.core_services.iter().any(|c| c == svc) {
                ApprovalMode::Commander
            } else {
                ApprovalMode::Auto
            }
        });
        let acting = self.runs.values().filter(|i| i.state.is_acting()).count();
        if mode == ApprovalMode::Auto && acting >= self.cfg.max_concurrent_plans {
            inc.note(
                now,
                RunEventKind::Guard,
                format!(
                    "{acting} plans already acting (limit {}): a commander decides",
                    self.cfg.max_concurrent_plans
                ),
                None,
            );
            mode = ApprovalMode::Commander;
        }
        let frozen = plan
            .guards
            .freeze
            .iter()
            .chain(self.cfg.freeze.iter())
            .any(|(f, t)| *f <= now && now < *t);
        if mode == ApprovalMode::Auto && frozen {
            inc.note(
                now,
                RunEventKind::Guard,
                "change freeze in force: a commander decides".into(),
                None,
            );
            mode = ApprovalMode::Commander;
        }
        if let Some(o) = self.cfg.approval_override {
            mode = o;
        }
        let run = Exec {
            deadline: now + plan.approval_timeout_us,
            plan,
            steps,
            next_step: 0,
            next_stage: 0,
            hold_until: None,
            applied: Vec::new(),
            escalated: false,
            resources,
            before_failures: None,
            first_action_us: None,
            before_provisional_from: None,
            worse_since: None,
            checked_us: 0,
        };
        match mode {
            ApprovalMode::Auto => {
                inc.approved_by = Some("auto".into());
                inc.note(
                    now,
                    RunEventKind::Approved,
                    "auto plan".into(),
                    Some("auto".into()),
                );
                self.started.push((run.plan.name.clone(), now));
                inc.state = RunState::Running;
            }
            ApprovalMode::Commander => {
                inc.note(
                    now,
                    RunEventKind::ApprovalRequested,
                    format!(
                        "waiting up to {} s for a commander",
                        run.plan.approval_timeout_us / 1_000_000
                    ),
                    None,
                );
                inc.state = RunState::AwaitingApproval;
            }
        }
        self.execs.insert(id, run);
        self.runs.insert(id, inc);
        id
    }

    fn awaiting(&mut self, id: RunId) -> Result<&mut PlanRun, HealerError> {
        let inc = self.runs.get_mut(&id).ok_or(HealerError::UnknownRun(id))?;
        if inc.state != RunState::AwaitingApproval {
            return Err(HealerError::NotAwaitingApproval {
                id,
                state: format!("{:?}", inc.state).to_lowercase(),
            });
        }
        Ok(inc)
    }

    /// A commander approves: the plan runs from the next tick.
    pub fn approve(&mut self, id: RunId, by: &str) -> Result<(), HealerError> {
        let now = self.clock.now_us();
        let inc = self.awaiting(id)?;
        inc.approved_by = Some(by.into());
        inc.state = RunState::Running;
        inc.note(
            now,
            RunEventKind::Approved,
            "approved".into(),
            Some(by.into()),
        );
        let name = inc.plan.clone().unwrap_or_default();
        self.started.push((name, now));
        Ok(())
    }

    /// A commander rejects: nothing is changed and the run ends.
    pub fn reject(&mut self, id: RunId, by: &str, reason: &str) -> Result<(), HealerError> {
        let now = self.clock.now_us();
        let inc = self.awaiting(id)?;
        inc.state = RunState::Rejected;
        inc.note(now, RunEventKind::Rejected, reason.into(), Some(by.into()));
        Ok(())
    }

    /// The events of every run since the last call, oldest first per run, each with its
    /// run and incident id (for the incident's timeline).
    pub fn take_events(&mut self) -> Vec<RunUpdate> {
        let mut out = Vec::new();
        for run in self.runs.values() {
            let seen = self.reported.entry(run.id).or_insert(0);
            out.extend(run.events[*seen..].iter().map(|e| RunUpdate {
                run: run.id,
                incident: run.incident,
                event: e.clone(),
            }));
            *seen = run.events.len();
        }
        out
    }
}

/// The resource that stands for a trigger's target (one open run per target).
fn target_key(t: &Trigger) -> String {
    format!(
        "target:{}",
        t.alert.clone().unwrap_or_else(|| t.target.clone())
    )
}

/// A plan's steps filled in: each step's executor and its stages.
type Steps = Vec<(ExecutorKind, Vec<Action>)>;

/// A plan's steps filled in for `trigger`, and the resources they change (with the
/// trigger's target).
fn instantiate(plan: &Plan, trigger: &Trigger) -> Result<(Steps, BTreeSet<String>), String> {
    let steps = plan
        .steps
        .iter()
        .map(|s| {
            Ok((
                s.executor,
                s.stages
                    .iter()
                    .map(|a| a.instantiate(trigger))
                    .collect::<Result<Vec<_>, String>>()?,
            ))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let mut resources: BTreeSet<String> = steps.iter().map(|(_, s)| s[0].resource()).collect();
    resources.insert(target_key(trigger));
    Ok((steps, resources))
}

fn block(inc: &mut PlanRun, now: Micros, to: &str) {
    inc.state = RunState::Blocked;
    inc.escalated_to = Some(to.into());
    inc.note(
        now,
        RunEventKind::Escalated,
        format!("escalated to {to}"),
        None,
    );
}
