//! The pool and database levers (issue 6, sim side): resizing an exhausted
//! pool lifts a pool-exhaustion fault and removing the resize brings it back;
//! switching the ledger over to its standby lifts a slow-ledger fault bound to
//! the primary and switching back brings it back. Through the control API, with
//! its change events and its 400s.

mod common;

use axum::http::StatusCode;
use common::lab::{failures, lab, p50, S, T0};
use payments_sim::faults::{parse_fault, FaultKind, FaultSpec};
use payments_sim::msg::PayTool;
use payments_sim::Mode;
use serde_json::json;

/// The slow ledger's per-posting delay: large against a busy machine's noise
/// (postings really wait, so durations are wall-clock). A slow posting takes
/// at least this long; a healthy one (1 ms hold) is judged by half of it.
const SLOW_MS: u64 = 100;
const SLOW_US: u64 = SLOW_MS * 1000;

fn pool_full(recs: &[digest::DigestRecord]) -> usize {
    failures(recs)
        .get("accounting:THREAD_POOL_FULL")
        .copied()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_resize_lifts_pool_exhaustion_and_undo_brings_it_back() {
    let mut lab = lab("", Mode::InProcess, false).await;
    assert_eq!(lab.get("/control/pools").await, json!({}));
    let mut spec = FaultSpec::new(FaultKind::PoolExhaustion);
    spec.pool = Some(1);
    lab.steering.add_faults(vec![spec]).unwrap();
    lab.at(1);
    // 60 balance payments at once to one merchant: postings queue on the
    // user and merchant rows (1 ms real hold each), so calls overlap.
    let exhausted = lab.burst(60, 7).await;
    assert!(pool_full(&exhausted) > 0, "{:?}", failures(&exhausted));

    let (s, v) = lab.put("/control/pools", json!({"accounting": 64})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v, json!({"accounting": 64}));
    assert_eq!(lab.get("/control/pools").await, json!({"accounting": 64}));
    let ev = lab.take_events();
    assert_eq!(
        ev,
        [(
            "accounting".to_string(),
            "pool accounting resized to 64".to_string(),
            "commander-li".to_string()
        )]
    );
    let resized = lab.burst(60, 7).await;
    assert!(failures(&resized).is_empty(), "{:?}", failures(&resized));
    assert!(p50(&resized, "accounting") < 200_000, "no queue wait");

    // Undo: `null` removes the resize; the exhausted pool is back.
    let (s, v) = lab.put("/control/pools", json!({"accounting": null})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v, json!({}));
    assert_eq!(lab.take_events()[0].1, "pool accounting restored");
    let again = lab.burst(60, 7).await;
    assert!(pool_full(&again) > 0, "{:?}", failures(&again));

    // A pool smaller than the fault's changes nothing: max(fault.pool, N).
    let (s, _) = lab.put("/control/pools", json!({"accounting": 1})).await;
    assert_eq!(s, StatusCode::OK);
    let small = lab.burst(60, 7).await;
    assert!(pool_full(&small) > 0, "{:?}", failures(&small));

    // Bad bodies: 400 naming the field; nothing changes, no event.
    lab.take_events();
    for (bad, field) in [
        (json!({"accounting": 0}), "accounting"),
        (json!({"accounting": 4097}), "accounting"),
        (json!({"ledger": 8}), "ledger"),
        (json!({"accounting": "64"}), "accounting"),
        (json!({"accounting": -1}), "accounting"),
        (json!([64]), "body"),
        (json!({"risk": 8, "nope": 8}), "nope"),
    ] {
        let (s, v) = lab.put("/control/pools", bad.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
        assert_eq!(v["field"], field, "{bad}: {v}");
    }
    assert_eq!(lab.get("/control/pools").await, json!({"accounting": 1}));
    assert!(lab.take_events().is_empty());
    // Merging: another service leaves accounting's resize alone.
    let (_, v) = lab.put("/control/pools", json!({"risk": 16})).await;
    assert_eq!(v, json!({"accounting": 1, "risk": 16}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_switchover_lifts_slow_ledger_and_switching_back_brings_it_back() {
    // Postings hold their row for real: durations on the wall clock.
    let mut lab = lab("", Mode::InProcess, true).await;
    assert_eq!(
        lab.get("/control/ledger-db").await,
        json!({"primary": "ledger-db-1", "standby": "ledger-db-2"})
    );
    let base = lab.pay(10, PayTool::Balance).await;
    // No target: the primary at install time (ledger-db-1).
    let mut slow = FaultSpec::new(FaultKind::SlowLedger);
    slow.start_s = 10.0;
    slow.delay_ms = Some(SLOW_MS);
    lab.steering.add_faults(vec![slow]).unwrap();
    lab.at(12);
    let sick = lab.pay(10, PayTool::Balance).await;
    assert!(
        p50(&sick, "accounting") >= SLOW_US,
        "slow: {} vs base {}",
        p50(&sick, "accounting"),
        p50(&base, "accounting")
    );
    assert!(failures(&sick).is_empty(), "{:?}", failures(&sick));
    assert_eq!(lab.steering.ground_truth()[0].target, "ledger-db-1");

    let (s, v) = lab
        .put("/control/ledger-db", json!({"primary": "ledger-db-2"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!({"primary": "ledger-db-2", "standby": "ledger-db-1"})
    );
    assert_eq!(
        lab.take_events(),
        [(
            "accounting".to_string(),
            "ledger switchover ledger-db-1 -> ledger-db-2".to_string(),
            "commander-li".to_string()
        )]
    );
    let healed = lab.pay(10, PayTool::Balance).await;
    assert!(
        p50(&healed, "accounting") < SLOW_US / 2,
        "healed: {} vs {}",
        p50(&healed, "accounting"),
        p50(&base, "accounting")
    );
    // Same name: a no-op, no event.
    let (s, _) = lab
        .put("/control/ledger-db", json!({"primary": "ledger-db-2"}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(lab.take_events().is_empty());

    // Back to ledger-db-1: slow again.
    let (s, _) = lab
        .put("/control/ledger-db", json!({"primary": "ledger-db-1"}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let back = lab.pay(10, PayTool::Balance).await;
    assert!(
        p50(&back, "accounting") >= SLOW_US,
        "back: {} vs {}",
        p50(&back, "accounting"),
        p50(&base, "accounting")
    );

    // Bad bodies: 400, nothing changes.
    for bad in [
        json!({"primary": "ledger-db-3"}),
        json!({"primary": ""}),
        json!({"primary": "ledger-db-2", "standby": "ledger-db-1"}),
        json!({}),
        json!("ledger-db-2"),
    ] {
        let (s, v) = lab.put("/control/ledger-db", bad.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
    }
    assert_eq!(
        lab.get("/control/ledger-db").await["primary"],
        "ledger-db-1"
    );
    lab.take_events();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_ledger_binds_to_the_database_it_names() {
    let mut lab = lab("", Mode::InProcess, true).await;
    let base = lab.pay(10, PayTool::Balance).await;
    assert!(
        p50(&base, "accounting") < SLOW_US / 2,
        "healthy postings are fast"
    );
    // On the standby: no effect until the standby becomes the primary.
    let mut spec = parse_fault("slow-ledger:ledger-db-2").unwrap();
    spec.delay_ms = Some(SLOW_MS);
    lab.steering.add_faults(vec![spec]).unwrap();
    lab.at(1);
    let quiet = lab.pay(10, PayTool::Balance).await;
    assert!(p50(&quiet, "accounting") < SLOW_US / 2);
    assert_eq!(lab.steering.ground_truth()[0].first_affected_us, None);
    let (s, _) = lab
        .put("/control/ledger-db", json!({"primary": "ledger-db-2"}))
        .await;
    assert_eq!(s, StatusCode::OK);
    lab.at(2);
    let slow = lab.pay(10, PayTool::Balance).await;
    assert!(p50(&slow, "accounting") >= SLOW_US);
    assert_eq!(
        lab.steering.ground_truth()[0].first_affected_us,
        Some(T0 + 2 * S)
    );
    // Target forms: a database, nothing / "" / `ledger` (the primary); others refused.
    assert_eq!(lab.steering.ground_truth()[0].target, "ledger-db-2");
    let (s, v) = lab
        .put(
            "/control/faults",
            json!([{"kind": "slow-ledger", "target": ""}, "slow-ledger:ledger"]),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v[0]["target"], "ledger-db-2", "the primary now");
    assert_eq!(v[1]["target"], "ledger-db-2");
    for bad in ["slow-ledger:ledger-db-3", "slow-ledger:bank-a"] {
        let e = parse_fault(bad).unwrap_err();
        assert_eq!(e.field, "target", "{bad}: {e}");
        assert!(e.reason.contains("ledger-db-1"), "{e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_booking_reverses_the_bank_charge() {
    // Every posting refused (as an exhausted pool refuses them): card payments
    // are charged, fail to book, and the engine reverses the charge.
    let mut lab = lab("", Mode::InProcess, false).await;
    let mut spec = parse_fault("errors:accounting").unwrap();
    spec.rate = Some(1.0);
    lab.steering.add_faults(vec![spec]).unwrap();
    lab.at(1);
    let recs = lab.pay(30, PayTool::BankCard).await;
    assert_eq!(
        failures(&recs).get("accounting:SYSTEM_ERROR").copied(),
        Some(30),
        "{:?}",
        failures(&recs)
    );
    let reversals: Vec<_> = recs
        .iter()
        .filter(|r| r.kind == digest::SpanKind::Server && r.operation == "BankGateway.reverse")
        .collect();
    assert_eq!(reversals.len(), 30);
    assert!(reversals
        .iter()
        .all(|r| r.success && r.keys.contains_key("bank")));
    let rep = lab.sim.reconcile().await;
    assert!(rep.real.is_empty(), "{:?}", rep.real);
    let reversed = lab
        .sim
        .banks()
        .iter()
        .flat_map(|b| b.book().into_values())
        .filter(|t| t.bank_code == "REVERSED" && !t.charged)
        .count();
    assert_eq!(reversed, 30);

    // A reversal that fails too leaves the charge for reconciliation to find.
    let mut stuck = parse_fault("errors:bank-gateway:BankGateway.reverse").unwrap();
    stuck.rate = Some(1.0);
    lab.steering.add_faults(vec![stuck]).unwrap();
    let recs = lab.pay(5, PayTool::BankCard).await;
    assert_eq!(
        failures(&recs).get("bank-gateway:SYSTEM_ERROR").copied(),
        Some(5)
    );
    let rep = lab.sim.reconcile().await;
    assert_eq!(rep.real.len(), 5, "{:?}", rep.real);
    assert!(rep
        .real
        .iter()
        .all(|m| m.kind == "bank_charged_order_not_paid"));
}
