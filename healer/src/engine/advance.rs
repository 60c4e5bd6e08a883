//! Driving runs forward on each tick: approval timeouts and escalation, applying steps
//! (stage by stage with a hold and a check), verification, and undo on failure.

use super::{Engine, Exec, Held, Probe};
use crate::audit::{stamp, AuditEntry};
use crate::executor::{Applied, ExecutorKind};
use crate::plan::Action;
use crate::run::{ActionRecord, RunEventKind, RunId, RunState};
use serde_json::Value;

impl Engine {
    /// Moves every open run as far as the clock allows. Call it often (e.g. every
    /// 100 ms, or after each step of a test's clock).
    pub async fn tick(&mut self, probe: &dyn Probe) {
        let now = self.clock.now_us();
        let watch = self.cfg.harm.watch_after_recovery_us;
        let ids: Vec<RunId> = self
            .runs
            .values()
            .filter(|i| {
                i.state.is_open()
                    || (i.state == RunState::Recovered
                        && i.recovered_us.is_some_and(|r| now < r + watch))
            })
            .map(|i| i.id)
            .collect();
        for id in ids {
            if self.harmed(id, probe) {
                let why = {
                    let e = &self.execs[&id];
                    let now = self.clock.now_us();
                    let from = e.first_action_us.unwrap_or(now);
                    let from = from.max(now.saturating_sub(self.cfg.harm.window_us));
                    format!(
                        "failed payments rose to {:.1}/s from {:.1}/s before the first action",
                        probe
                            .failure_rate(&self.runs[&id].trigger, from, now)
                            .unwrap_or(0.0),
                        e.before_failures.unwrap_or(0.0)
                    )
                };
                let now = self.clock.now_us();
                let run = self.runs.get_mut(&id).expect("run");
                run.harm_aborted = true;
                run.note(now, RunEventKind::Harm, why.clone(), None);
                self.fail(id, why).await;
                continue;
            }
            if self.runs[&id].state.is_open() {
                self.advance(id, probe).await;
            }
        }
    }

    /// The no-harm check of one run: counts failed payments above the rate before its
    /// first action while the rate is over the bar; `true` once it has been over the bar
    /// for the guard's confirmation time (after the settle time). It watches while the
    /// run acts and for a while after it recovered (its actions are still in force).
    fn harmed(&mut self, id: RunId, probe: &dyn Probe) -> bool {
        let now = self.clock.now_us();
        let g = self.cfg.harm;
        let r = &self.runs[&id];
        let acting = r.state.is_acting()
            || (r.state == RunState::Recovered
                && r.recovered_us
                    .is_some_and(|t| now < t + g.watch_after_recovery_us));
        let Some(e) = self.execs.get_mut(&id) else {
            return false;
        };
        let (Some(before), Some(first)) = (e.before_failures, e.first_action_us) else {
            return false;
        };
        let from = first.max(now.saturating_sub(g.window_us));
        let Some(rate) = probe.failure_rate(&r.trigger, from, now) else {
            return false;
        };
        let dt = now.saturating_sub(e.checked_us.max(first));
        e.checked_us = now;
        if !acting || e.applied.is_empty() || now < first + g.settle_us {
            e.worse_since = None;
            return false;
        }
        let mut before = before.max(probe.normal_failure_rate(&r.trigger).unwrap_or(0.0));
        if let Some(from) = e.before_provisional_from.take() {
            if let Some(fault) = probe.fault_rate(&r.trigger, from, now) {
                before = before.max(fault);
                e.before_failures = Some(before);
            }
        }
        if !g.worse(before, rate) {
            e.worse_since = None;
            return false;
        }
        let run = self.runs.get_mut(&id).expect("run");
        run.harm_failed_payments += (rate - before) * dt as f64 / 1e6;
        let since = *e.worse_since.get_or_insert(now);
        now >= since + g.confirm_us
    }

