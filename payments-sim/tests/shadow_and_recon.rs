//! Shadow traffic never moves real money and reaches sandbox banks only; and
//! reconciliation reports a payment whose bank callback was lost.

mod common;

use common::*;
use digest::MemorySink;
use payments_sim::loadgen::PaymentGen;
use payments_sim::{LoadConfig, Mode, PaymentInput, SimBuilder};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shadow_payments_leave_real_balances_unchanged() {
    let sink = Arc::new(MemorySink::new());
    let sim = sim(Mode::InProcess, sink.clone()).await;
    // Real traffic first, so there are real balances to protect.
    let real = pay_many(&sim, &LoadConfig::default(), 500, 64).await;
    assert!(real.iter().filter(|o| o.ok).count() > 450);
    let before = sim.real_balances().await;
    let books_before: Vec<usize> = sim.banks().iter().map(|b| b.book().len()).collect();
    assert!(!before.is_empty());
    let shadow_load = LoadConfig {
        shadow_fraction: 1.0,
        seed: 99,
        ..LoadConfig::default()
    };
    // 5,000 by default; `PAYMENTS_SIM_SHADOW_N=100000` for the full-size check.
    let n: usize = std::env::var("PAYMENTS_SIM_SHADOW_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    let shadow = pay_many(&sim, &shadow_load, n, 128).await;
    assert!(shadow.iter().filter(|o| o.ok).count() > n * 9 / 10);
    println!(
        "shadow payments: {n}, real accounts checked: {}",
        before.len()
    );
    assert_eq!(sim.real_balances().await, before, "a real balance moved");
    let shadow_bal = sim.shadow_balances().await;
    assert!(shadow_bal.keys().all(|k| k.starts_with("shadow:")));
    assert!(shadow_bal.values().any(|v| *v != 0));
    for (b, n) in sim.banks().iter().zip(books_before) {
        let (_, shadow_calls) = b.calls();
        if b.spec.sandbox {
            assert!(shadow_calls > 0);
        } else {
            assert_eq!(shadow_calls, 0, "{} got shadow traffic", b.name());
            assert_eq!(b.book().len(), n, "{} booked shadow payments", b.name());
        }
    }
    let rep = sim.reconcile().await;
    assert_eq!((rep.real.len(), rep.shadow.len()), (0, 0), "{rep:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_bank_callback_is_reported_by_reconciliation() {
    // Banks that never decline or fail, so the only fault is the lost callback.
    let specs = quiet_banks();
    let sim = Arc::new(
        SimBuilder::new()
            .config(fast_config())
            .banks(specs)
            .build()
            .await
            .unwrap(),
    );
    let mut gen = PaymentGen::new(&LoadConfig::default());
    let card = |gen: &mut PaymentGen, shadow: bool| PaymentInput {
        tool: payments_sim::msg::PayTool::BankCard,
        biz: payments_sim::msg::Biz::Goods,
        shadow,
        ..gen.next(None)
    };
    // Payment ids start at 1: drop the callback of payment 3 (real) and 5 (shadow)
    // at every bank (whichever the router picks).
    for b in sim.banks() {
        b.drop_callback_of(3);
        b.drop_callback_of(5);
    }
    let mut outs = Vec::new();
    for i in 1..=6 {
        let p = card(&mut gen, i == 5);
        outs.push(sim.pay(p).await);
    }
    assert_eq!(outs[2].payment_id, 3);
    assert_eq!(outs[2].code, "BANK_CALLBACK_TIMEOUT");
    assert!(
        outs.iter()
            .filter(|o| o.payment_id != 3 && o.payment_id != 5)
            .all(|o| o.ok),
        "{outs:?}"
    );
    let rep = sim.reconcile().await;
    assert_eq!(rep.real.len(), 1, "{rep:?}");
    assert_eq!(rep.real[0].payment_id, 3);
    assert_eq!(rep.real[0].kind, "bank_charged_order_not_paid");
    assert_eq!(rep.shadow.len(), 1, "{rep:?}");
    assert_eq!(rep.shadow[0].payment_id, 5);
}
