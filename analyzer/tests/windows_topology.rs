//! Windows and merges, lateness, tiers, the topology (edges, scenes, cycles,
//! single points), hot-spot shares, and config validation — small exact inputs.

use analyzer::window::{Retention, View, ViewKey, Windows};
use analyzer::{api, Analyzer, AnalyzerConfig, AnalyzerError};
use digest::{DigestRecord, ManualClock, RollupBuilder, SecondRollup, SpanId, SpanKind, TraceId};
use std::sync::Arc;

const S0: u64 = 1_795_784_400;

fn rec(sec: u64, kind: SpanKind, svc: &str, peer: &str, ok: bool, dur: u64) -> DigestRecord {
    DigestRecord {
        time_us: sec * 1_000_000 + 1000,
        trace_id: TraceId(7),
        span_id: SpanId(9),
        kind,
        service: svc.into(),
        instance: format!("{svc}-1"),
        zone: "z1".into(),
        operation: "op".into(),
        peer: peer.into(),
        duration_us: dur,
        success: ok,
        code: if ok { "SUCCESS".into() } else { "E1".into() },
        scene: "quick_pay".into(),
        amount_cents: Some(100),
        ..Default::default()
    }
}

fn retention() -> Retention {
    Retention {
        seconds_1s: 30,
        buckets_10s: 12,
        buckets_1m: 10,
    }
}

#[test]
fn partial_rollups_merge_exactly_into_one_view() {
    let (mut a, mut b, mut whole) = (
        RollupBuilder::default(),
        RollupBuilder::default(),
        RollupBuilder::default(),
    );
    for i in 0..600u64 {
        let r = rec(
            S0 + i % 3,
            SpanKind::Server,
            "trade",
            "cashier",
            i % 10 != 0,
            1000 + i * 37,
        );
        if i % 2 == 0 {
            a.add(&r)
        } else {
            b.add(&r)
        }
        whole.add(&r);
    }
    let mut split = Windows::new(retention(), 5);
    let mut one = Windows::new(retention(), 5);
    for r in a.take_all().iter().chain(b.take_all().iter()) {
        assert!(split.ingest(r, S0 + 3));
    }
    for r in whole.take_all() {
        one.ingest(&r, S0 + 3);
    }
    let k = ViewKey::service("trade");
    let x = split.range(&k, S0, S0 + 3, S0 + 3);
    let y = one.range(&k, S0, S0 + 3, S0 + 3);
    assert_eq!(x, y);
    assert_eq!(x.count, 600);
    assert_eq!(x.errors, 60);
    assert_eq!(x.error_codes.get("E1"), Some(&60));
    assert_eq!(x.failed_amount_cents, 6000);
    // p99 within the histogram's 3.2% of the exact value.
    let exact = 1000.0 + 594.0 * 37.0;
    assert!((x.latency_us.quantile(0.99) as f64 - exact).abs() / exact < 0.035);
    // Scene and zone views got the same records; the edge views got none.
    let scene = ViewKey::real(View::Scene {
        scene: "quick_pay".into(),
    });
    assert_eq!(split.range(&scene, S0, S0 + 3, S0 + 3).count, 600);
    assert_eq!(
        split
            .range(&ViewKey::link("cashier", "trade"), S0, S0 + 3, S0 + 3)
            .count,
        0
    );
}

#[test]
fn late_data_merges_within_the_bound_and_is_dropped_after() {
    let mut w = Windows::new(retention(), 5);
    let mut r = SecondRollup::new(S0);
    r.add(&rec(S0, SpanKind::Server, "trade", "cashier", true, 10));
    assert!(w.ingest(&r, S0 + 5), "5 s late is within the bound");
    assert!(!w.ingest(&r, S0 + 6), "6 s late is dropped");
    let mut future = SecondRollup::new(S0 + 100);
    future.add(&rec(
        S0 + 100,
        SpanKind::Server,
        "trade",
        "cashier",
        true,
        10,
    ));
    assert!(!w.ingest(&future, S0 + 6));
    assert_eq!(w.counters.late_merged, 1);
    assert_eq!(w.counters.late_dropped_series, 1);
    assert_eq!(w.counters.future_dropped_series, 1);
    assert_eq!(
        w.range(&ViewKey::service("trade"), S0, S0 + 1, S0 + 6)
            .count,
        1
    );
}

