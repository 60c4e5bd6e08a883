//! One catalogue fault on a steady load (`warroom drill --fault`, `--random`, `--all`):
//! inject, watch until the healer's run on the fault's incident has decided, score the
//! verdict against payments-sim's ground truth, clean up.

use super::{round3, Approve, Driver};
use crate::faults::FaultPick;
use crate::StackError;
use analyzer::verdict::matches_fault;
use digest::Clock;
use healer::RunState;
use serde_json::{json, Value};
use std::time::Instant;

impl Driver {
    /// One drill: inject, watch, score, clean up. Returns its JSON object.
    /// `settle`: wait for health afterwards (off for the last drill of a run).
    pub async fn drill(&mut self, f: &FaultPick, settle: bool) -> Result<Value, StackError> {
        let wall = Instant::now();
        let inject_us = self.clock.now_us();
        self.stack.control.put_faults(&[f.spec()]).await?;
        let target = f.target_or_default();
        let mut named_us: Option<u64> = None;
        let mut aid: Option<u64> = None;
        let mut named_after: Option<u64> = None;
        // The verdict: with healing, the root cause the healer's latest run on the
        // first incident it took up was started for (what the plan was chosen for);
        // with healing off, the first incident's, as refined over 2 s.
        let mut verdict: Option<(analyzer::RootCause, Vec<analyzer::Candidate>)> = None;
        let mut acted: Option<(u64, u64)> = None;
        // Detection: the first step after injection with anything flagged.
        let mut detected_us: Option<u64> = None;
        let mut steps = 0;
        while steps < self.opts.max_s * 10 {
            self.step().await;
            steps += 1;
            let now = self.clock.now_us();
            let incidents = self.incidents_since(inject_us);
            let first = incidents.iter().min_by_key(|x| x.diagnosed_us);
            let taken_up = self
                .opts
                .heal
                .then(|| {
                    incidents
                        .iter()
                        .filter(|x| !x.runs.is_empty())
                        .min_by_key(|x| x.id)
                })
                .flatten();
            let (candidates, top_ok) = {
                let a = self.stack.room.analyzer.lock();
                let ok = a
                    .candidates()
                    .first()
                    .is_some_and(|c| matches_fault(&f.kind, &f.target, &c.root_cause, &[]));
                (a.candidates().to_vec(), ok)
            };
            if let Some(i) = taken_up {
                // Taken up again after a revision: judge what was acted on last.
                let run = i.last_run().expect("taken up");
                if acted != Some((i.id, run.id)) {
                    acted = Some((i.id, run.id));
                    let cands = if i.candidates.is_empty() {
                        candidates.clone()
                    } else {
                        i.candidates.clone()
                    };
                    verdict = Some((run.cause.clone(), cands));
                }
            } else if let Some(i) = first.filter(|_| acted.is_none()) {
                let refining = !self.opts.heal && now <= i.diagnosed_us + 2_000_000;
                if verdict.is_none() || refining {
                    let cands = if i.candidates.is_empty() {
                        candidates.clone()
                    } else {
                        i.candidates.clone()
                    };
                    verdict = Some((i.root_cause.clone(), cands));
                }
            }
            let first = acted.map(|(id, _)| id).or(first.map(|x| x.id));
            if detected_us.is_none() && !candidates.is_empty() {
                detected_us = Some(now);
            }
            if aid.is_none() || acted.is_some() {
                aid = first;
            }
            if top_ok && named_us.is_none() {
                named_us = Some(now);
            }
            if aid.is_some() && named_after.is_none() {
                named_after = Some(steps);
            }
            if self.done(aid, named_after, steps).await {
                break;
            }
        }
        let out = self.report(f, &target, inject_us, aid, (detected_us, named_us), verdict);
        // Clean up: fault off, control plane back to defaults, health again.
        self.stack.control.put_faults(&[]).await?;
        self.stack.control.reset().await?;
        if settle {
            self.quiet().await;
        }
        let mut out = out;
        out["wall_s"] = json!(round3(wall.elapsed().as_secs_f64()));
        Ok(out)
    }

    /// Whether the drill has seen enough.
    async fn done(&mut self, aid: Option<u64>, named_after: Option<u64>, steps: u64) -> bool {
        let Some(aid) = aid else { return false };
        if !self.opts.heal {
            // Let the diagnosis settle two seconds after the incident opened.
            return named_after.is_some_and(|s| steps >= s + 20);
        }
        let Some(inc) = self.stack.room.command.incident(aid) else {
            return false;
        };
        let Some(run) = inc.last_run() else {
            return false;
        };
        match run.state {
            RunState::AwaitingApproval if self.opts.approve == Approve::Reject => {
                let _ = self
                    .stack
                    .room
                    .command
                    .reject(aid, "drill", "--approve reject")
                    .await;
                false
            }
            // Reconciled, and the no-harm check no longer watching its actions.
            RunState::Recovered => super::compound::settled(&inc, self.clock.now_us()),
            RunState::AwaitingApproval | RunState::Running | RunState::Verifying => false,
            _ => true,
        }
    }

