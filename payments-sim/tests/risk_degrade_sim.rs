//! The business-aware degrade of the risk check on a real payments-sim: with a cap set
//! through the control plane, payments below it skip the synchronous risk check (marked
//! `risk = skipped` on the payment's digest, counted), larger ones are still checked; a
//! refused cap changes nothing; putting 0 back checks every payment again.

mod common;

use common::phases::{run, servers};
use digest::{ChangeKind, DigestRecord};
use payments_sim::control::RiskBody;
use std::collections::HashSet;

/// Trace ids of the payments whose risk check was served.
fn checked(recs: &[DigestRecord]) -> HashSet<u128> {
    servers(recs, "risk").map(|r| r.trace_id.0).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_payments_skip_the_sync_risk_check_under_the_cap_and_are_marked() {
    let mut r = run(&[]).await;
    let base = r.phase(1, 50).await;
    assert_eq!(checked(&base).len(), 50, "every payment checked by default");
    assert_eq!(r.steering.risk().sync_skip_below_cents, 0);

    // Refused caps change nothing.
    for bad in [-1, 10_000_001] {
        let e = r
            .steering
            .put_risk(
                RiskBody {
                    sync_skip_below_cents: bad,
                },
                "healer",
            )
            .unwrap_err();
        assert!(e.to_string().contains("sync_skip_below_cents"), "{e}");
    }
    assert_eq!(r.steering.risk().sync_skip_below_cents, 0);
    assert!(r.mem.events().iter().all(|e| e.event != ChangeKind::Switch));

    // Payments of 10.00 to 14.90 yuan; below 12.50 skip.
    let v = r
        .steering
        .put_risk(
            RiskBody {
                sync_skip_below_cents: 1_250,
            },
            "healer",
        )
        .unwrap();
    assert_eq!((v.sync_skip_below_cents, v.skipped), (1_250, 0));
    let degraded = r.phase(2, 50).await;
    let risk_checked = checked(&degraded);
    let mut skipped = 0;
    for p in servers(&degraded, "payment") {
        let amount = p.amount_cents.expect("payment amount");
        let marked = p.key("risk") == Some("skipped");
        assert_eq!(marked, amount < 1_250, "amount {amount}: {p:?}");
        assert_eq!(risk_checked.contains(&p.trace_id.0), amount >= 1_250);
        skipped += marked as u64;
        assert!(
            p.success,
            "a skipped check does not fail the payment: {p:?}"
        );
    }
    assert!(skipped > 10 && skipped < 40, "{skipped} of 50 skipped");
    assert_eq!(r.steering.risk().skipped, skipped);
    let switches: Vec<String> = r
        .mem
        .events()
        .iter()
        .filter(|e| e.event == ChangeKind::Switch)
        .map(|e| e.detail.clone())
        .collect();
    assert_eq!(switches, ["risk sync check skipped below 1250 cents"]);

    // Undone: every payment checked again.
    r.steering
        .put_risk(
            RiskBody {
                sync_skip_below_cents: 0,
            },
            "healer",
        )
        .unwrap();
    let after = r.phase(3, 50).await;
    assert_eq!(checked(&after).len(), 50);
    assert_eq!(r.steering.risk().skipped, skipped, "no more skips");
}
