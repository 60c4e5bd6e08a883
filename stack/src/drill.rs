//! Drills on the whole stack under a manual clock: traffic is made in 100 ms
//! steps (every payment of a step runs concurrently, real waits — row locks,
//! pools — show in the digests' durations through [`StepClock`]), then the
//! stack steps once. A drill waits for a healthy baseline, injects one fault
//! through the control API (the analyzer never sees it), runs until the
//! healer's incident ends (or the root cause is named, with healing off),
//! scores the verdict against payments-sim's ground truth, then removes the
//! fault, resets the control plane and waits for health again. Every figure of a
//! drill is read off the one incident the fault opened (its id is `incident`).
//!
//! Times reported are on the stack's clock (what every part saw); each step's
//! wall time is measured too, so a reader can tell whether the loop would keep
//! up in real time (`step_wall_p95_ms` < 100).

use super::faults::FaultPick;
use super::{Stack, StackError, StackOptions};
use analyzer::verdict::matches_fault;
use command::Incident;
use digest::{Clock, ManualClock};
use healer::{ApprovalMode, RunState};
use parking_lot::Mutex;
use payments_sim::guard::Guard;
use payments_sim::loadgen::PaymentGen;
use payments_sim::{Delays, LoadConfig};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

const STEP_US: u64 = 100_000;

/// What a commander does with plans that need approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approve {
    /// Every plan runs without asking.
    Auto,
    /// Every plan is rejected by the drill (nothing may change).
    Reject,
    /// Plans keep their own approval mode; nobody answers a commander request.
    Manual,
}

/// Drill settings.
#[derive(Debug, Clone)]
pub struct DrillOptions {
    pub tps: f64,
    pub seed: u64,
    pub heal: bool,
    pub approve: Approve,
    /// Seconds of traffic before the first drill (the analyzer's baseline).
    pub warm_s: u64,
    /// Longest a drill may run after injection (seconds on the stack's clock).
    pub max_s: u64,
    /// Healthy seconds needed between drills.
    pub quiet_s: u64,
    pub data_dir: PathBuf,
}

/// The digests' clock: the manual clock plus the real time spent in the
/// current step (capped below the step).
#[derive(Clone)]
pub struct StepClock {
    manual: ManualClock,
    step_start: Arc<Mutex<Instant>>,
}

impl Clock for StepClock {
    fn now_us(&self) -> u64 {
        let real = self.step_start.lock().elapsed().as_micros() as u64;
        self.manual.now_us() + real.min(STEP_US * 95 / 100)
    }
}

/// A stack under a manual clock with its traffic.
pub struct Driver {
    pub stack: Stack,
    clock: ManualClock,
    step_clock: StepClock,
    gen: PaymentGen,
    carry: f64,
    opts: DrillOptions,
    /// Wall milliseconds per step (traffic + the whole loop).
    pub step_wall_ms: Vec<f64>,
}

fn now_wall_us() -> u64 {
    digest::SystemClock.now_us()
}

impl Driver {
    pub async fn new(opts: DrillOptions) -> Result<Driver, StackError> {
        let clock = ManualClock::new(now_wall_us() / 1_000_000 * 1_000_000);
        let step_clock = StepClock {
            manual: clock.clone(),
            step_start: Arc::new(Mutex::new(Instant::now())),
        };
        let token = format!("drill-{:x}", now_wall_us());
        let mut o = StackOptions::new(Arc::new(clock.clone()), opts.data_dir.clone(), token);
        o.sim_clock = Arc::new(step_clock.clone());
        o.sim.delays = Delays::Virtual;
        o.sim.ledger.hold_us = 200;
        o.analyzer.baseline_s = 20;
        o.analyzer.retention_1s = 40;
        o.heal = opts.heal;
        o.throwaway = true;
        o.approval = match opts.approve {
            Approve::Auto => Some(ApprovalMode::Auto),
            Approve::Reject => Some(ApprovalMode::Commander),
            Approve::Manual => None,
        };
        let stack = Stack::build(o, None).await?;
        let gen = PaymentGen::new(&LoadConfig {
            seed: opts.seed,
            ..LoadConfig::default()
        });
        Ok(Driver {
            stack,
            clock,
            step_clock,
            gen,
            carry: 0.0,
            opts,
            step_wall_ms: Vec::new(),
        })
    }

