//! The views the dashboard's figures are read from (`analyzer::api::entry` and
//! `analyzer::api::changes`): payments/s is the last complete second of payments'
//! first spans, success and scenes the last 10 complete seconds, shadow traffic and
//! inner calls left out; change events newest first.

use analyzer::api::{changes, entry, ENTRY_WINDOW_S};
use analyzer::{Analyzer, AnalyzerConfig};
use digest::{ChangeEvent, ChangeKind, DigestRecord, ManualClock, SpanId, SpanKind, TraceId};
use std::sync::Arc;

const T0: u64 = 1_800_000_000_000_000;

/// A payment's first span at the cashier, and (with `inner`) a call it made.
fn payment(n: u64, t: u64, ok: bool, shadow: bool, scene: &str) -> [DigestRecord; 2] {
    let root = DigestRecord {
        time_us: t,
        trace_id: TraceId(n as u128 + 1),
        span_id: SpanId(2 * n + 1),
        kind: SpanKind::Server,
        service: "cashier".into(),
        operation: "CashierFacade.pay".into(),
        peer: "user-app".into(),
        success: ok,
        code: if ok { "SUCCESS" } else { "FAIL" }.into(),
        scene: scene.into(),
        shadow,
        duration_us: 1000,
        ..Default::default()
    };
    let inner = DigestRecord {
        span_id: SpanId(2 * n + 2),
        parent_span_id: Some(root.span_id),
        service: "trade".into(),
        operation: "TradeService.createOrder".into(),
        peer: "cashier".into(),
        ..root.clone()
    };
    [root, inner]
}

fn analyzer(clock: &ManualClock) -> Analyzer {
    Analyzer::new(AnalyzerConfig::default(), Arc::new(clock.clone())).unwrap()
}

#[test]
fn payments_per_second_is_the_last_complete_second_of_real_entry_calls() {
    let clock = ManualClock::new(T0);
    let mut a = analyzer(&clock);
    for i in 0..10 {
        let scene = if i % 3 == 0 {
            "quick_pay"
        } else {
            "balance_pay"
        };
        for r in payment(i, T0 + i * 1000, i != 0, false, scene) {
            a.ingest_raw(&r);
        }
    }
    for i in 10..15 {
        for r in payment(i, T0 + i * 1000, false, true, "quick_pay") {
            a.ingest_raw(&r);
        }
    }
    a.tick();
    let e = entry(&a);
    assert_eq!(e.payments_per_s, 0.0, "the second is not complete yet");
    assert_eq!(e.success_rate, None);
    clock.advance_secs(1);
    a.tick();
    let e = entry(&a);
    assert_eq!(e.now_us, T0 + 1_000_000);
    assert_eq!(
        e.payments_per_s, 10.0,
        "one per payment (not per span), shadow payments apart"
    );
    assert_eq!(e.success_rate, Some(0.9));
    let scenes: Vec<(&str, f64, f64)> = e
        .scenes
        .iter()
        .map(|s| (s.scene.as_str(), s.rate, s.success_rate))
        .collect();
    assert_eq!(
        scenes,
        [("balance_pay", 0.6, 1.0), ("quick_pay", 0.4, 0.75)],
        "payments per second over the window, by scene"
    );
    clock.advance_secs(2);
    a.tick();
    let e = entry(&a);
    assert_eq!(e.payments_per_s, 0.0);
    assert_eq!(e.success_rate, Some(0.9), "still inside the 10 s window");
    clock.advance_secs(ENTRY_WINDOW_S);
    a.tick();
    let e = entry(&a);
    assert_eq!(e.success_rate, None);
    assert!(e.scenes.is_empty());
}

#[test]
fn records_without_a_scene_count_in_the_totals_only() {
    let clock = ManualClock::new(T0);
    let mut a = analyzer(&clock);
    for i in 0..4 {
        a.ingest_raw(&payment(i, T0 + i, true, false, if i == 0 { "" } else { "scan_pay" })[0]);
    }
    clock.advance_secs(1);
    a.tick();
    let e = entry(&a);
    assert_eq!(e.payments_per_s, 4.0);
    assert_eq!(e.scenes.len(), 1);
    assert_eq!(e.scenes[0].scene, "scan_pay");
}

#[test]
fn changes_are_the_analyzers_log_newest_first() {
    let clock = ManualClock::new(T0);
    let mut a = analyzer(&clock);
    let ev = |s: u64, v: &str| ChangeEvent {
        time_us: T0 + s * 1_000_000,
        event: ChangeKind::Deploy,
        service: "trade".into(),
        version: v.into(),
        detail: String::new(),
        by: "ci".into(),
    };
    for (s, v) in [(1, "v2"), (3, "v4"), (2, "v3")] {
        a.ingest_event(&ev(s, v));
    }
    let versions: Vec<String> = changes(&a, 10).into_iter().map(|e| e.version).collect();
    assert_eq!(versions, ["v4", "v3", "v2"]);
    assert_eq!(changes(&a, 2).len(), 2);
}