    async fn advance(&mut self, id: RunId, probe: &dyn Probe) {
        let now = self.clock.now_us();
        let state = self.runs[&id].state;
        match state {
            RunState::AwaitingApproval => {
                let run = self.execs.get_mut(&id).expect("exec");
                if now < run.deadline {
                    return;
                }
                let inc = self.runs.get_mut(&id).expect("run");
                if !run.escalated {
                    run.escalated = true;
                    run.deadline = now + run.plan.approval_timeout_us;
                    inc.escalated_to = Some(run.plan.escalate_to.clone());
                    inc.note(
                        now,
                        RunEventKind::Escalated,
                        format!("no decision in time: escalated to {}", run.plan.escalate_to),
                        None,
                    );
                } else {
                    inc.state = RunState::Abandoned;
                    inc.note(
                        now,
                        RunEventKind::Abandoned,
                        "no decision after escalation: nothing changed".into(),
                        None,
                    );
                }
            }
            RunState::Running => loop {
                let run = self.execs.get_mut(&id).expect("exec");
                if let Some(h) = run.hold_until {
                    if now < h {
                        return;
                    }
                    let (step, stage) = last_stage(run);
                    let trigger = self.runs[&id].trigger.clone();
                    if !probe.stage_ok(&trigger, &stage) {
                        let why = format!("step {step} stage `{}` did not hold", stage.describe());
                        self.fail(id, why).await;
                        return;
                    }
                    run.hold_until = None;
                    self.runs.get_mut(&id).expect("run").note(
                        now,
                        RunEventKind::StageVerified,
                        stage.describe(),
                        None,
                    );
                    continue;
                }
                if run.next_step >= run.steps.len() {
                    run.deadline = now + run.plan.verify_within_us;
                    let inc = self.runs.get_mut(&id).expect("run");
                    inc.state = RunState::Verifying;
                    // Fall through to verify at once: the fix may already show.
                    return Box::pin(self.advance(id, probe)).await;
                }
                let (step, stage) = (run.next_step, run.next_stage);
                let (kind, stages) = run.steps[step].clone();
                let action = stages[stage].clone();
                if stages.len() > 1 {
                    run.hold_until = Some(now + run.plan.stage_hold_us);
                }
                if stage + 1 < stages.len() {
                    run.next_stage += 1;
                } else {
                    run.next_step += 1;
                    run.next_stage = 0;
                }
                if run.first_action_us.is_none() {
                    // The rate before: since the fault was detected (at least the last
                    // 200 ms, at most the last 10 s), so a fault still ramping up in a
                    // longer window is measured at its own pace. (Not since the first
                    // bad request: that is dated by the first failure up to 3 s before
                    // detection, which may be an unrelated decline.)
                    let seen = self.runs[&id].trigger.detected_us;
                    let from =
                        seen.clamp(now.saturating_sub(10_000_000), now.saturating_sub(200_000));
                    let trigger = &self.runs[&id].trigger;
                    run.before_failures = probe.failure_rate(trigger, from, now);
                    run.first_action_us = Some(now);
                    if now < seen + super::SETTING_IN_US && probe.setting_in(trigger) {
                        run.before_provisional_from = Some(from);
                    }
                }
                if let Err(e) = self.apply(id, step, kind, action).await {
                    self.fail(id, e).await;
                    return;
                }
            },
            RunState::Verifying => {
                let trigger = self.runs[&id].trigger.clone();
                let e = &self.execs[&id];
                let settled = e
                    .first_action_us
                    .is_some_and(|t| now >= t + self.cfg.harm.settle_us);
                let verified = if probe.cleared(&trigger) {
                    Some("the triggering condition cleared")
                } else if e.plan.verify_mitigates && settled && probe.payments_recovered(&trigger) {
                    Some("payments recovered: the fault is still named, its effect mitigated")
                } else {
                    None
                };
                if let Some(why) = verified {
                    let inc = self.runs.get_mut(&id).expect("run");
                    inc.note(now, RunEventKind::Verified, why.into(), None);
                    inc.note(now, RunEventKind::Recovered, "recovered".into(), None);
                    inc.recovered_us = Some(now);
                    inc.state = RunState::Recovered;
                } else if now >= self.execs[&id].deadline {
                    let within = self.execs[&id].plan.verify_within_us as f64 / 1e6;
                    self.fail(id, format!("the condition did not clear within {within} s"))
                        .await;
                }
            }
            _ => {}
        }
    }

