//! Shared helpers of the payments-sim integration tests.
#![allow(dead_code)]

pub mod control;
pub mod lab;
pub mod phases;

use digest::ManualClock;
use digest::MemorySink;
use digest::{decode_record, DigestRecord, SpanKind};
use payments_sim::bank::BankSpec;
use payments_sim::control::Steering;
use payments_sim::loadgen::PaymentGen;
use payments_sim::{Delays, LoadConfig, Mode, Sim, SimBuilder, SimConfig};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// Fast config: simulated bank latency, no row-lock hold.
pub fn fast_config() -> SimConfig {
    let mut c = SimConfig {
        delays: Delays::Virtual,
        ..SimConfig::default()
    };
    c.ledger.hold_us = 0;
    c
}

pub async fn sim(mode: Mode, sink: Arc<MemorySink>) -> Arc<Sim> {
    Arc::new(
        SimBuilder::new()
            .config(fast_config())
            .mode(mode)
            .sink(sink)
            .build()
            .await
            .unwrap(),
    )
}

/// Makes `n` payments from the default mix, `concurrency` at a time.
pub async fn pay_many(
    sim: &Arc<Sim>,
    load: &LoadConfig,
    n: usize,
    concurrency: usize,
) -> Vec<payments_sim::PayOutcome> {
    let mut gen = PaymentGen::new(load);
    let mut out = Vec::with_capacity(n);
    let mut left = n;
    while left > 0 {
        let k = left.min(concurrency);
        left -= k;
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..k {
            let p = gen.next(None);
            let s = sim.clone();
            set.spawn(async move { s.pay(p).await });
        }
        while let Some(r) = set.join_next().await {
            out.push(r.unwrap());
        }
    }
    out
}

/// The built-in banks, minus their own random declines and errors, so every
/// failure in a test's digests is its fault's (or rule's) doing.
pub fn quiet_banks() -> Vec<BankSpec> {
    let mut banks = payments_sim::bank::builtin_specs().unwrap();
    for b in &mut banks {
        b.decline_per_million = 0;
        b.error_per_million = 0;
    }
    banks
}

/// A payments-sim on `delays = "virtual"` plus `toml` in `mode`, steered by
/// `steering`, on [`quiet_banks`], its digests into `mem` — timed by the wall
/// clock with `real_durations` (for waits that really happen, like ledger
/// row-lock holds), else by `clock` (fault windows always follow `clock`).
pub async fn steered_sim(
    toml: &str,
    mode: Mode,
    steering: &Arc<Steering>,
    mem: &Arc<MemorySink>,
    clock: &ManualClock,
    real_durations: bool,
) -> Arc<Sim> {
    let digest_clock: digest::SharedClock = if real_durations {
        Arc::new(digest::SystemClock)
    } else {
        Arc::new(clock.clone())
    };
    let cfg = SimConfig::from_toml(&format!("delays = \"virtual\"\n{toml}")).unwrap();
    let sim = SimBuilder::new()
        .config(cfg)
        .banks(quiet_banks())
        .guard(steering.clone())
        .sink(mem.clone())
        .clock(digest_clock)
        .mode(mode)
        .build()
        .await
        .unwrap();
    Arc::new(sim)
}

/// The records `sink` got after the first `seen` lines; `seen` moves past them.
pub fn decode_since(sink: &MemorySink, seen: &mut usize) -> Vec<DigestRecord> {
    let lines = sink.lines();
    let out = lines[*seen..]
        .iter()
        .map(|(_, l)| decode_record(l).expect("v1 line"))
        .collect();
    *seen = lines.len();
    out
}

/// Decodes every line as v1 (panics naming the line otherwise).
pub fn decode_all(sink: &MemorySink) -> Vec<DigestRecord> {
    sink.lines()
        .iter()
        .map(|(svc, l)| {
            let r = decode_record(l)
                .unwrap_or_else(|e| panic!("bad line {}: {e}", String::from_utf8_lossy(l)));
            assert_eq!(&r.service, svc);
            r
        })
        .collect()
}

/// Checks the topology properties every run must have; returns the services seen.
pub fn check_topology(recs: &[DigestRecord]) -> BTreeSet<String> {
    let services: BTreeSet<String> = recs.iter().map(|r| r.service.clone()).collect();
    let kinds: BTreeSet<SpanKind> = recs.iter().map(|r| r.kind).collect();
    assert!(services.len() >= 8, "services: {services:?}");
    for r in recs {
        assert!(!r.code.is_empty(), "record without code: {r:?}");
        assert_eq!(r.success, r.code == "SUCCESS", "{r:?}");
    }
    for k in [SpanKind::Server, SpanKind::Client, SpanKind::Integrator] {
        assert!(kinds.contains(&k), "no {k} records");
    }
    let servers: HashMap<(digest::TraceId, digest::SpanId), &DigestRecord> = recs
        .iter()
        .filter(|r| r.kind == SpanKind::Server)
        .filter_map(|r| r.parent_span_id.map(|p| ((r.trace_id, p), r)))
        .collect();
    for c in recs.iter().filter(|r| r.kind == SpanKind::Client) {
        let s = servers
            .get(&(c.trace_id, c.span_id))
            .unwrap_or_else(|| panic!("client record without server counterpart: {c:?}"));
        assert_eq!(s.service, c.peer);
        assert_eq!(s.peer, c.service);
        assert_eq!(s.shadow, c.shadow);
        assert!(
            s.duration_us <= c.duration_us + 1,
            "server longer than its client: {s:?} {c:?}"
        );
    }
    services
}