#[test]
fn tiers_roll_up_and_hold_past_the_one_second_ring() {
    let mut w = Windows::new(retention(), 500);
    for s in 0..120u64 {
        let mut r = SecondRollup::new(S0 + s);
        for _ in 0..(s % 4 + 1) {
            r.add(&rec(
                S0 + s,
                SpanKind::Server,
                "trade",
                "cashier",
                s % 2 == 0,
                10,
            ));
        }
        w.ingest(&r, S0 + s);
    }
    let now = S0 + 119;
    let k = ViewKey::service("trade");
    let t = w.get(&k).unwrap();
    // The 1 s ring holds 30 s only; older seconds come from the 10 s / 1 min tiers.
    assert!(t.sec.get(S0).is_none());
    let expect = |from: u64, to: u64| (from..to).map(|s| s % 4 + 1).sum::<u64>();
    assert_eq!(w.range(&k, S0 + 100, S0 + 120, now).count, expect(100, 120));
    assert_eq!(w.range(&k, S0 + 60, S0 + 120, now).count, expect(60, 120));
    assert_eq!(w.range(&k, S0, S0 + 120, now).count, expect(0, 120));
    assert_eq!(
        t.ten.get(S0 - S0 % 10 + 50).map(|s| s.count),
        Some(expect(S0 % 10 + 50 - S0 % 10, S0 % 10 + 60 - S0 % 10))
    );
}

fn analyzer_at(sec: u64) -> (Analyzer, ManualClock) {
    let c = ManualClock::new(sec * 1_000_000);
    let a = Analyzer::new(AnalyzerConfig::default(), Arc::new(c.clone())).unwrap();
    (a, c)
}

#[test]
fn topology_has_edges_scenes_cycles_and_single_points() {
    let (mut a, c) = analyzer_at(S0);
    for i in 0..50u64 {
        let s = S0;
        let mut b = rec(s, SpanKind::Client, "trade", "payment", true, 900);
        b.instance = format!("trade-{}", i % 2);
        for r in [
            rec(s, SpanKind::Server, "cashier", "app", true, 1000),
            rec(s, SpanKind::Client, "cashier", "trade", true, 950),
            rec(s, SpanKind::Server, "trade", "cashier", i % 5 != 0, 900),
            b,
            rec(s, SpanKind::Server, "payment", "trade", true, 800),
            // payment calls back into trade: a cycle.
            rec(s, SpanKind::Client, "payment", "trade", true, 100),
            rec(s, SpanKind::Client, "payment", "bank-gateway", true, 500),
            rec(s, SpanKind::Server, "bank-gateway", "payment", true, 480),
            rec(s, SpanKind::Integrator, "bank-gateway", "icbc", true, 400),
        ] {
            a.ingest_raw(&r);
        }
    }
    c.advance_us(500_000);
    a.tick();
    let t = api::topology(&a);
    let ids: Vec<(&str, String)> = t
        .nodes
        .iter()
        .map(|n| (n.id.as_str(), format!("{:?}", n.kind)))
        .collect();
    assert!(ids.contains(&("icbc", "Bank".into())));
    assert!(ids.contains(&("trade", "Service".into())));
    let e = t
        .edges
        .iter()
        .find(|e| e.from == "cashier" && e.to == "trade")
        .unwrap();
    assert_eq!(e.rate, 5.0); // 50 calls over the 10 s topology span
    assert_eq!(e.error_ratio, 0.0);
    let n = t.nodes.iter().find(|n| n.id == "trade").unwrap();
    assert!((n.error_ratio - 0.2).abs() < 1e-9);
    assert_eq!(n.instances, 2);
    assert_eq!(
        t.cycles,
        vec![vec!["payment".to_string(), "trade".to_string()]]
    );
    let sp: Vec<(&str, &str)> = t
        .single_points
        .iter()
        .map(|s| (s.id.as_str(), s.reason.as_str()))
        .collect();
    assert!(sp.contains(&("icbc", "only bank channel of bank-gateway")));
    assert!(sp.contains(&("payment", "one instance")));
    assert!(!sp.iter().any(|(id, _)| *id == "trade"));
    assert_eq!(
        t.scenes.get("quick_pay").unwrap(),
        &vec![
            "bank-gateway".to_string(),
            "cashier".into(),
            "payment".into(),
            "trade".into()
        ]
    );
    let json = serde_json::to_value(&t).unwrap();
    assert!(json["edges"][0]["p99_ms"].is_number());
    assert!(json["nodes"][0]["id"].is_string());
}