    fn report(
        &self,
        f: &FaultPick,
        target: &str,
        inject_us: u64,
        aid: Option<u64>,
        (detected_us, named_us): (Option<u64>, Option<u64>),
        verdict: Option<(analyzer::RootCause, Vec<analyzer::Candidate>)>,
    ) -> Value {
        let truth = self
            .stack
            .steering
            .ground_truth()
            .into_iter()
            .filter(|g| g.start_us >= inject_us)
            .max_by_key(|g| g.id);
        let first_bad = truth
            .as_ref()
            .map(|g| g.first_affected_us.unwrap_or(g.start_us))
            .unwrap_or(inject_us);
        let secs = |t: u64| round3(t.saturating_sub(first_bad) as f64 / 1e6);
        let inc = aid.and_then(|id| self.stack.room.command.incident(id));
        let mut out = json!({
            "fault": f.kind,
            "target": target,
            "incident": aid,
            "first_bad_request": truth.as_ref().map(|g| g.first_affected_us.map(digest::format_rfc3339)),
            // No call was changed (e.g. the bank gets no traffic): nothing to find.
            "fault_touched_calls": truth.as_ref().is_some_and(|g| g.first_affected_us.is_some()),
            "detected_after_s": detected_us.map(secs),
            // The incident's own moments on the stack's clock (µs): its first bad request
            // as the digests show it, and its detection (what `warroom replay` reports).
            "incident_opened_us": inc.as_ref().map(|i| i.start_us),
            "incident_detected_us": inc.as_ref().map(|i| i.detected_us),
            "diagnosed_after_s": named_us.map(secs),
            "root_cause": verdict.as_ref().map(|v| &v.0),
            "revised_to": inc.as_ref().filter(|i| verdict.as_ref().is_some_and(|v| v.0 != i.root_cause)).map(|i| &i.root_cause),
            "correct": verdict.as_ref().is_some_and(|v| matches_fault(&f.kind, &f.target, &v.0, &[])),
            "in_top3": verdict.as_ref().is_some_and(|v| {
                matches_fault(&f.kind, &f.target, &v.0, &[])
                    || v.1.iter().take(3).any(|c| matches_fault(&f.kind, &f.target, &c.root_cause, &[]))
            }),
            "candidates": verdict.as_ref().map(|v| v.1.iter().take(3).map(|c| json!({
                "root_cause": c.root_cause,
                "confidence": round3(c.confidence),
                "evidence": c.evidence,
            })).collect::<Vec<_>>()),
            "impact": inc.as_ref().map(|i| json!({
                "users": i.impact.users,
                "scenes": i.impact.scenes,
                "failed_payments": i.impact.failed_payments,
                "money_at_stake_cents": i.impact.money_at_stake_cents,
            })),
        });
        if self.opts.heal {
            let run = inc.as_ref().and_then(|i| i.last_run());
            out["plan"] = json!(run.and_then(|r| r.plan.clone()));
            out["actions"] = json!(run
                .map(|r| r.actions.iter().map(|(a, _)| a.clone()).collect::<Vec<_>>())
                .unwrap_or_default());
            out["approved_by"] = json!(run.and_then(|r| r.approved_by.clone()));
            out["healer_state"] = json!(run.map(|r| r.state));
            out["recovered"] = json!(run.is_some_and(|r| r.state == RunState::Recovered));
            out["mttd_s"] = out["detected_after_s"].clone();
            out["mttr_s"] = json!(run.and_then(|r| r.recovered_us).map(secs));
            out["reconciliation_mismatches"] = json!(inc
                .as_ref()
                .and_then(|i| i.reconciliation.as_ref().map(|r| r.mismatches)));
            // The incident's timeline from the plan's start (the analyzer's moments
            // before it are in the figures above).
            out["healer_timeline"] =
                json!(inc
                    .as_ref()
                    .map(|i| i
                        .timeline
                        .iter()
                        .filter(|t| t.run.is_some()
                            || t.at_us >= run.map_or(u64::MAX, |r| r.started_us))
                        .map(|t| format!(
                            "+{:.1}s {}: {}",
                            t.at_us.saturating_sub(first_bad) as f64 / 1e6,
                            t.kind.as_str(),
                            t.detail
                        ))
                        .collect::<Vec<_>>())
                    .unwrap_or_default());
            // Other plans the healer ran during this drill (side effects to review).
            out["other_plans"] = json!(self.stack.room.command.book(|b| b
                .all()
                .filter(|i| Some(i.id) != aid)
                .flat_map(|i| i.runs.iter().filter(|r| r.started_us >= inject_us))
                .map(|r| json!({
                    "trigger": format!("{} {}", r.cause.kind.as_str(), r.target),
                    "plan": r.plan,
                    "state": r.state,
                }))
                .collect::<Vec<_>>()));
            out["reconciliation_sample"] = json!(inc
                .as_ref()
                .and_then(|i| i.reconciliation.as_ref())
                .map(|r| r.detail.iter().take(3).cloned().collect::<Vec<_>>())
                .unwrap_or_default());
        }
        out
    }
}
