//! Running one [`Scenario`]: inject every fault, watch until each root's incident has been
//! healed (and reconciled) or its plan has given up, or the drill's time is up; score it —
//! which roots were named, whether each was recovered and how fast, how many incidents the
//! scenario opened (one per fault is right), and the harm: failed payments above the
//! pre-action rate while a plan's actions were in force.

use super::scenario::{Root, Scenario};
use super::{round3, Driver};
use crate::StackError;
use analyzer::verdict::matches_fault;
use command::Incident;
use digest::Clock;
use healer::RunState;
use serde_json::{json, Value};
use std::time::Instant;

/// How long a shadow-only scenario is watched (nothing may happen on real traffic).
const SHADOW_WATCH_S: u64 = 15;

/// Whether `i`'s diagnosis — as the healer acted on it, or as it stands — names `root`.
fn names(i: &Incident, root: &Root) -> bool {
    let m = |rc: &analyzer::RootCause| matches_fault(&root.kind, &root.target, rc, &[]);
    m(&i.root_cause) || i.runs.iter().any(|r| m(&r.cause)) || i.revisions.iter().any(m)
}

/// The run of `i` started for a cause that names `root` (the latest), if any.
fn run_for<'a>(i: &'a Incident, root: &Root) -> Option<&'a command::RunRecord> {
    i.runs
        .iter()
        .rev()
        .find(|r| matches_fault(&root.kind, &root.target, &r.cause, &[]))
}

/// Whether the incident is done at `now_us`: its latest run healed it, it was reconciled
/// and the no-harm check has stopped watching, or the run has given up (rolled back,
/// blocked, rejected, abandoned).
pub(super) fn settled(i: &Incident, now_us: u64) -> bool {
    let watch = healer::HarmGuard::default().watch_after_recovery_us;
    match i.last_run() {
        Some(r) if r.state == RunState::Recovered => {
            i.reconciliation.is_some() && r.recovered_us.is_some_and(|t| now_us >= t + watch)
        }
        Some(r) => !r.state.is_open(),
        None => false,
    }
}

impl Driver {
    /// One scenario: inject, watch, score, clean up. `settle`: wait for health afterwards.
    pub async fn scenario(&mut self, s: &Scenario, settle: bool) -> Result<Value, StackError> {
        let wall = Instant::now();
        let inject_us = self.clock.now_us();
        let before: u64 = self
            .stack
            .room
            .command
            .book(|b| b.all().map(|i| i.id).max().unwrap_or(0));
        self.stack.control.put_fault_specs(&s.faults).await?;
        let mut detected_us: Option<u64> = None;
        let mut named_us: Vec<Option<u64>> = vec![None; s.roots.len()];
        let mut steps = 0;
        while steps < self.opts.max_s * 10 {
            self.step().await;
            steps += 1;
            let now = self.clock.now_us();
            if detected_us.is_none() && !self.stack.room.analyzer.lock().candidates().is_empty() {
                detected_us = Some(now);
            }
            let incidents = self.scenario_incidents(inject_us, before);
            for (k, root) in s.roots.iter().enumerate() {
                if named_us[k].is_none() && incidents.iter().any(|i| names(i, root)) {
                    named_us[k] = Some(now);
                }
            }
            if s.shadow_only {
                if steps >= SHADOW_WATCH_S * 10 {
                    break;
                }
                continue;
            }
            let done = !self.opts.heal
                || s.roots.iter().all(|root| {
                    incidents
                        .iter()
                        .filter(|i| names(i, root))
                        .any(|i| settled(i, now))
                });
            if done && named_us.iter().all(Option::is_some) {
                break;
            }
        }
        let out = self.score(s, inject_us, before, detected_us, &named_us);
        self.stack.control.put_faults(&[]).await?;
        self.stack.control.reset().await?;
        if settle {
            self.quiet().await;
        }
        let mut out = out;
        out["wall_s"] = json!(round3(wall.elapsed().as_secs_f64()));
        Ok(out)
    }

    /// The incidents a scenario touched: opened after `before`, or diagnosed (or reopened)
    /// since it was injected.
    fn scenario_incidents(&self, inject_us: u64, before: u64) -> Vec<Incident> {
        self.stack.room.command.book(|b| {
            b.all()
                .filter(|i| {
                    i.id > before
                        || i.diagnosed_us >= inject_us
                        || i.timeline
                            .iter()
                            .any(|e| e.at_us >= inject_us && e.kind == command::EntryKind::Reopened)
                })
                .cloned()
                .collect()
        })
    }

