//! Service instances (issue 6, sim side): every served call is picked an
//! instance in its zone, spread evenly; isolation through the control API takes
//! an instance out of rotation (never the last); an `instance:NAME` fault hits
//! that instance only, and isolating it heals the service.

mod common;

use axum::http::StatusCode;
use common::lab::{failures, lab, servers, Lab};
use digest::{DigestRecord, SpanKind};
use payments_sim::faults::parse_fault;
use payments_sim::msg::PayTool;
use payments_sim::Mode;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

fn engine_counts(recs: &[DigestRecord]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in servers(recs, "payment-engine") {
        *m.entry(r.instance.clone()).or_default() += 1;
    }
    m
}

/// Every server record's instance belongs to its service and, unless
/// `cross_zone`, lives in the call's zone; every client record names the
/// instance that made the call (its parent server record's).
fn check_instances(lab: &Lab, recs: &[DigestRecord], cross_zone: bool) {
    let inst = lab.steering.instances().instances;
    let by_span: HashMap<_, _> = recs
        .iter()
        .filter(|r| r.kind == SpanKind::Server)
        .map(|r| ((r.trace_id, r.span_id), r))
        .collect();
    for r in recs {
        let i = inst
            .get(&r.instance)
            .unwrap_or_else(|| panic!("unknown instance in {r:?}"));
        assert_eq!(i.service, r.service, "{r:?}");
        if r.kind == SpanKind::Server && !cross_zone {
            assert_eq!(i.zone, r.zone, "{r:?}");
        }
        if r.kind == SpanKind::Client {
            if let Some(parent) = r.parent_span_id.and_then(|p| by_span.get(&(r.trace_id, p))) {
                assert_eq!(parent.instance, r.instance, "client {r:?}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_spread_over_the_zone_instances_and_isolation_routes_around() {
    let mut lab = lab("", Mode::InProcess, false).await;
    let v = lab.get("/control/instances").await;
    assert_eq!(v["instances"].as_object().unwrap().len(), 9 * 4);
    assert_eq!(
        v["instances"]["payment-engine-2"],
        json!({"service": "payment-engine", "zone": "zone-b", "isolated": false})
    );
    assert_eq!(v["isolated"], json!([]));

    let recs = lab.pay(400, PayTool::BankCard).await;
    check_instances(&lab, &recs, false);
    let c = engine_counts(&recs);
    assert_eq!(c.len(), 4, "{c:?}");
    for (name, n) in &c {
        assert!(*n >= 60, "{name} got {n} of 400: {c:?}");
    }

    // Isolate -2: zone-b's engine calls all go to -4.
    let (s, v) = lab
        .put(
            "/control/instances",
            json!({"isolated": ["payment-engine-2"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["isolated"], json!(["payment-engine-2"]));
    assert_eq!(v["instances"]["payment-engine-2"]["isolated"], json!(true));
    assert_eq!(
        lab.take_events(),
        [(
            "payment-engine".to_string(),
            "isolate payment-engine-2".to_string(),
            "commander-li".to_string()
        )]
    );
    let recs = lab.pay(200, PayTool::BankCard).await;
    check_instances(&lab, &recs, false);
    let c = engine_counts(&recs);
    assert!(!c.contains_key("payment-engine-2"), "{c:?}");
    assert!(c["payment-engine-4"] >= 60, "{c:?}");

    // Isolate all of zone-b's engines: its calls cross to zone-a's.
    let (s, v) = lab
        .put(
            "/control/instances",
            json!({"isolated": ["payment-engine-4", "payment-engine-2"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        lab.take_events(),
        [(
            "payment-engine".to_string(),
            "isolate payment-engine-4".to_string(),
            "commander-li".to_string()
        )]
    );
    let recs = lab.pay(200, PayTool::BankCard).await;
    check_instances(&lab, &recs, true);
    let engines = servers(&recs, "payment-engine");
    assert!(engines.iter().any(|r| r.zone == "zone-b"));
    assert!(engines
        .iter()
        .all(|r| r.instance == "payment-engine-1" || r.instance == "payment-engine-3"));

    // The last instances in rotation: refused, nothing changes.
    let all = [
        "payment-engine-1",
        "payment-engine-2",
        "payment-engine-3",
        "payment-engine-4",
    ];
    let (s, v) = lab
        .put("/control/instances", json!({"isolated": all}))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("payment-engine"),
        "{v}"
    );
    // Unknown names and bad bodies: 400, nothing changes.
    for bad in [
        json!({"isolated": ["payment-engine-5"]}),
        json!({"isolated": ["payment-engine-1", "ledger-9"]}),
        json!({"isolated": "payment-engine-1"}),
        json!({"isolate": []}),
        json!({}),
    ] {
        let (s, v) = lab.put("/control/instances", bad.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
        assert!(v["error"].is_string() && v["field"].is_string(), "{v}");
    }
    assert_eq!(
        lab.get("/control/instances").await["isolated"],
        json!(["payment-engine-2", "payment-engine-4"])
    );
    assert!(lab.take_events().is_empty());

    // `[]` restores all.
    let (s, _) = lab.put("/control/instances", json!({"isolated": []})).await;
    assert_eq!(s, StatusCode::OK);
    let ev = lab.take_events();
    assert_eq!(ev.len(), 2, "{ev:?}");
    assert!(ev
        .iter()
        .all(|e| e.1.starts_with("restore payment-engine-")));
    let c = engine_counts(&lab.pay(200, PayTool::BankCard).await);
    assert_eq!(c.len(), 4, "{c:?}");

    // Auth as everywhere else.
    for uri in ["/control/instances", "/control/pools", "/control/ledger-db"] {
        let (s, _) = lab.call("GET", uri, None, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{uri}");
        let (s, _) = lab
            .call("PUT", uri, Some(json!({"isolated": []})), Some("wrong"))
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{uri}");
    }
    assert!(lab.take_events().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_fault_hits_that_instance_only_and_isolation_heals_it() {
    let mut lab = lab("", Mode::InProcess, false).await;
    let (s, v) = lab
        .put(
            "/control/faults",
            json!([{"kind": "latency", "target": "instance:payment-engine-2"},
                   "errors:instance:risk-3"]),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    lab.at(1);
    let recs = lab.pay(300, PayTool::BankCard).await;
    let engines = servers(&recs, "payment-engine");
    let (sick, well): (Vec<&DigestRecord>, Vec<&DigestRecord>) = engines
        .iter()
        .copied()
        .partition(|r| r.instance == "payment-engine-2");
    assert!(
        sick.len() >= 30 && well.len() >= 100,
        "{} {}",
        sick.len(),
        well.len()
    );
    assert!(
        sick.iter().all(|r| r.duration_us >= 300_000),
        "{:?}",
        sick[0]
    );
    assert!(
        well.iter().all(|r| r.duration_us < 300_000),
        "{:?}",
        well[0]
    );
    // errors (default rate 0.5) on risk-3 only.
    let f = failures(&recs);
    assert!(f.get("risk:SYSTEM_ERROR").is_some_and(|n| *n > 0), "{f:?}");
    assert!(recs
        .iter()
        .filter(|r| r.kind == SpanKind::Server && !r.success && r.service == "risk")
        .all(|r| r.instance == "risk-3"));
    assert!(recs.iter().filter(|r| !r.success).all(|r| ![
        "payment-engine",
        "bank-gateway",
        "accounting"
    ]
    .contains(&r.service.as_str())));
    let gt = lab.steering.ground_truth();
    assert_eq!(gt[0].target, "instance:payment-engine-2");
    assert_eq!(
        gt[0].first_affected_us,
        Some(common::lab::T0 + common::lab::S)
    );
    assert_eq!(gt[1].target, "instance:risk-3");

    // The contingency plan: isolate the sick instances. The faults stay; no
    // call reaches them.
    let (s, _) = lab
        .put(
            "/control/instances",
            json!({"isolated": ["payment-engine-2", "risk-3"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let recs = lab.pay(300, PayTool::BankCard).await;
    assert!(failures(&recs).is_empty(), "{:?}", failures(&recs));
    assert!(servers(&recs, "payment-engine")
        .iter()
        .all(|r| r.instance != "payment-engine-2" && r.duration_us < 300_000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_targets_are_checked() {
    // Kinds other than latency, errors and timeout refuse an instance target.
    for bad in [
        "pool-exhaustion:instance:payment-engine-2",
        "bad-release:instance:payment-2",
        "bank-outage:instance:bank-gateway-1",
        "zone-outage:instance:payment-1",
        "slow-ledger:instance:accounting-1",
        "latency:instance:nope-1",
        "latency:instance:payment-engine",
        "latency:instance:payment-engine-0",
        "latency:instance:payment-engine-02",
        "latency:instance:",
    ] {
        let e = parse_fault(bad).unwrap_err();
        assert_eq!(e.field, "target", "{bad}: {e}");
    }
    let e = parse_fault("pool-exhaustion:instance:payment-engine-2").unwrap_err();
    assert!(e.reason.contains("latency, errors or timeout"), "{e}");

    // Instances beyond the table: refused when installed (CLI and API).
    let lab = lab("instances_per_zone = 1\n", Mode::InProcess, false).await;
    let spec = parse_fault("timeout:instance:payment-engine-3").unwrap();
    let e = lab.steering.add_faults(vec![spec]).unwrap_err().to_string();
    assert!(e.contains("payment-engine-1..=payment-engine-2"), "{e}");
    let (s, v) = lab
        .put(
            "/control/faults",
            json!(["latency:instance:payment-engine-3"]),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = lab
        .put(
            "/control/faults",
            json!([{"kind": "timeout", "target": "instance:payment-engine-2"}]),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(lab.steering.ground_truth().len() == 1);

    // One instance per zone: isolating it sends its zone's calls elsewhere;
    // isolating both is refused.
    let (s, _) = lab
        .put("/control/instances", json!({"isolated": ["trade-1"]}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = lab
        .put(
            "/control/instances",
            json!({"isolated": ["trade-1", "trade-2"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(v["error"].as_str().unwrap().contains("trade"), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_table_follows_the_config_and_bad_configs_are_refused() {
    let mut lab = lab(
        "zones = [\"zone-a\", \"zone-b\", \"zone-c\"]\ninstances_per_zone = 3\n",
        Mode::InProcess,
        false,
    )
    .await;
    let v = lab.get("/control/instances").await;
    let inst = v["instances"].as_object().unwrap();
    assert_eq!(inst.len(), 9 * 9);
    assert_eq!(inst["clearing-9"]["zone"], "zone-c");
    assert_eq!(inst["clearing-4"]["zone"], "zone-a");
    let recs = lab.pay(300, PayTool::BankCard).await;
    check_instances(&lab, &recs, false);
    assert_eq!(engine_counts(&recs).len(), 9);

    for (toml, field) in [
        ("instances_per_zone = 0\n", "instances_per_zone"),
        ("instances_per_zone = 17\n", "instances_per_zone"),
        ("instances_per_zone = -1\n", "instances_per_zone"),
        ("instance_per_zone = 2\n", "instance_per_zone"),
    ] {
        let e = payments_sim::SimConfig::from_toml(toml)
            .unwrap_err()
            .to_string();
        assert!(e.contains(field), "{toml}: {e}");
    }
    let cfg = payments_sim::SimConfig {
        instances_per_zone: 0,
        ..Default::default()
    };
    let e = payments_sim::SimBuilder::new()
        .config(cfg)
        .build()
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(e.contains("instances_per_zone"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_mode_records_carry_instances_too() {
    let mut lab = lab("", Mode::Http, false).await;
    let (s, _) = lab
        .put(
            "/control/instances",
            json!({"isolated": ["payment-engine-1"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let recs = lab.pay(120, PayTool::BankCard).await;
    check_instances(&lab, &recs, false);
    let c = engine_counts(&recs);
    assert!(!c.contains_key("payment-engine-1"), "{c:?}");
    assert_eq!(c.len(), 3, "{c:?}");
    assert!(recs.iter().any(|r| r.kind == SpanKind::Client));
}
