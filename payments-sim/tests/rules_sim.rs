//! Control levers and rules on a real payments-sim (all services in one
//! process, digests on), phase by phase on a manual clock: channel weights
//! move traffic, flow and hot-parameter rules cap it, breakers fail fast and
//! half-open, every change is a change event. Issue 3, "Done when".

mod common;

use common::phases::{codes, run, servers, S, T0};
use digest::MemorySink;
use digest::{decode_record, ChangeKind, DigestRecord, SpanKind};
use payments_sim::control::{RuleType, Steering};
use payments_sim::{SimBuilder, SimConfig};
use std::collections::BTreeMap;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_levers_move_traffic_and_rules_cap_it() {
    let mut r = run(&[]).await;
    let base = r.phase(1, 80).await;
    let peers = |recs: &[DigestRecord]| -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for d in recs.iter().filter(|d| d.kind == SpanKind::Integrator) {
            *m.entry(d.peer.clone()).or_default() += 1;
        }
        m
    };
    assert!(peers(&base).len() >= 2, "{:?}", peers(&base));
    let chans =
        serde_json::from_value(serde_json::json!([{"bank":"bank-c","weight":100}])).unwrap();
    r.steering.put_channels(chans, "healer").unwrap();
    let moved = r.phase(2, 60).await;
    assert_eq!(
        peers(&moved).keys().collect::<Vec<_>>(),
        ["bank-c"],
        "all card traffic on bank-c"
    );
    // A flow rule at the cashier admits 20 of 60 payments made in one instant.
    r.steering
        .put_rules_json(
            RuleType::Flow,
            br#"[{"resource":"cashier:CashierFacade.pay","count":20}]"#,
            "healer",
        )
        .unwrap();
    let capped = r.phase(3, 60).await;
    let cashier: Vec<_> = servers(&capped, "cashier").collect();
    assert_eq!(
        cashier.iter().filter(|d| d.code == "FLOW_LIMITED").count(),
        40
    );
    assert_eq!(cashier.iter().filter(|d| d.success).count(), 20);
    // A hot-parameter rule on merchant caps one merchant only.
    r.steering
        .put_rules_json(RuleType::Flow, b"[]", "healer")
        .unwrap();
    r.steering
        .put_rules_json(
            RuleType::Param,
            br#"[{"resource":"trade:TradeService.createOrder","paramIdx":1,"count":1}]"#,
            "healer",
        )
        .unwrap();
    let hot = r.phase(5, 52).await;
    let limited: Vec<_> = servers(&hot, "trade")
        .filter(|d| d.code == "PARAM_FLOW_LIMITED")
        .collect();
    // 13 merchants, 4 payments each: one passes per merchant.
    assert_eq!(limited.len(), 52 - 13);
    // Switches: marketing off means no coupon calls even when asked.
    r.steering
        .put_switches(
            BTreeMap::from([("marketing".into(), Some(false))]),
            "healer",
        )
        .unwrap();
    assert!(!payments_sim::guard::Guard::feature_enabled(
        &*r.sim.guard(),
        "marketing"
    ));
    let kinds: Vec<_> = r.mem.events().iter().map(|e| e.event).collect();
    assert_eq!(
        kinds,
        [
            ChangeKind::Config,
            ChangeKind::Rule,
            ChangeKind::Rule,
            ChangeKind::Rule,
            ChangeKind::Switch
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_breaker_fails_fast_and_half_opens_after_its_window() {
    let mut r = run(&["errors:payment-engine@0+30"]).await;
    r.steering
        .put_rules_json(
            RuleType::Degrade,
            br#"[{"resource":"payment-engine","grade":1,"count":0.2,"timeWindow":5,"minRequestAmount":10}]"#,
            "healer",
        )
        .unwrap();
    let tripping = r.phase(1, 60).await;
    let engine: Vec<_> = servers(&tripping, "payment-engine").collect();
    let degraded = engine.iter().filter(|d| d.code == "DEGRADED").count();
    assert!(
        degraded >= 30,
        "fails fast once open: {degraded} of {}",
        engine.len()
    );
    assert!(engine
        .iter()
        .filter(|d| d.code == "DEGRADED")
        .all(|d| d.duration_us < 300_000));
    // Still open 4 s after it tripped (timeWindow 5 s).
    let still = r.phase(5, 20).await;
    assert!(servers(&still, "payment-engine").all(|d| d.code == "DEGRADED"));
    // After the fault ends the probe succeeds and the breaker closes.
    r.clock.set(T0 + 40 * S);
    let mut closed = false;
    for step in 0..20 {
        let recs = r.phase(40 + step * 6, 5).await;
        if servers(&recs, "payment-engine")
            .last()
            .is_some_and(|d| d.success)
        {
            closed = true;
            break;
        }
    }
    assert!(closed, "breaker closed after the fault ended");
    let after = r.phase(200, 30).await;
    assert!(codes(&after).is_empty(), "{:?}", codes(&after));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_rule_caps_real_load_within_5_percent() {
    // Wall clock here: the load generator paces in real time.
    let mem = Arc::new(MemorySink::new());
    let steering = Arc::new(Steering::new(
        Arc::new(digest::SystemClock),
        Steering::discard_events(),
    ));
    steering
        .put_rules_json(
            RuleType::Flow,
            br#"[{"resource":"cashier","count":100}]"#,
            "test",
        )
        .unwrap();
    let cfg = SimConfig::from_toml("delays = \"virtual\"\n").unwrap();
    let sim = Arc::new(
        SimBuilder::new()
            .config(cfg)
            .guard(steering.clone())
            .sink(mem.clone())
            .build()
            .await
            .unwrap(),
    );
    let load = payments_sim::LoadConfig {
        tps: 300.0,
        duration_s: 5.0,
        seed: 11,
        ..Default::default()
    };
    let rep = payments_sim::run_load(&sim, &load).await.unwrap();
    let recs: Vec<_> = mem
        .lines()
        .iter()
        .map(|(_, l)| decode_record(l).unwrap())
        .collect();
    let cashier: Vec<_> = servers(&recs, "cashier").collect();
    let admitted = cashier.iter().filter(|d| d.code != "FLOW_LIMITED").count() as f64;
    let qps = admitted / rep.elapsed_s;
    assert!(
        rep.achieved_tps > 150.0,
        "offered load {}",
        rep.achieved_tps
    );
    assert!(
        (95.0..=105.0).contains(&qps),
        "admitted {qps:.1}/s under a 100/s rule"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breaker_on_a_bank_opens_on_its_failures_and_fails_fast() {
    let mut r = run(&["bank-outage:bank-a@0+30"]).await;
    r.steering
        .put_rules_json(
            RuleType::Degrade,
            br#"[{"resource":"bank:bank-a","grade":1,"count":0.2,"timeWindow":5,"minRequestAmount":5}]"#,
            "healer",
        )
        .unwrap();
    let recs = r.phase(1, 300).await;
    let to_a: Vec<_> = recs
        .iter()
        .filter(|d| d.kind == SpanKind::Integrator && d.peer == "bank-a")
        .collect();
    let degraded: Vec<_> = to_a.iter().filter(|d| d.code == "DEGRADED").collect();
    assert!(
        !degraded.is_empty(),
        "the bank breaker opened: {:?}",
        codes(&recs)
    );
    assert!(
        to_a.len() > degraded.len(),
        "it opened only after real failures"
    );
    assert!(degraded.iter().all(|d| d.duration_us < 1_000), "fails fast");
}
