//! Helpers shared by the ClickHouse tests: CI detection, unique database
//! names, and record builders.
#![allow(dead_code)]

use digest::{DigestRecord, Keys, SpanId, SpanKind, TraceId};
use std::sync::atomic::{AtomicU32, Ordering};

pub const T0: u64 = 1_795_784_497_000_000; // 2026-11-27T13:01:37Z

pub fn in_ci() -> bool {
    std::env::var("CI").map(|v| v == "true").unwrap_or(false)
}

static SEQ: AtomicU32 = AtomicU32::new(0);

pub fn unique_db(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "wr_{name}_{}_{}_{nanos}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn full_record(i: u64) -> DigestRecord {
    let mut keys = Keys::new();
    keys.insert("merchant".into(), format!("m-{i}"));
    keys.insert("user".into(), "u-7".into());
    DigestRecord {
        time_us: T0 + i * 1_000,
        trace_id: TraceId(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
        span_id: SpanId(0x00f0_67aa_0ba9_0200 + i),
        parent_span_id: Some(SpanId(0x00f0_67aa_0ba9_02b7)),
        kind: SpanKind::Integrator,
        service: "bank-gateway".into(),
        instance: "bg-1".into(),
        zone: "gz-a".into(),
        operation: "icbc.debit".into(),
        peer: "icbc".into(),
        duration_us: 12_345 + i,
        success: false,
        code: "BANK_TIMEOUT".into(),
        error: Some("Timeout".into()),
        scene: "quick_pay".into(),
        channel: "SDK".into(),
        shadow: true,
        version: "2.1.0".into(),
        keys,
        amount_cents: Some(-12_500),
        sql_count: Some(3),
    }
}

pub fn minimal_record(i: u64, service: &str, kind: SpanKind) -> DigestRecord {
    DigestRecord {
        time_us: T0 + i * 1_000,
        trace_id: TraceId(0x1000 + i as u128),
        span_id: SpanId(0x2000 + i),
        kind,
        service: service.into(),
        operation: if i.is_multiple_of(2) { "pay" } else { "query" }.into(),
        duration_us: i,
        success: true,
        code: if i.is_multiple_of(3) {
            "SUCCESS"
        } else {
            "LIMIT"
        }
        .into(),
        scene: if i.is_multiple_of(4) { "quick_pay" } else { "" }.into(),
        shadow: i.is_multiple_of(5),
        ..Default::default()
    }
}
