//! What a commander may do beside the automatic path: see every plan that fits an
//! incident's target with what it would change, run one of them (approved by the commander
//! at once, still under the one-run-per-target guard), and undo any applied action of a
//! run. Each is audited and on the run's events.

use super::{instantiate, Engine, Exec};
use crate::error::HealerError;
use crate::plan::ApprovalMode;
use crate::run::{PlanRun, RunEventKind, RunId, RunState};
use crate::trigger::Trigger;
use serde::Serialize;

/// A plan a commander may run for a trigger.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanOption {
    pub name: String,
    pub description: String,
    /// The plan the healer itself picks for this trigger (the first that matches kind
    /// and target).
    pub automatic: bool,
    /// Whether it answers the trigger's kind of fault (else it only fits the target).
    pub answers_kind: bool,
    /// What it would change, step by step (stages of a stepwise step included).
    pub changes: Vec<String>,
    /// Who lets it act when the healer picks it (`--approve` overrides the plan's own
    /// mode): `None` for the core-service rule.
    pub approval: Option<ApprovalMode>,
}

impl Engine {
    /// Every plan that fits `trigger`'s target (and can be filled in for it), the one the
    /// healer would pick first, then by priority.
    pub fn plans_for(&self, trigger: &Trigger) -> Vec<PlanOption> {
        let auto = self
            .plans
            .iter()
            .find(|p| p.matches(trigger))
            .map(|p| &p.name);
        let mut out: Vec<PlanOption> = self
            .plans
            .iter()
            .filter(|p| p.fits_target(trigger))
            .filter_map(|p| {
                let (steps, _) = instantiate(p, trigger).ok()?;
                Some(PlanOption {
                    name: p.name.clone(),
                    description: p.description.clone(),
                    automatic: auto == Some(&p.name),
                    answers_kind: p.matches(trigger),
                    changes: steps
                        .iter()
                        .flat_map(|(_, stages)| stages.iter().map(|a| a.describe()))
                        .collect(),
                    // What will decide when the healer picks it: an override
                    // (`--approve`) wins over the plan's own mode.
                    approval: self.cfg.approval_override.or(p.approval),
                })
            })
            .collect();
        out.sort_by_key(|o| !o.automatic);
        out
    }

    /// A commander runs `plan` for `incident` on `trigger`: approved by `by` at once. Refused
    /// when the plan is unknown, does not fit the target, or another run holds the target or
    /// a resource the plan changes.
    pub fn start_plan(
        &mut self,
        incident: u64,
        trigger: Trigger,
        plan: &str,
        by: &str,
    ) -> Result<RunId, HealerError> {
        let now = self.clock.now_us();
        let p = self
            .plans
            .iter()
            .find(|p| p.name == plan)
            .cloned()
            .ok_or_else(|| HealerError::UnknownPlan(plan.into()))?;
        if !p.fits_target(&trigger) {
            return Err(HealerError::DoesNotFit {
                plan: plan.into(),
                target: trigger.target.clone(),
            });
        }
        let (steps, resources) =
            instantiate(&p, &trigger).map_err(|why| HealerError::DoesNotFit {
                plan: plan.into(),
                target: format!("{} ({why})", trigger.target),
            })?;
        if let Some(run) = self.holding(&trigger) {
            return Err(HealerError::Busy(format!(
                "plan run {run} is already working on {}",
                trigger.target
            )));
        }
        let busy = self.busy();
        if let Some(r) = resources.iter().find(|r| busy.contains(*r)) {
            return Err(HealerError::Busy(format!(
                "{r} is already being changed by another run"
            )));
        }
        let id = self.next_id;
        self.next_id += 1;
        let mut run = PlanRun::new(id, incident, trigger, self.cfg.dry_run, now);
        run.plan = Some(p.name.clone());
        run.note(
            now,
            RunEventKind::PlanMatched,
            format!("{}: {} (chosen by {by})", p.name, p.description),
            Some(by.into()),
        );
        run.approved_by = Some(by.into());
        run.note(
            now,
            RunEventKind::Approved,
            "run by a commander".into(),
            Some(by.into()),
        );
        run.state = RunState::Running;
        self.started.push((p.name.clone(), now));
        self.execs.insert(
            id,
            Exec {
                deadline: now + p.approval_timeout_us,
                plan: p,
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
            },
        );
        self.runs.insert(id, run);
        Ok(id)
    }

    /// A commander undoes action `index` (of the run's `actions`) now. A run left with no
    /// action in force stops acting (rolled back by the commander).
    pub async fn undo_action(
        &mut self,
        run: RunId,
        index: usize,
        by: &str,
    ) -> Result<(), HealerError> {
        let r = self.runs.get(&run).ok_or(HealerError::UnknownRun(run))?;
        let unknown = || HealerError::UnknownAction { run, index };
        let record = r.actions.get(index).ok_or_else(unknown)?;
        if record.undone {
            return Err(HealerError::AlreadyUndone { run, index });
        }
        let exec = self.execs.get_mut(&run).ok_or_else(unknown)?;
        let pos = exec
            .applied
            .iter()
            .position(|h| h.record == index)
            .ok_or_else(unknown)?;
        let held = exec.applied.remove(pos);
        let left = exec.applied.len();
        self.undo_held(run, held, by)
            .await
            .map_err(HealerError::Undo)?;
        let now = self.clock.now_us();
        let r = self.runs.get_mut(&run).expect("run");
        if left == 0 && r.state.is_acting() {
            r.state = RunState::RolledBack;
            r.note(
                now,
                RunEventKind::Escalated,
                "every action undone by a commander: the run stopped".into(),
                Some(by.into()),
            );
        }
        Ok(())
    }
}
