//! The HTTP run mode: each service on its own loopback port, real HTTP between
//! them. The trace context crosses every hop (`traceparent`): each server record's
//! parent is the client record of the caller, in the same trace.

mod common;

use common::*;
use digest::MemorySink;
use payments_sim::{LoadConfig, Mode};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_context_crosses_real_http() {
    let sink = Arc::new(MemorySink::new());
    let sim = sim(Mode::Http, sink.clone()).await;
    assert_eq!(sim.addrs().len(), 9);
    let load = LoadConfig {
        coupon_fraction: 0.5,
        shadow_fraction: 0.2,
        ..LoadConfig::default()
    };
    let out = pay_many(&sim, &load, 120, 16).await;
    assert!(
        out.iter().filter(|o| o.ok).count() >= 110,
        "{:?}",
        out.iter().map(|o| &o.code).collect::<Vec<_>>()
    );
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let recs = decode_all(&sink);
    check_topology(&recs);
    // One payment: its records form one tree across the services.
    let t = out.iter().find(|o| o.ok).unwrap().trace_id;
    let tree: Vec<_> = recs.iter().filter(|r| r.trace_id == t).collect();
    let services: std::collections::BTreeSet<_> = tree.iter().map(|r| r.service.as_str()).collect();
    assert!(services.len() >= 7, "{services:?}");
    let ids: std::collections::HashSet<_> = tree.iter().map(|r| r.span_id).collect();
    for r in &tree {
        if let Some(p) = r.parent_span_id {
            assert!(ids.contains(&p), "dangling parent in {r:?}");
        }
    }
    assert_eq!(sim.reconcile().await.total(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listener_refuses_calls_without_valid_trace_context() {
    let sink = Arc::new(MemorySink::new());
    let sim = sim(Mode::Http, sink.clone()).await;
    let (_, trade) = sim
        .addrs()
        .into_iter()
        .find(|(s, _)| *s == "trade")
        .unwrap();
    let client = reqwest::Client::new();
    let body = serde_json::json!({"payment_id": 1, "user": 1, "merchant": 1, "amount_cents": 100,
        "biz": "goods", "tool": "balance", "coupon": false});
    let url = format!("http://{trade}/rpc/TradeService.createOrder");
    let r = client.post(&url).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("traceparent"));
    let r = client
        .post(&url)
        .header("traceparent", "00-xyz-abc-01")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = client
        .post(format!("http://{trade}/rpc/PayEngine.pay"))
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        404,
        "trade does not serve the engine's operation"
    );
    let r = client
        .post(&url)
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .body("{\"payment_id\": \"x\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(sim.orders(), 0, "refused calls change nothing");
    assert!(sink.lines().is_empty());
}