    /// One 100 ms step: this step's payments, then the whole loop.
    pub async fn step(&mut self) {
        let wall = Instant::now();
        *self.step_clock.step_start.lock() = Instant::now();
        let steering = &self.stack.steering;
        steering.tick();
        let want = self.opts.tps / 10.0 * steering.load_multiplier() + self.carry;
        let n = want.floor() as usize;
        self.carry = want - n as f64;
        let hot = steering.hot_merchant().map(|(k, share)| {
            let id = k.trim_start_matches("m-").parse::<u32>().unwrap_or(0);
            (id, share)
        });
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..n {
            let (sim, p) = (self.stack.sim.clone(), self.gen.next(hot));
            tasks.spawn(async move { sim.pay(p).await });
        }
        while tasks.join_next().await.is_some() {}
        self.clock.advance_us(STEP_US);
        self.stack.step().await;
        self.step_wall_ms.push(wall.elapsed().as_secs_f64() * 1e3);
    }

    pub async fn run_for(&mut self, secs: u64) {
        for _ in 0..secs * 10 {
            self.step().await;
        }
    }

    /// Traffic until the analyzer has a baseline.
    pub async fn warm(&mut self) {
        self.run_for(self.opts.warm_s).await;
        self.quiet().await;
    }

    /// Steps until nothing is flagged for `quiet_s` seconds (at most two minutes).
    async fn quiet(&mut self) {
        let need = self.opts.quiet_s * 10;
        let mut calm = 0;
        for _ in 0..1200 {
            self.step().await;
            let open = self.stack.command.book(|b| b.open().len());
            let a = self.stack.analyzer.lock();
            if a.candidates().is_empty() && open == 0 {
                calm += 1;
            } else {
                calm = 0;
            }
            drop(a);
            if calm >= need {
                return;
            }
        }
    }

    /// Incidents diagnosed at or after `from_us`, as they are now.
    fn incidents_since(&self, from_us: u64) -> Vec<Incident> {
        self.stack.command.book(|b| {
            b.all()
                .filter(|x| x.diagnosed_us >= from_us)
                .cloned()
                .collect()
        })
    }

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
                let a = self.stack.analyzer.lock();
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
        let Some(inc) = self.stack.command.incident(aid) else {
            return false;
        };
        let Some(run) = inc.last_run() else {
            return false;
        };
        match run.state {
            RunState::AwaitingApproval if self.opts.approve == Approve::Reject => {
                let _ = self
                    .stack
                    .command
                    .reject(aid, "drill", "--approve reject")
                    .await;
                false
            }
            RunState::Recovered => inc.reconciliation.is_some(),
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
        let inc = aid.and_then(|id| self.stack.command.incident(id));
        let mut out = json!({
            "fault": f.kind,
            "target": target,
            "incident": aid,
            "first_bad_request": truth.as_ref().map(|g| g.first_affected_us.map(digest::format_rfc3339)),
            // No call was changed (e.g. the bank gets no traffic): nothing to find.
            "fault_touched_calls": truth.as_ref().is_some_and(|g| g.first_affected_us.is_some()),
            "detected_after_s": detected_us.map(secs),
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
            out["other_plans"] = json!(self.stack.command.book(|b| b
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

pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The `q` quantile (nearest rank) of `v`; `None` when empty.
pub fn quantile(v: &[f64], q: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let i = ((s.len() as f64 * q).ceil() as usize).clamp(1, s.len()) - 1;
    Some(s[i])
}
