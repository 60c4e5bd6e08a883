//! A payments-sim under a [`Steering`], all services in one process with
//! digests on, stepped phase by phase on a manual clock: the harness of the
//! fault and control-rule tests (`faults_sim.rs`, `rules_sim.rs`).

use digest::MemorySink;
use digest::{DigestRecord, ManualClock, SpanKind};
use payments_sim::control::Steering;
use payments_sim::faults::parse_fault;
use payments_sim::msg::{Biz, PayTool};
use payments_sim::{Mode, PaymentInput, Sim};
use std::collections::BTreeMap;
use std::sync::Arc;

pub const T0: u64 = 1_800_000_000_000_000;
pub const S: u64 = 1_000_000;

pub struct Run {
    pub sim: Arc<Sim>,
    pub steering: Arc<Steering>,
    pub clock: ManualClock,
    pub mem: Arc<MemorySink>,
    pub seen: usize,
    pub n: u32,
    pub tool: PayTool,
}

pub async fn run(faults: &[&str]) -> Run {
    run_with(faults, false).await
}

/// `real_durations`: digests timed by the wall clock (for waits that really
/// happen, like ledger row-lock holds); fault windows still follow the manual clock.
pub async fn run_with(faults: &[&str], real_durations: bool) -> Run {
    let clock = ManualClock::new(T0);
    let mem = Arc::new(MemorySink::new());
    let ev_sink = mem.clone();
    let steering = Arc::new(Steering::new(
        Arc::new(clock.clone()),
        Arc::new(move |e| digest::Sink::event(&*ev_sink, &e)),
    ));
    steering
        .add_faults(faults.iter().map(|f| parse_fault(f).unwrap()).collect())
        .unwrap();
    let sim =
        super::steered_sim("", Mode::InProcess, &steering, &mem, &clock, real_durations).await;
    Run {
        sim,
        steering,
        clock,
        mem,
        seen: 0,
        n: 0,
        tool: PayTool::BankCard,
    }
}

impl Run {
    /// Makes `count` payments (with `self.tool`) at second `at` and returns their digests.
    pub async fn phase(&mut self, at: u64, count: u32) -> Vec<DigestRecord> {
        self.clock.set(T0 + at * S);
        self.steering.tick();
        for _ in 0..count {
            self.n += 1;
            let p = PaymentInput {
                user: 1 + self.n % 97,
                merchant: 1 + self.n % 13,
                amount_cents: 1_000 + (self.n as i64 % 50) * 10,
                scene: Arc::from("quick_pay"),
                channel: Arc::from("SDK"),
                biz: Biz::Goods,
                tool: self.tool,
                coupon: false,
                shadow: false,
            };
            self.sim.pay(p).await;
        }
        super::decode_since(&self.mem, &mut self.seen)
    }
}

pub fn servers<'a>(
    recs: &'a [DigestRecord],
    service: &'a str,
) -> impl Iterator<Item = &'a DigestRecord> + 'a {
    recs.iter()
        .filter(move |r| r.kind == SpanKind::Server && r.service == service)
}

pub fn codes(recs: &[DigestRecord]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in recs.iter().filter(|r| !r.success) {
        *m.entry(format!("{}:{}", r.service, r.code)).or_default() += 1;
    }
    m
}
