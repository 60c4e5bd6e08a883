//! The engine: match a trigger to a plan, check the guards, get approval (auto, or a
//! commander with a timeout and an escalation), then — on [`Engine::tick`] — run the steps,
//! hold and verify each stage of a stepwise step, verify recovery within the plan's window,
//! and undo everything and escalate when it does not help. Time comes from the `Clock`;
//! nothing sleeps, so tests step time exactly.

mod run;

use crate::audit::AuditLog;
use crate::error::HealerError;
use crate::executor::{Applied, ExecutorKind, Executors};
use crate::incident::{Incident, IncidentState, Reconciliation, TimelineKind};
use crate::plan::{Action, ApprovalMode, Plan};
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
}

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
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            dry_run: false,
            core_services: vec!["accounting".into(), "ledger".into(), "clearing".into()],
            approval_override: None,
            max_concurrent_plans: 3,
            freeze: Vec::new(),
        }
    }
}

/// Per-incident execution state.
struct Run {
    plan: Plan,
    /// Instantiated steps: executor and stages.
    steps: Vec<(ExecutorKind, Vec<Action>)>,
    next_step: usize,
    next_stage: usize,
    hold_until: Option<Micros>,
    applied: Vec<(usize, ExecutorKind, Action, Applied)>,
    deadline: Micros,
    escalated: bool,
    resources: BTreeSet<String>,
}

