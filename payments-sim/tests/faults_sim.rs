//! Faults injected into a real payments-sim (all services in one process,
//! digests on), phase by phase on a manual clock: each fault visibly changes
//! the digests it should — codes, durations, keys, versions — and nothing
//! else, and ends when it should. Issue 3, "Done when".

mod common;

use common::phases::{codes, run, run_with, servers, S, T0};
use digest::{decode_record, ChangeKind, DigestRecord, SpanKind};
use payments_sim::faults::parse_fault;
use payments_sim::msg::{Biz, PayTool};
use payments_sim::PaymentInput;
use std::collections::BTreeMap;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_on_a_service_changes_its_durations_only_while_active() {
    let mut r = run(&["latency:payment-engine@10+10"]).await;
    let before = r.phase(1, 40).await;
    let during = r.phase(12, 40).await;
    let after = r.phase(25, 40).await;
    for (name, recs) in [("before", &before), ("during", &during), ("after", &after)] {
        assert!(
            codes(recs).is_empty(),
            "{name}: no failures {:?}",
            codes(recs)
        );
    }
    let slow = |recs: &[DigestRecord], svc: &str| {
        servers(recs, svc)
            .filter(|d| d.duration_us >= 300_000)
            .count()
    };
    assert_eq!(slow(&before, "payment-engine"), 0);
    assert_eq!(
        slow(&during, "payment-engine"),
        servers(&during, "payment-engine").count()
    );
    assert!(slow(&during, "payment-engine") > 0);
    assert_eq!(slow(&after, "payment-engine"), 0);
    // Services beneath it are not slowed.
    for svc in ["bank-gateway", "accounting", "risk"] {
        assert_eq!(slow(&during, svc), 0, "{svc}");
    }
    let gt = r.steering.ground_truth();
    assert_eq!(gt[0].first_affected_us, Some(T0 + 12 * S));
    assert!(
        r.mem.events().is_empty(),
        "a fault does not announce itself"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_bank_outage_and_zone_outage_change_codes_where_they_should() {
    let mut r = run(&[
        "errors:payment-engine@10+10",
        "bank-outage:bank-b@30+10",
        "zone-outage:zone-b@50+10",
    ])
    .await;
    let base = r.phase(1, 60).await;
    assert!(codes(&base).is_empty(), "{:?}", codes(&base));
    let errs = r.phase(12, 60).await;
    let c = codes(&errs);
    assert!(
        c.get("payment-engine:SYSTEM_ERROR")
            .is_some_and(|n| *n >= 10),
        "{c:?}"
    );
    assert!(
        c.keys()
            .all(|k| !k.starts_with("bank-gateway") && !k.starts_with("accounting")),
        "{c:?}"
    );
    let bank = r.phase(32, 80).await;
    let b_calls: Vec<_> = bank
        .iter()
        .filter(|d| d.kind == SpanKind::Integrator && d.peer == "bank-b")
        .collect();
    assert!(!b_calls.is_empty(), "bank-b still chosen sometimes");
    assert!(
        b_calls.iter().all(|d| d.code == "BANK_UNAVAILABLE"),
        "{:?}",
        b_calls[0]
    );
    assert!(bank
        .iter()
        .filter(|d| d.kind == SpanKind::Integrator && d.peer != "bank-b")
        .all(|d| d.code != "BANK_UNAVAILABLE"));
    let zones = r.phase(52, 60).await;
    for d in zones
        .iter()
        .filter(|d| d.kind == SpanKind::Server && d.service == "cashier")
    {
        assert_eq!(d.zone == "zone-b", d.code == "ZONE_UNAVAILABLE", "{d:?}");
    }
    assert!(zones
        .iter()
        .any(|d| d.zone == "zone-b" && d.code == "ZONE_UNAVAILABLE"));
    let after = r.phase(70, 60).await;
    assert!(
        codes(&after).is_empty(),
        "all faults ended: {:?}",
        codes(&after)
    );
    assert!(r.mem.events().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_release_changes_the_version_and_a_rollback_restores_it() {
    let mut r = run(&["bad-release:payment@10"]).await;
    let before = r.phase(1, 40).await;
    assert!(servers(&before, "payment").all(|d| d.version == "1.0.0"));
    let during = r.phase(12, 200).await;
    assert!(servers(&during, "payment").all(|d| d.version == "1.1.0"));
    assert!(
        servers(&during, "trade").all(|d| d.version == "1.0.0"),
        "only the released service"
    );
    let failed = servers(&during, "payment")
        .filter(|d| d.code == "SYSTEM_ERROR")
        .count();
    assert!((30..=100).contains(&failed), "about 30% fail: {failed}/200");
    let ev = r.mem.events();
    assert_eq!(ev.len(), 1);
    assert_eq!(
        (ev[0].event, ev[0].service.as_str(), ev[0].version.as_str()),
        (ChangeKind::Deploy, "payment", "1.1.0")
    );
    assert_eq!(ev[0].time_us, T0 + 12 * S);
    r.clock.set(T0 + 20 * S);
    r.steering
        .put_versions(
            BTreeMap::from([("payment".into(), Some("1.0.0".into()))]),
            "healer",
        )
        .unwrap();
    let after = r.phase(21, 60).await;
    let bad: Vec<_> = servers(&after, "payment")
        .filter(|d| d.version != "1.0.0" || !d.success)
        .collect();
    assert!(bad.is_empty(), "{:?}", bad.first());
    assert!(codes(&after).is_empty());
    let ev = r.mem.events();
    assert_eq!(
        (ev[1].event, ev[1].by.as_str()),
        (ChangeKind::Rollback, "healer")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bank_timeout_and_slow_ledger_change_durations_and_codes() {
    let mut r = run_with(&["timeout:bank:bank-a@10+10"], true).await;
    let mut slow =
        payments_sim::faults::FaultSpec::new(payments_sim::faults::FaultKind::SlowLedger);
    slow.start_s = 30.0;
    slow.duration_s = Some(10.0);
    slow.delay_ms = Some(20);
    r.steering.add_faults(vec![slow]).unwrap();
    // Balance payments post to the user's account under its row lock (`lock`).
    r.tool = PayTool::Balance;
    let base = r.phase(1, 30).await;
    r.tool = PayTool::BankCard;
    let during = r.phase(12, 60).await;
    let a_calls: Vec<_> = during
        .iter()
        .filter(|d| d.kind == SpanKind::Integrator && d.peer == "bank-a")
        .collect();
    assert!(!a_calls.is_empty());
    assert!(
        a_calls
            .iter()
            .all(|d| d.code == "BANK_TIMEOUT" && d.duration_us >= 1_000_000),
        "{:?}",
        a_calls[0]
    );
    assert!(during
        .iter()
        .filter(|d| d.kind == SpanKind::Integrator && d.peer != "bank-a")
        .all(|d| d.success && d.duration_us < 1_000_000));
    // Slow ledger: locked postings hold the row 20 ms longer; nothing fails.
    r.tool = PayTool::Balance;
    let ledger = r.phase(32, 20).await;
    let p50 = |recs: &[DigestRecord]| {
        let mut v: Vec<_> = servers(recs, "accounting").map(|d| d.duration_us).collect();
        v.sort();
        v[v.len() / 2]
    };
    assert!(
        p50(&ledger) >= p50(&base) + 20_000,
        "accounting p50 {} vs {}",
        p50(&ledger),
        p50(&base)
    );
    assert!(codes(&ledger).is_empty(), "{:?}", codes(&ledger));
    let after = r.phase(45, 20).await;
    assert!(
        p50(&after) < p50(&base) + 20_000,
        "ended: {} vs {}",
        p50(&after),
        p50(&base)
    );
    let gt = r.steering.ground_truth();
    assert_eq!(gt[1].first_affected_us, Some(T0 + 32 * S));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_exhaustion_refuses_concurrent_calls_at_its_service() {
    let mut spec =
        payments_sim::faults::FaultSpec::new(payments_sim::faults::FaultKind::PoolExhaustion);
    spec.target = Some("accounting".into());
    spec.pool = Some(1);
    let r = run(&[]).await;
    r.steering.add_faults(vec![spec]).unwrap();
    r.clock.set(T0 + S);
    // 60 payments at once, all to one merchant: postings queue on its row lock.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..60u32 {
        let sim = r.sim.clone();
        tasks.spawn(async move {
            sim.pay(PaymentInput {
                user: 1 + i,
                merchant: 7,
                amount_cents: 1_000,
                scene: Arc::from("quick_pay"),
                channel: Arc::from("SDK"),
                biz: Biz::Goods,
                tool: PayTool::Balance,
                coupon: false,
                shadow: false,
            })
            .await
        });
    }
    while tasks.join_next().await.is_some() {}
    let recs: Vec<_> = r
        .mem
        .lines()
        .iter()
        .map(|(_, l)| decode_record(l).unwrap())
        .collect();
    let c = codes(&recs);
    assert!(
        c.get("accounting:THREAD_POOL_FULL").is_some_and(|n| *n > 0),
        "{c:?}"
    );
    assert!(
        c.keys()
            .all(|k| !k.starts_with("bank-gateway") && !k.starts_with("risk")),
        "{c:?}"
    );
    assert!(
        servers(&recs, "accounting").any(|d| d.success),
        "the pool still serves one at a time"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn surge_and_hot_merchant_change_the_load() {
    let load = payments_sim::LoadConfig {
        tps: 60.0,
        duration_s: 1.0,
        seed: 3,
        ..Default::default()
    };
    let mut r = run(&[]).await;
    let quiet = payments_sim::run_load(&r.sim, &load).await.unwrap();
    r.seen = r.mem.lines().len();
    r.steering
        .put_faults(vec![
            parse_fault("surge:3").unwrap(),
            parse_fault("hot-merchant:m-hot").unwrap(),
        ])
        .unwrap();
    let loud = payments_sim::run_load(&r.sim, &load).await.unwrap();
    let ratio = loud.payments as f64 / quiet.payments as f64;
    assert!(
        (2.5..=3.5).contains(&ratio),
        "surge x3: {} vs {}",
        loud.payments,
        quiet.payments
    );
    let recs: Vec<_> = r.mem.lines()[r.seen..]
        .iter()
        .map(|(_, l)| decode_record(l).unwrap())
        .collect();
    let cashier: Vec<_> = servers(&recs, "cashier").collect();
    let hot = cashier
        .iter()
        .filter(|d| d.key("merchant") == Some("m-hot"))
        .count();
    let share = hot as f64 / cashier.len() as f64;
    assert!((0.35..=0.65).contains(&share), "hot merchant share {share}");
    assert!(r.mem.events().is_empty());
}
