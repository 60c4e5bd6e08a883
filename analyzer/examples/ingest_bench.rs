//! Ingest cost of the analyzer, per record: `ingest_record` (hot spots,
//! versions, instances and their views, impact; the same records without an
//! instance; and the per-instance views' builder alone), `ingest_raw` (the same plus the internal
//! per-second rollup), `ingest_rollup` (a collector's pre-aggregate, per record
//! it stands for), and one `tick()` over the resulting views.
//!
//! `cargo run --release -p analyzer --example ingest_bench [-- RECORDS]`
//! Prints one JSON object; times are this thread's CPU time where Linux
//! reports it (so other processes on the machine do not inflate them).

use analyzer::window::InstanceRollup;
use analyzer::{Analyzer, AnalyzerConfig};
use digest::{DigestRecord, Keys, ManualClock, RollupBuilder, SpanId, SpanKind, TraceId};
use std::sync::Arc;
use std::time::Instant;

const SERVICES: [&str; 9] = [
    "cashier",
    "trade",
    "payment",
    "risk",
    "marketing",
    "payment-engine",
    "bank-gateway",
    "accounting",
    "clearing",
];

fn records(n: usize, start_us: u64) -> Vec<DigestRecord> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n)
        .map(|i| {
            let r = next();
            let svc = SERVICES[(r % 9) as usize];
            let kind = match r >> 8 & 3 {
                0 => SpanKind::Client,
                _ => SpanKind::Server,
            };
            let mut keys = Keys::new();
            keys.insert("user".into(), format!("u-{}", next() % 1_000_000));
            keys.insert(
                "merchant".into(),
                format!("m-{}", (next() % 1000).pow(2) / 1000),
            );
            keys.insert("bank".into(), format!("bank-{}", (r >> 16) % 3));
            DigestRecord {
                // 200k records per second of data time.
                time_us: start_us + i as u64 * 5,
                trace_id: TraceId(r as u128),
                span_id: SpanId(r | 1),
                parent_span_id: if svc == "cashier" {
                    None
                } else {
                    Some(SpanId(7))
                },
                kind,
                service: svc.into(),
                instance: format!("{svc}-{}", r >> 20 & 3),
                zone: if r >> 24 & 1 == 0 { "zone-a" } else { "zone-b" }.into(),
                operation: format!("{svc}.op{}", r >> 28 & 1),
                peer: SERVICES[((r >> 32) % 9) as usize].into(),
                duration_us: 500 + (r >> 36) % 50_000,
                success: (r >> 40) % 100 != 0,
                code: if (r >> 40) % 100 != 0 {
                    "SUCCESS"
                } else {
                    "SYSTEM_ERROR"
                }
                .into(),
                scene: ["quick_pay", "scan_pay", "bill_pay"][((r >> 44) % 3) as usize].into(),
                channel: "SDK".into(),
                version: "1.0.0".into(),
                keys,
                amount_cents: Some(((r >> 48) % 100_000) as i64),
                ..Default::default()
            }
        })
        .collect()
}

/// A start point: wall time, and this thread's CPU time where Linux tells it
/// (`/proc/thread-self/schedstat`), so a loaded machine — other processes
/// taking the cores — does not inflate the figures.
#[derive(Clone, Copy)]
struct Mark {
    wall: Instant,
    cpu_ns: Option<u64>,
}

fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn mark() -> Mark {
    Mark {
        wall: Instant::now(),
        cpu_ns: thread_cpu_ns(),
    }
}

/// Nanoseconds per record since `t`: CPU time when known, else wall time.
fn per_record_ns(t: Mark, n: usize) -> f64 {
    let ns = match (t.cpu_ns, thread_cpu_ns()) {
        (Some(a), Some(b)) => b.saturating_sub(a) as f64,
        _ => t.wall.elapsed().as_nanos() as f64,
    };
    ns / n as f64
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let start = 1_800_000_000_000_000;
    let recs = records(n, start);
    let end_us = recs.last().map_or(start, |r| r.time_us);
    let clock = ManualClock::new(end_us);
    let cfg = AnalyzerConfig {
        lateness_s: 30,
        ..Default::default()
    };
    let mut a = Analyzer::new(cfg.clone(), Arc::new(clock.clone())).unwrap();
    let t = mark();
    for r in &recs {
        a.ingest_record(r);
    }
    let record_ns = per_record_ns(t, n);

    // The same records without an instance: what the per-instance views cost.
    let bare: Vec<_> = recs
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.instance.clear();
            r
        })
        .collect();
    let mut a0 = Analyzer::new(cfg.clone(), Arc::new(clock.clone())).unwrap();
    let t = mark();
    for r in &bare {
        a0.ingest_record(r);
    }
    let record_bare_ns = per_record_ns(t, n);
    drop(bare);
    // The per-instance views' own share: their builder alone.
    let mut inst = InstanceRollup::new(cfg.max_instances);
    let t = mark();
    for r in &recs {
        inst.add(r);
    }
    let instance_views_ns = per_record_ns(t, n);
    drop(inst);

    let mut b = Analyzer::new(cfg.clone(), Arc::new(clock.clone())).unwrap();
    let t = mark();
    for r in &recs {
        b.ingest_raw(r);
    }
    b.tick();
    let raw_ns = per_record_ns(t, n);

    let mut builder = RollupBuilder::default();
    for r in &recs {
        builder.add(r);
    }
    let rollups = builder.take_all();
    let series: usize = rollups.iter().map(|r| r.series.len()).sum();
    let mut c = Analyzer::new(cfg, Arc::new(clock.clone())).unwrap();
    let t = mark();
    for r in &rollups {
        c.ingest_rollup(r);
    }
    let rollup_ns = per_record_ns(t, n);

    let ticks = 20;
    let t = mark();
    for _ in 0..ticks {
        clock.advance_us(100_000);
        b.tick();
    }
    let tick_ms = per_record_ns(t, ticks) / 1e6;
    println!(
        "{}",
        serde_json::json!({
            "records": n,
            "ingest_record_ns_per_record": record_ns,
            "ingest_record_without_instance_ns_per_record": record_bare_ns,
            "instance_views_ns_per_record": instance_views_ns,
            "instance_views_share_of_ingest_record": instance_views_ns / record_ns,
            "ingest_raw_ns_per_record": raw_ns,
            "ingest_rollup_ns_per_record": rollup_ns,
            "rollup_series": series,
            "rollup_seconds": rollups.len(),
            "tick_ms": tick_ms,
            "views": b.health().len(),
            "records_per_s_ingest_record": 1e9 / record_ns,
            "records_per_s_ingest_raw": 1e9 / raw_ns,
        })
    );
}