/// The healer engine.
pub struct Engine {
    clock: SharedClock,
    cfg: EngineConfig,
    plans: Vec<Plan>,
    executors: Executors,
    audit: AuditLog,
    incidents: BTreeMap<u64, Incident>,
    runs: BTreeMap<u64, Run>,
    /// Starts of each plan (for `max_runs_per_hour`).
    started: Vec<(String, Micros)>,
    next_id: u64,
    /// Per incident, how much of its timeline was already turned into notices.
    noticed: BTreeMap<u64, usize>,
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
            incidents: BTreeMap::new(),
            runs: BTreeMap::new(),
            started: Vec::new(),
            next_id: 1,
            noticed: BTreeMap::new(),
        }
    }

    pub fn plans(&self) -> &[Plan] {
        &self.plans
    }

    pub fn incident(&self, id: u64) -> Option<&Incident> {
        self.incidents.get(&id)
    }

    pub fn incidents(&self) -> impl Iterator<Item = &Incident> {
        self.incidents.values()
    }

    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    fn busy(&self) -> BTreeSet<String> {
        self.runs
            .iter()
            .filter(|(id, _)| self.incidents[id].state.is_open())
            .flat_map(|(_, r)| r.resources.iter().cloned())
            .collect()
    }

    /// Opens an incident for a diagnosis or alert and decides its plan. A trigger on a
    /// target that already has an open incident returns that incident (one per diagnosis;
    /// never two plans on one target).
    pub fn on_trigger(&mut self, trigger: Trigger) -> u64 {
        let now = self.clock.now_us();
        let target_key = format!(
            "target:{}",
            trigger
                .alert
                .clone()
                .unwrap_or_else(|| trigger.target.clone())
        );
        if let Some(i) = self.incidents.values().find(|i| {
            i.state.is_open()
                && self
                    .runs
                    .get(&i.id)
                    .is_some_and(|r| r.resources.contains(&target_key))
        }) {
            return i.id;
        }
        let id = self.next_id;
        self.next_id += 1;
        let mut inc = Incident::new(id, trigger.clone(), self.cfg.dry_run);
        let Some(plan) = self.plans.iter().find(|p| p.matches(&trigger)).cloned() else {
            inc.note(
                now,
                TimelineKind::NoPlan,
                format!("no plan answers {} on {}", trigger.kind, trigger.target),
                None,
            );
            block(&mut inc, now, "commander");
            self.incidents.insert(id, inc);
            return id;
        };
        inc.plan = Some(plan.name.clone());
        inc.note(
            now,
            TimelineKind::PlanMatched,
            format!("{}: {}", plan.name, plan.description),
            None,
        );
        let steps: Result<Vec<(ExecutorKind, Vec<Action>)>, String> = plan
            .steps
            .iter()
            .map(|s| {
                Ok((
                    s.executor,
                    s.stages
                        .iter()
                        .map(|a| a.instantiate(&trigger))
                        .collect::<Result<Vec<_>, _>>()?,
                ))
            })
            .collect();
        let steps = match steps {
            Ok(s) => s,
            Err(e) => {
                inc.note(
                    now,
                    TimelineKind::Guard,
                    format!("plan cannot run for this trigger: {e}"),
                    None,
                );
                block(&mut inc, now, &plan.escalate_to);
                self.incidents.insert(id, inc);
                return id;
            }
        };
        let mut resources: BTreeSet<String> = steps.iter().map(|(_, s)| s[0].resource()).collect();
        resources.insert(target_key);
        let busy = self.busy();
        if let Some(r) = resources.iter().find(|r| busy.contains(*r)) {
            inc.note(
                now,
                TimelineKind::Guard,
                format!("{r} is already being changed by another incident"),
                None,
            );
            block(&mut inc, now, &plan.escalate_to);
            self.incidents.insert(id, inc);
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
                TimelineKind::Guard,
                format!(
                    "{} already ran {runs} times in the last hour (limit {})",
                    plan.name, plan.guards.max_runs_per_hour
                ),
                None,
            );
            block(&mut inc, now, &plan.escalate_to);
            self.incidents.insert(id, inc);
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
        let acting = self
            .incidents
            .values()
            .filter(|i| matches!(i.state, IncidentState::Running | IncidentState::Verifying))
            .count();
        if mode == ApprovalMode::Auto && acting >= self.cfg.max_concurrent_plans {
            inc.note(
                now,
                TimelineKind::Guard,
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
                TimelineKind::Guard,
                "change freeze in force: a commander decides".into(),
                None,
            );
            mode = ApprovalMode::Commander;
        }
        if let Some(o) = self.cfg.approval_override {
            mode = o;
        }
        let run = Run {
            deadline: now + plan.approval_timeout_us,
            plan,
            steps,
            next_step: 0,
            next_stage: 0,
            hold_until: None,
            applied: Vec::new(),
            escalated: false,
            resources,
        };
        match mode {
            ApprovalMode::Auto => {
                inc.approved_by = Some("auto".into());
                inc.note(
                    now,
                    TimelineKind::Approved,
                    "auto plan".into(),
                    Some("auto".into()),
                );
                self.started.push((run.plan.name.clone(), now));
                inc.state = IncidentState::Running;
            }
            ApprovalMode::Commander => {
                inc.note(
                    now,
                    TimelineKind::ApprovalRequested,
                    format!(
                        "waiting up to {} s for a commander",
                        run.plan.approval_timeout_us / 1_000_000
                    ),
                    None,
                );
                inc.state = IncidentState::AwaitingApproval;
            }
        }
        self.runs.insert(id, run);
        self.incidents.insert(id, inc);
        id
    }

    fn awaiting(&mut self, id: u64) -> Result<&mut Incident, HealerError> {
        let inc = self
            .incidents
            .get_mut(&id)
            .ok_or(HealerError::UnknownIncident(id))?;
        if inc.state != IncidentState::AwaitingApproval {
            return Err(HealerError::NotAwaitingApproval {
                id,
                state: format!("{:?}", inc.state).to_lowercase(),
            });
        }
        Ok(inc)
    }

    /// A commander approves: the plan runs from the next tick.
    pub fn approve(&mut self, id: u64, by: &str) -> Result<(), HealerError> {
        let now = self.clock.now_us();
        let inc = self.awaiting(id)?;
        inc.approved_by = Some(by.into());
        inc.state = IncidentState::Running;
        inc.note(
            now,
            TimelineKind::Approved,
            "approved".into(),
            Some(by.into()),
        );
        let name = inc.plan.clone().unwrap_or_default();
        self.started.push((name, now));
        Ok(())
    }

    /// A commander rejects: nothing is changed and the incident closes.
    pub fn reject(&mut self, id: u64, by: &str, reason: &str) -> Result<(), HealerError> {
        let now = self.clock.now_us();
        let inc = self.awaiting(id)?;
        inc.state = IncidentState::Rejected;
        inc.note(now, TimelineKind::Rejected, reason.into(), Some(by.into()));
        Ok(())
    }

    /// Notices for people (approval requests, escalations, rejections, abandonments,
    /// recoveries) that happened since the last call.
    pub fn take_notices(&mut self) -> Vec<crate::notice::Notice> {
        let mut out = Vec::new();
        for inc in self.incidents.values() {
            let seen = self.noticed.entry(inc.id).or_insert(0);
            out.extend(crate::notice::notices(inc, *seen));
            *seen = inc.timeline.len();
        }
        out
    }

    /// Attaches the reconciliation done after recovery.
    pub fn attach_reconciliation(&mut self, id: u64, r: Reconciliation) -> Result<(), HealerError> {
        let now = self.clock.now_us();
        let inc = self
            .incidents
            .get_mut(&id)
            .ok_or(HealerError::UnknownIncident(id))?;
        inc.note(
            now,
            TimelineKind::Reconciled,
            format!("{} mismatches", r.mismatches),
            None,
        );
        inc.reconciliation = Some(r);
        Ok(())
    }
}

fn block(inc: &mut Incident, now: Micros, to: &str) {
    inc.state = IncidentState::Blocked;
    inc.escalated_to = Some(to.into());
    inc.note(
        now,
        TimelineKind::Escalated,
        format!("escalated to {to}"),
        None,
    );
}
