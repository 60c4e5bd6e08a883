//! Digests written by the in-process sim parse as v1 and describe the topology:
//! ≥ 8 services, server/client/integrator records, every client record matched by
//! its server record in the same trace; and a clean run reconciles to zero.

mod common;

use common::*;
use digest::MemorySink;
use payments_sim::{LoadConfig, Mode};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_digests_parse_and_match() {
    let sink = Arc::new(MemorySink::new());
    let sim = sim(Mode::InProcess, sink.clone()).await;
    let load = LoadConfig {
        shadow_fraction: 0.1,
        coupon_fraction: 0.5,
        ..LoadConfig::default()
    };
    let out = pay_many(&sim, &load, 600, 64).await;
    let ok = out.iter().filter(|o| o.ok).count();
    assert!(
        ok >= 550,
        "{ok} of 600 succeeded: {:?}",
        out.iter()
            .filter(|o| !o.ok)
            .map(|o| &o.code)
            .collect::<Vec<_>>()
    );
    // Async risk checks finish after their payments.
    for _ in 0..200 {
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let recs = decode_all(&sink);
    let services = check_topology(&recs);
    for s in [
        "cashier",
        "trade",
        "payment",
        "risk",
        "marketing",
        "payment-engine",
        "bank-gateway",
        "accounting",
        "clearing",
    ] {
        assert!(services.contains(s), "{s} missing");
    }
    // Every record of one payment shares its trace; the entry has no parent.
    let o = &out[0];
    let of_trace: Vec<_> = recs.iter().filter(|r| r.trace_id == o.trace_id).collect();
    assert!(of_trace.len() >= 10);
    assert_eq!(
        of_trace
            .iter()
            .filter(|r| r.parent_span_id.is_none())
            .count(),
        1
    );
    assert!(recs.iter().any(|r| r.shadow));
    assert!(recs
        .iter()
        .all(|r| !r.zone.is_empty() && !r.version.is_empty() && r.key("merchant").is_some()));
    assert!(recs
        .iter()
        .any(|r| r.key("bank").is_some() && r.kind == digest::SpanKind::Integrator));
    assert!(recs.iter().any(|r| r.key("account").is_some()));
    let rep = sim.reconcile().await;
    assert_eq!(rep.total(), 0, "{rep:?}");
    assert_eq!(rep.orders_checked, 600);
}
