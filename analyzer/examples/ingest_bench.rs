//! Ingest cost of the analyzer, per record: `ingest_record` (hot spots,
//! versions, instances, impact), `ingest_raw` (the same plus the internal
//! per-second rollup), `ingest_rollup` (a collector's pre-aggregate, per record
//! it stands for), and one `tick()` over the resulting views.
//!
//! `cargo run --release -p analyzer --example ingest_bench [-- RECORDS]`
//! Prints one JSON object.

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

fn per_record_ns(t: Instant, n: usize) -> f64 {
    t.elapsed().as_nanos() as f64 / n as f64
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
    let t = Instant::now();
    for r in &recs {
        a.ingest_record(r);
    }
    let record_ns = per_record_ns(t, n);

    let mut b = Analyzer::new(cfg.clone(), Arc::new(clock.clone())).unwrap();
    let t = Instant::now();
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
    let t = Instant::now();
    for r in &rollups {
        c.ingest_rollup(r);
    }
    let rollup_ns = per_record_ns(t, n);

    let ticks = 20;
    let t = Instant::now();
    for _ in 0..ticks {
        clock.advance_us(100_000);
        b.tick();
    }
    let tick_ms = t.elapsed().as_secs_f64() * 1000.0 / ticks as f64;
    println!(
        "{}",
        serde_json::json!({
            "records": n,
            "ingest_record_ns_per_record": record_ns,
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