#[test]
fn shadow_views_are_kept_apart() {
    let (mut a, c) = analyzer_at(S0);
    for i in 0..40u64 {
        let mut r = rec(S0, SpanKind::Server, "trade", "cashier", true, 100);
        r.shadow = i % 4 == 0;
        a.ingest_raw(&r);
    }
    c.advance_us(200_000);
    a.tick();
    let s = api::services(&a);
    let rows: Vec<(bool, u64)> = s
        .services
        .iter()
        .map(|r| (r.key.shadow, r.last_10s.count))
        .collect();
    assert_eq!(rows, vec![(false, 30), (true, 10)]);
}

#[test]
fn hot_spot_shares_are_read_per_scope() {
    let (mut a, c) = analyzer_at(S0);
    for i in 0..100u64 {
        let mut r = rec(S0, SpanKind::Server, "trade", "cashier", i % 3 != 0, 100);
        r.parent_span_id = None;
        let m = if i < 40 {
            "m-hot".to_string()
        } else {
            format!("m{i}")
        };
        r.keys.insert("merchant".into(), m);
        a.ingest_record(&r);
    }
    c.advance_us(100_000);
    a.tick();
    let h = api::hotspots(&a);
    let top = h
        .keys
        .iter()
        .find(|k| k.within == "trade" && k.key == "merchant")
        .unwrap();
    assert_eq!(top.value, "m-hot");
    assert!((top.share - 0.4).abs() < 1e-9);
    assert_eq!(top.errors, 14); // i in 0..40 with i % 3 == 0
    let scene = h.keys.iter().find(|k| k.within == "quick_pay").unwrap();
    assert_eq!(scene.value, "m-hot");
}

#[test]
fn records_out_of_bounds_are_counted_and_ignored() {
    let (mut a, _c) = analyzer_at(S0 + 100);
    assert!(!a.ingest_raw(&rec(S0, SpanKind::Server, "trade", "x", false, 1)));
    assert!(!a.ingest_raw(&rec(S0 + 200, SpanKind::Server, "trade", "x", false, 1)));
    let c = a.counters();
    assert_eq!((c.records, c.records_late, c.records_future), (0, 1, 1));
}

#[test]
fn config_errors_name_the_field() {
    let e = AnalyzerConfig::from_toml("lateness_s = 3\nbogus = 1\n").unwrap_err();
    assert!(
        matches!(&e, AnalyzerError::Config(m) if m.contains("bogus")),
        "{e}"
    );
    let e = AnalyzerConfig::from_toml("hot_share = 1.5").unwrap_err();
    assert!(e.to_string().contains("hot_share"), "{e}");
    let e = AnalyzerConfig::from_toml("lateness_s = \"x\"").unwrap_err();
    assert!(
        e.to_string().contains("lateness_s") || e.to_string().contains("invalid type"),
        "{e}"
    );
    let ok = AnalyzerConfig::from_toml("lateness_s = 2\nbaseline_s = 30").unwrap();
    assert_eq!(ok.lateness_s, 2);
}
