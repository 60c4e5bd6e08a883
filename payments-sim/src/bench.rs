//! Benchmarks of the payment system itself (the `warroom bench sim|ledger` numbers):
//! saturation throughput in one process with digests encoded to a discarding sink
//! versus no digests at all, and hot-account throughput per ledger strategy.

use crate::config::{Delays, SimConfig};
use crate::guard::{LedgerStrategy, NoGuard};
use crate::ledger::{AccountId, Ledger};
use crate::loadgen::{saturate, LoadConfig};
use crate::sim::SimBuilder;
use digest::DiscardSink;
use digest::Sink;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Options of the saturation benchmark.
#[derive(Debug, Clone)]
pub struct SimBenchOpts {
    /// Seconds per measured run (each mode runs `rounds` times, best kept).
    pub seconds: f64,
    pub rounds: u32,
    /// Concurrent closed-loop payers.
    pub workers: usize,
    /// Ledger row-lock hold per posting (the sim's default: 1000 µs). With a hold,
    /// payers queue on the hottest user accounts' row locks, so throughput is bound by
    /// contention rather than CPU; 0 measures the CPU path alone.
    pub hold_us: u64,
}

impl Default for SimBenchOpts {
    fn default() -> Self {
        Self {
            seconds: 3.0,
            rounds: 2,
            workers: 256,
            hold_us: SimConfig::default().ledger.hold_us,
        }
    }
}

/// Result of the saturation benchmark.
#[derive(Debug, Clone, Serialize)]
pub struct SimBenchReport {
    /// Payments/s with every digest made and encoded (to a discarding sink).
    pub payments_per_s: f64,
    /// Payments/s with no digests.
    pub payments_per_s_no_digest: f64,
    /// `payments_per_s / payments_per_s_no_digest`.
    pub ratio: f64,
    /// Digest cost as a share of throughput: `1 - ratio`.
    pub digest_cost: f64,
    pub digest_lines_per_payment: f64,
    pub digest_bytes_per_payment: f64,
    pub success_rate: f64,
    /// CPU time (all threads) per payment, best round: robust against other load
    /// on the machine, which wall-clock payments/s is not.
    pub cpu_us_per_payment: Option<f64>,
    pub cpu_us_per_payment_no_digest: Option<f64>,
    /// `cpu_us_per_payment_no_digest / cpu_us_per_payment`: throughput ratio per CPU.
    pub ratio_cpu: Option<f64>,
    pub workers: usize,
    pub seconds: f64,
    pub hold_us: u64,
    pub delays: Delays,
}

fn bench_config(hold_us: u64) -> SimConfig {
    let mut c = SimConfig {
        // Bank latency is simulated time: waiting it out would measure the timer.
        delays: Delays::Virtual,
        ..SimConfig::default()
    };
    c.ledger.hold_us = hold_us;
    c
}

/// CPU seconds this process has used (user + system), from `/proc/self/stat`
/// (clock ticks of 10 ms); `None` where that file does not exist.
pub fn cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the `(comm)`, which may contain spaces.
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// One measured run.
struct Run {
    tps: f64,
    success: f64,
    lines_per: f64,
    bytes_per: f64,
    /// CPU microseconds per payment (all threads).
    cpu_us_per: Option<f64>,
}

async fn one_run(opts: &SimBenchOpts, sink: Option<Arc<DiscardSink>>) -> Run {
    let mut b = SimBuilder::new().config(bench_config(opts.hold_us));
    if let Some(s) = &sink {
        b = b.sink(s.clone() as Arc<dyn Sink>);
    }
    let sim = Arc::new(b.build().await.expect("the bench config is valid"));
    let load = LoadConfig::default();
    // Warm-up: account maps, allocator.
    let _ = saturate(&sim, &load, opts.workers, Duration::from_millis(300)).await;
    let before = sink
        .as_ref()
        .map(|s| (s.stats().lines, s.bytes()))
        .unwrap_or((0, 0));
    let cpu0 = cpu_seconds();
    let rep = saturate(
        &sim,
        &load,
        opts.workers,
        Duration::from_secs_f64(opts.seconds),
    )
    .await;
    let cpu1 = cpu_seconds();
    let after = sink
        .as_ref()
        .map(|s| (s.stats().lines, s.bytes()))
        .unwrap_or((0, 0));
    let n = rep.payments.max(1) as f64;
    Run {
        tps: rep.achieved_tps,
        success: rep.success_rate,
        lines_per: (after.0 - before.0) as f64 / n,
        bytes_per: (after.1 - before.1) as f64 / n,
        cpu_us_per: cpu0.zip(cpu1).map(|(a, b)| (b - a) * 1e6 / n),
    }
}