    fn score(
        &self,
        s: &Scenario,
        inject_us: u64,
        before: u64,
        detected_us: Option<u64>,
        named_us: &[Option<u64>],
    ) -> Value {
        let truth: Vec<_> = self
            .stack
            .steering
            .ground_truth()
            .into_iter()
            .filter(|g| g.start_us >= inject_us)
            .collect();
        let first_bad = truth
            .iter()
            .filter_map(|g| g.first_affected_us)
            .min()
            .unwrap_or(inject_us);
        let secs = |t: u64| round3(t.saturating_sub(first_bad) as f64 / 1e6);
        let incidents = self.scenario_incidents(inject_us, before);
        let opened = incidents.iter().filter(|i| i.id > before).count();
        let runs: Vec<&command::RunRecord> = incidents
            .iter()
            .flat_map(|i| i.runs.iter().filter(|r| r.started_us >= inject_us))
            .collect();
        let harm: f64 = runs.iter().map(|r| r.harm_failed_payments).sum();
        let per_root: Vec<Value> = s
            .roots
            .iter()
            .zip(named_us)
            .map(|(root, named)| {
                // The incident whose plan was started for this root (else one naming it).
                let inc = incidents
                    .iter()
                    .find(|i| run_for(i, root).is_some())
                    .or_else(|| incidents.iter().find(|i| names(i, root)));
                let run = inc.and_then(|i| run_for(i, root));
                let recovered = run.is_some_and(|r| r.state == RunState::Recovered);
                json!({
                    "root": root,
                    "named": named.is_some(),
                    "named_after_s": named.map(secs),
                    "incident": inc.map(|i| i.id),
                    "root_cause": inc.map(|i| &i.root_cause),
                    "plan": run.and_then(|r| r.plan.clone()),
                    "actions": run.map(|r| r.actions.iter().map(|(a, _)| a.clone()).collect::<Vec<_>>()).unwrap_or_default(),
                    "healer_state": run.map(|r| r.state),
                    "recovered": recovered,
                    "mttr_s": run.and_then(|r| r.recovered_us).map(secs),
                    "reconciliation_mismatches": inc.and_then(|i| i.reconciliation.as_ref().map(|r| r.mismatches)),
                })
            })
            .collect();
        let all_named = per_root.iter().all(|r| r["named"] == json!(true));
        let real_runs = runs.len();
        let recovered = if s.shadow_only {
            real_runs == 0
        } else {
            per_root.iter().all(|r| r["recovered"] == json!(true))
        };
        let mttr = per_root
            .iter()
            .map(|r| r["mttr_s"].as_f64())
            .try_fold(0.0f64, |m, x| x.map(|x| m.max(x)));
        let mismatches: u64 = incidents
            .iter()
            .filter_map(|i| i.reconciliation.as_ref().map(|r| r.mismatches))
            .sum();
        json!({
            "scenario": s.kind,
            "title": s.title,
            "roots": s.roots,
            "shadow_only": s.shadow_only,
            "fault_touched_calls": truth.iter().any(|g| g.first_affected_us.is_some()),
            "detected_after_s": detected_us.map(secs),
            "named": per_root.iter().map(|r| r["named"].clone()).collect::<Vec<_>>(),
            "all_roots_named": if s.shadow_only { opened == 0 } else { all_named },
            "recovered": recovered,
            "mttr_s": if recovered && !s.shadow_only { mttr.map(round3) } else { None },
            "incidents_opened": opened,
            "plans_run": real_runs,
            "harm_failed_payments": round3(harm),
            "harm_aborted": runs.iter().any(|r| r.harm_aborted),
            "reconciliation_mismatches": mismatches,
            "per_root": per_root,
            "incidents": incidents.iter().map(|i| json!({
                "id": i.id,
                "title": i.title(),
                "status": i.status,
                "runs": i.runs.iter().map(|r| json!({
                    "plan": r.plan, "state": r.state, "target": r.target,
                    "harm_failed_payments": round3(r.harm_failed_payments),
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    }
}