    async fn apply(
        &mut self,
        id: RunId,
        step: usize,
        kind: ExecutorKind,
        action: Action,
    ) -> Result<(), String> {
        let now = self.clock.now_us();
        let result = if self.cfg.dry_run {
            Ok(Applied {
                before: Value::Null,
                after: Value::Null,
            })
        } else {
            match self.executors.get(kind).cloned() {
                None => Err(format!("no {kind:?} executor configured")),
                Some(ex) => ex.apply(&action).await.map_err(|e| e.to_string()),
            }
        };
        let inc = self.runs.get_mut(&id).expect("run");
        let by = inc.approved_by.clone().unwrap_or_default();
        let plan = inc.plan.clone().unwrap_or_default();
        let (ok, error, before, after) = match &result {
            Ok(a) => (true, None, a.before.clone(), a.after.clone()),
            Err(e) => (false, Some(e.clone()), Value::Null, Value::Null),
        };
        if let Err(e) = self.audit.append(AuditEntry {
            time: stamp(now),
            incident: inc.incident,
            run: id,
            plan,
            step,
            phase: "apply".into(),
            executor: format!("{kind:?}").to_lowercase(),
            action: action.clone(),
            by,
            dry_run: self.cfg.dry_run,
            ok,
            error: error.clone(),
            before,
            after,
        }) {
            inc.note(
                now,
                RunEventKind::ActionFailed,
                format!("audit log: {e}"),
                None,
            );
        }
        match result {
            Ok(applied) => {
                let dry = if self.cfg.dry_run { " (dry run)" } else { "" };
                inc.note(
                    now,
                    RunEventKind::Action,
                    format!("{}{dry}", action.describe()),
                    None,
                );
                let record = inc.actions.len();
                inc.actions.push(ActionRecord {
                    step,
                    action: action.clone(),
                    at_us: now,
                    undone: false,
                });
                self.execs.get_mut(&id).expect("exec").applied.push(Held {
                    record,
                    step,
                    kind,
                    action,
                    applied,
                });
                Ok(())
            }
            Err(e) => {
                inc.note(
                    now,
                    RunEventKind::ActionFailed,
                    format!("{}: {e}", action.describe()),
                    None,
                );
                Err(format!("{} failed: {e}", action.describe()))
            }
        }
    }

    /// Undoes one held action (audited, on the run's events): `Err` with why if the
    /// executor could not.
    pub(super) async fn undo_held(&mut self, id: RunId, h: Held, by: &str) -> Result<(), String> {
        let now = self.clock.now_us();
        let Held {
            record,
            step,
            kind,
            action,
            applied: a,
        } = h;
        let result = if self.cfg.dry_run {
            Ok(Value::Null)
        } else {
            match self.executors.get(kind).cloned() {
                None => Err(format!("no {kind:?} executor configured")),
                Some(ex) => ex.undo(&action, &a).await.map_err(|e| e.to_string()),
            }
        };
        let inc = self.runs.get_mut(&id).expect("run");
        if let Err(e) = self.audit.append(AuditEntry {
            time: stamp(now),
            incident: inc.incident,
            run: id,
            plan: inc.plan.clone().unwrap_or_default(),
            step,
            phase: "undo".into(),
            executor: format!("{kind:?}").to_lowercase(),
            action: action.clone(),
            by: by.into(),
            dry_run: self.cfg.dry_run,
            ok: result.is_ok(),
            error: result.as_ref().err().cloned(),
            before: a.after.clone(),
            after: result.clone().unwrap_or(Value::Null),
        }) {
            inc.note(
                now,
                RunEventKind::ActionFailed,
                format!("audit log: {e}"),
                None,
            );
        }
        match result {
            Ok(_) => {
                inc.note(
                    now,
                    RunEventKind::Undone,
                    action.describe(),
                    Some(by.into()),
                );
                inc.actions[record].undone = true;
                Ok(())
            }
            Err(e) => {
                inc.note(
                    now,
                    RunEventKind::ActionFailed,
                    format!("undo {}: {e}", action.describe()),
                    Some(by.into()),
                );
                Err(e)
            }
        }
    }

    /// Undoes every applied action, newest first, and escalates.
    pub(super) async fn fail(&mut self, id: RunId, why: String) {
        let now = self.clock.now_us();
        let applied = std::mem::take(&mut self.execs.get_mut(&id).expect("exec").applied);
        let mut undo_failed = false;
        for h in applied.into_iter().rev() {
            undo_failed |= self.undo_held(id, h, "healer").await.is_err();
        }
        let to = self.execs[&id].plan.escalate_to.clone();
        let inc = self.runs.get_mut(&id).expect("run");
        let tail = if undo_failed {
            "; an undo FAILED, check the audit log"
        } else {
            ""
        };
        inc.note(
            now,
            RunEventKind::Escalated,
            format!("{why}: undone and escalated to {to}{tail}"),
            None,
        );
        inc.escalated_to = Some(to);
        inc.state = RunState::RolledBack;
    }
}

fn last_stage(run: &Exec) -> (usize, Action) {
    // The stage just applied is the one before (next_step, next_stage).
    let (s, st) = if run.next_stage > 0 {
        (run.next_step, run.next_stage - 1)
    } else {
        let s = run.next_step - 1;
        (s, run.steps[s].1.len() - 1)
    };
    (s, run.steps[s].1[st].clone())
}