/// Runs the saturation benchmark: no digests and digests, alternating, best of `rounds`.
pub async fn bench_sim(opts: &SimBenchOpts) -> SimBenchReport {
    let mut best_off = 0.0f64;
    let mut best_on = 0.0f64;
    let mut lines_per = 0.0;
    let mut bytes_per = 0.0;
    let mut success = 0.0;
    let mut cpu_off = f64::MAX;
    let mut cpu_on = f64::MAX;
    for _ in 0..opts.rounds.max(1) {
        let off = one_run(opts, None).await;
        best_off = best_off.max(off.tps);
        cpu_off = cpu_off.min(off.cpu_us_per.unwrap_or(f64::MAX));
        let on = one_run(opts, Some(Arc::new(DiscardSink::new()))).await;
        cpu_on = cpu_on.min(on.cpu_us_per.unwrap_or(f64::MAX));
        if on.tps > best_on {
            best_on = on.tps;
            lines_per = on.lines_per;
            bytes_per = on.bytes_per;
            success = on.success;
        }
    }
    let ratio = if best_off > 0.0 {
        best_on / best_off
    } else {
        0.0
    };
    let cpu_known = cpu_on < f64::MAX && cpu_off < f64::MAX;
    SimBenchReport {
        payments_per_s: best_on,
        payments_per_s_no_digest: best_off,
        ratio,
        digest_cost: 1.0 - ratio,
        digest_lines_per_payment: lines_per,
        digest_bytes_per_payment: bytes_per,
        success_rate: success,
        cpu_us_per_payment: cpu_known.then_some(cpu_on),
        cpu_us_per_payment_no_digest: cpu_known.then_some(cpu_off),
        ratio_cpu: cpu_known.then(|| cpu_off / cpu_on),
        workers: opts.workers,
        seconds: opts.seconds,
        hold_us: opts.hold_us,
        delays: Delays::Virtual,
    }
}

/// Options of the hot-account benchmark.
#[derive(Debug, Clone)]
pub struct LedgerBenchOpts {
    /// Concurrent payers, each with its own account, all paying one merchant.
    pub payers: usize,
    pub seconds: f64,
    /// Modelled row-lock hold time per posting.
    pub hold_us: u64,
    pub split_ways: u32,
}

impl Default for LedgerBenchOpts {
    fn default() -> Self {
        Self {
            payers: 512,
            seconds: 2.0,
            hold_us: 1000,
            split_ways: 16,
        }
    }
}

/// One strategy's result.
#[derive(Debug, Clone, Serialize)]
pub struct StrategyResult {
    pub payments_per_s: f64,
    pub payments: u64,
    /// Seconds from the first posting until the merchant balance was settled.
    pub seconds: f64,
    /// The merchant balance equals the sum of postings.
    pub balance_ok: bool,
}

/// Result of the hot-account benchmark.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerBenchReport {
    pub lock: StrategyResult,
    pub buffered: StrategyResult,
    pub split: StrategyResult,
    /// `buffered / lock` and `split / lock` throughput.
    pub buffered_over_lock: f64,
    pub split_over_lock: f64,
    pub payers: usize,
    pub hold_us: u64,
    pub split_ways: u32,
}

async fn ledger_run(opts: &LedgerBenchOpts, strategy: LedgerStrategy) -> StrategyResult {
    let mut cfg = SimConfig::default().ledger;
    cfg.hold_us = opts.hold_us;
    cfg.split_ways = opts.split_ways;
    cfg.merchant_strategy = strategy;
    let ledger = Arc::new(Ledger::new(cfg, false, Arc::new(NoGuard)));
    let next = Arc::new(AtomicU64::new(1));
    let posted = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(opts.seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for payer in 0..opts.payers {
        let ledger = ledger.clone();
        let next = next.clone();
        let posted = posted.clone();
        tasks.spawn(async move {
            while Instant::now() < deadline {
                let id = next.fetch_add(1, Ordering::Relaxed);
                let r = ledger
                    .post(
                        id,
                        AccountId::User(payer as u32),
                        AccountId::Merchant(1),
                        100,
                    )
                    .await;
                if r.is_ok() {
                    posted.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    // Buffered postings count once applied: settle before stopping the clock.
    let balance = ledger.balance(AccountId::Merchant(1)).await;
    let secs = start.elapsed().as_secs_f64();
    let n = posted.load(Ordering::Relaxed);
    StrategyResult {
        payments_per_s: n as f64 / secs,
        payments: n,
        seconds: secs,
        balance_ok: balance == n as i64 * 100,
    }
}

/// Runs the hot-account benchmark for `lock`, `buffered` and `split`.
pub async fn bench_ledger(opts: &LedgerBenchOpts) -> LedgerBenchReport {
    let lock = ledger_run(opts, LedgerStrategy::Lock).await;
    let buffered = ledger_run(opts, LedgerStrategy::Buffered).await;
    let split = ledger_run(opts, LedgerStrategy::Split).await;
    let base = lock.payments_per_s.max(f64::MIN_POSITIVE);
    LedgerBenchReport {
        buffered_over_lock: buffered.payments_per_s / base,
        split_over_lock: split.payments_per_s / base,
        lock,
        buffered,
        split,
        payers: opts.payers,
        hold_us: opts.hold_us,
        split_ways: opts.split_ways,
    }
}
