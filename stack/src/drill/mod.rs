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

mod compound;
mod noise;
pub mod scenario;
mod single;

use super::{Stack, StackError, StackOptions};
use command::Incident;
use digest::{Clock, ManualClock};
use healer::ApprovalMode;
use parking_lot::Mutex;
use payments_sim::guard::Guard;
use payments_sim::loadgen::PaymentGen;
use payments_sim::{Delays, LoadConfig};
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
    /// Write every digest line and change event of the run to this file (`--record`).
    pub record_to: Option<PathBuf>,
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
    /// The traffic's own shape (a noise run's daily curve and flash crowd): multiplies
    /// the rate on top of payments-sim's load multiplier (a surge fault).
    load_shape: f64,
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
        // Row locks are held for real (the timer's 1 ms at least): keep it short, so the
        // wall time a drill's steps take stays out of the measured latencies.
        o.sim.ledger.hold_us = 200;
        o.sim
            .provision_entry(opts.tps, payments_sim::ENTRY_HEADROOM);
        o.analyzer.baseline_s = 20;
        o.analyzer.retention_1s = 40;
        o.heal = opts.heal;
        o.throwaway = true;
        o.record_to = opts.record_to.clone();
        o.approval = match opts.approve {
            Approve::Auto => Some(ApprovalMode::Auto),
            Approve::Reject => Some(ApprovalMode::Commander),
            Approve::Manual => None,
        };
        let stack = Stack::build(o).await?;
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
            load_shape: 1.0,
        })
    }

    /// One 100 ms step: this step's payments, then the whole loop.
    pub async fn step(&mut self) {
        let wall = Instant::now();
        *self.step_clock.step_start.lock() = Instant::now();
        let steering = &self.stack.steering;
        steering.tick();
        let want = self.opts.tps / 10.0 * steering.load_multiplier() * self.load_shape + self.carry;
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

    /// Incidents diagnosed (or reopened) at or after `from_us`, as they are now.
    fn incidents_since(&self, from_us: u64) -> Vec<Incident> {
        self.stack.room.command.book(|b| {
            b.all()
                .filter(|x| {
                    x.diagnosed_us >= from_us
                        || x.timeline
                            .iter()
                            .any(|e| e.at_us >= from_us && e.kind == command::EntryKind::Reopened)
                })
                .cloned()
                .collect()
        })
    }

    /// Steps until nothing is flagged for `quiet_s` seconds (at most two minutes).
    async fn quiet(&mut self) {
        let need = self.opts.quiet_s * 10;
        let mut calm = 0;
        for _ in 0..1200 {
            self.step().await;
            let open = self.stack.room.command.book(|b| b.open().len());
            let a = self.stack.room.analyzer.lock();
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
