//! The sim and Sentinel executors against payments-sim's REAL control Router (issue 3),
//! served on a loopback port: every built-in plan's actions are accepted by the real API,
//! change what they say, and undo back to exactly the state before; Sentinel's
//! `setRules`/`getRules` round-trip; a wrong token is refused.

use digest::{ManualClock, SharedClock};
use healer::executor::sentinel::SentinelExecutor;
use healer::executor::sim::SimExecutor;
use healer::*;
use payments_sim::control::{api, Steering};
use serde_json::{json, Value};
use std::sync::Arc;

const TOKEN: &str = "drill-token";

async fn serve_sim() -> (String, Arc<Steering>) {
    let clock: SharedClock = Arc::new(ManualClock::new(1_795_785_000_000_000));
    let steering = Arc::new(Steering::new(clock, Steering::discard_events()));
    let app = api::router(steering.clone(), TOKEN).unwrap();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}"), steering)
}

fn snapshot(s: &Steering) -> Value {
    json!({
        "flow": s.rules_json(payments_sim::control::RuleType::Flow),
        "param": s.rules_json(payments_sim::control::RuleType::Param),
        "degrade": s.rules_json(payments_sim::control::RuleType::Degrade),
        "switches": s.switches(),
        "channels": s.channels(),
        "zones": s.zones(),
        "ledger": s.ledger(),
    })
}

/// The snapshot plus the issue-6 levers, read over the real API.
async fn full_snapshot(s: &Steering, url: &str) -> Value {
    let mut v = snapshot(s);
    for p in ["/control/instances", "/control/pools", "/control/ledger-db"] {
        v[p] = read(url, p).await;
    }
    v
}

fn target_for(p: &Plan) -> Trigger {
    let t = p.trigger.target.as_deref().unwrap_or("service:x");
    let target = match t {
        "bank:*" => "bank:bank-a".to_string(),
        "merchant:*" => "merchant:m-hot".to_string(),
        "zone:*" => "zone:zone-b".to_string(),
        "service:*" => "service:payment-engine".to_string(),
        "instance:*" => "instance:payment-engine-2".to_string(),
        other => other.to_string(),
    };
    Trigger::diagnosis(
        p.trigger.kinds.first().map(String::as_str).unwrap_or(""),
        &target,
        0,
    )
}

#[tokio::test]
async fn every_builtin_action_applies_and_undoes_on_the_real_control_api() {
    let (url, steering) = serve_sim().await;
    let sim = SimExecutor::new(&url, TOKEN, &["bank-a", "bank-b"], &["zone-a", "zone-b"]);
    let start = full_snapshot(&steering, &url).await;
    for plan in builtin_plans() {
        let t = target_for(&plan);
        let mut done = Vec::new();
        for step in &plan.steps {
            for stage in &step.stages {
                let a = stage.instantiate(&t).unwrap();
                if matches!(a, Action::Rollback { .. } | Action::ConfigRevert { .. }) {
                    continue; // versions, configs: covered below (need a deploy, a push)
                }
                let applied = sim
                    .apply(&a)
                    .await
                    .unwrap_or_else(|e| panic!("{}: {}: {e}", plan.name, a.describe()));
                assert_ne!(
                    applied.before,
                    applied.after,
                    "{}: {} changed nothing",
                    plan.name,
                    a.describe()
                );
                done.push((a, applied));
            }
        }
        for (a, applied) in done.iter().rev() {
            sim.undo(a, applied)
                .await
                .unwrap_or_else(|e| panic!("undo {}: {e}", a.describe()));
        }
        assert_eq!(
            full_snapshot(&steering, &url).await,
            start,
            "{} left the control plane changed",
            plan.name
        );
    }
    // Specific effects, read from the sim itself.
    let a = Action::ChannelWeight {
        bank: "bank-a".into(),
        weight: 0,
    };
    let applied = sim.apply(&a).await.unwrap();
    assert_eq!(
        json!(steering.channels()),
        json!([{"bank": "bank-a", "weight": 0}, {"bank": "bank-b", "weight": 100}])
    );
    sim.undo(&a, &applied).await.unwrap();
    assert_eq!(json!(steering.channels()), json!([]));
    let a = Action::LedgerStrategy {
        account: "merchant:m-hot".into(),
        strategy: "buffered".into(),
    };
    let applied = sim.apply(&a).await.unwrap();
    assert_eq!(
        json!(steering.ledger()),
        json!({"merchant:m-hot": "buffered"})
    );
    sim.undo(&a, &applied).await.unwrap();
    assert_eq!(json!(steering.ledger()), json!({}));
}

#[tokio::test]
async fn rollback_goes_through_the_versions_endpoint() {
    let (url, steering) = serve_sim().await;
    steering.set_builtin_versions([("payment".to_string(), "2.3.0".to_string())]);
    steering
        .put_versions(
            [("payment".to_string(), Some("2.4.0".to_string()))].into(),
            "deployer",
        )
        .unwrap();
    let sim = SimExecutor::new(&url, TOKEN, &[], &[]);
    let a = Action::Rollback {
        service: "payment".into(),
        version: None,
    };
    let applied = sim.apply(&a).await.unwrap();
    assert_eq!(steering.current_version("payment"), "2.3.0");
    assert_eq!(applied.before["payment"], "2.4.0");
    sim.undo(&a, &applied).await.unwrap();
    assert_eq!(steering.current_version("payment"), "2.4.0");
}

#[tokio::test]
async fn config_revert_goes_through_the_configs_endpoint_and_stays() {
    let (url, steering) = serve_sim().await;
    steering.set_builtin_versions([("payment".to_string(), "2.3.0".to_string())]);
    let push: payments_sim::faults::FaultSpec =
        serde_json::from_value(json!({"kind": "config-push", "target": "payment"})).unwrap();
    steering.put_faults(vec![push]).unwrap();
    steering.tick();
    assert_eq!(json!(steering.configs()), json!({"payment": "cfg-2"}));
    let plan = builtin_plans()
        .into_iter()
        .find(|p| p.name == "config-revert")
        .unwrap();
    let mut t = Trigger::diagnosis("bad_release", "service:payment", 0);
    assert!(!plan.matches(&t), "a bad release without a config change");
    t.labels.insert("change".into(), "deploy".into());
    assert!(!plan.matches(&t), "a deploy is rolled back, not reverted");
    t.labels.insert("change".into(), "config".into());
    assert!(plan.matches(&t));
    let sim = SimExecutor::new(&url, TOKEN, &[], &[]);
    let a = plan.steps[0].stages[0].instantiate(&t).unwrap();
    assert_eq!(
        a,
        Action::ConfigRevert {
            service: "payment".into()
        }
    );
    let applied = sim.apply(&a).await.unwrap();
    assert_eq!(applied.before["payment"], "cfg-2");
    assert_eq!(applied.after["payment"], "cfg-1");
    assert!(steering.faults()[0].rolled_back);
    sim.undo(&a, &applied).await.unwrap();
    assert_eq!(
        json!(steering.configs()),
        json!({"payment": "cfg-1"}),
        "a broken config is never put back"
    );
}

#[tokio::test]
async fn sentinel_executor_round_trips_through_payments_sim() {
    let (url, steering) = serve_sim().await;
    let s = SentinelExecutor::new(&url, Some(TOKEN));
    for a in [
        Action::FlowLimit {
            resource: "cashier".into(),
            qps: 400.0,
        },
        Action::ParamLimit {
            resource: "payment".into(),
            param: "merchant".into(),
            value: "m-hot".into(),
            qps: 50.0,
            others_qps: 100000.0,
        },
        Action::CircuitBreaker {
            resource: "payment-engine".into(),
            grade: "error_ratio".into(),
            threshold: 0.5,
            window_s: 5,
        },
    ] {
        let applied = s.apply(&a).await.unwrap();
        let ty = healer::executor::rules::rule_type(&a).unwrap();
        assert_eq!(applied.after, s.get_rules(ty).await.unwrap());
        assert_eq!(
            applied.after.as_array().unwrap().len(),
            1,
            "{}",
            applied.after
        );
        s.undo(&a, &applied).await.unwrap();
        assert_eq!(s.get_rules(ty).await.unwrap(), json!([]));
    }
    // Read back identically what was pushed.
    let a = Action::FlowLimit {
        resource: "trade:pay".into(),
        qps: 12.5,
    };
    s.apply(&a).await.unwrap();
    assert_eq!(
        steering.rules_json(payments_sim::control::RuleType::Flow),
        json!([{"resource": "trade:pay", "grade": 1, "count": 12.5}])
    );
    // Wrong token: refused, nothing changed.
    let bad = SentinelExecutor::new(&url, Some("nope"));
    let e = bad
        .apply(&Action::FlowLimit {
            resource: "x".into(),
            qps: 1.0,
        })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("401"), "{e}");
    assert_eq!(
        steering
            .rules_json(payments_sim::control::RuleType::Flow)
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// GET a control path with the token, as the executor would.
async fn read(url: &str, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{url}{path}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
        .json()
        .await
        .unwrap()
}

/// Issue 6: isolate, pool_size and ledger_switchover against payments-sim's REAL control
/// API — each changes what it says and its undo puts back exactly the state before.
#[tokio::test]
async fn routing_levers_apply_and_undo_on_the_real_control_api() {
    let (url, _steering) = serve_sim().await;
    let sim = SimExecutor::new(&url, TOKEN, &[], &[]);

    // isolate: one instance leaves the routing; undo brings it back.
    let start = read(&url, "/control/instances").await;
    let engines: Vec<String> = start["instances"]
        .as_object()
        .expect("an instances map")
        .iter()
        .filter(|(_, i)| i["service"] == "payment-engine")
        .map(|(n, _)| n.clone())
        .collect();
    assert!(engines.len() >= 2, "payment-engine has siblings: {start}");
    assert_eq!(start["isolated"], json!([]));
    let a = Action::Isolate {
        instance: engines[1].clone(),
        max_per_service: 1,
    };
    let applied = sim.apply(&a).await.unwrap();
    assert_eq!(applied.before, start);
    let now = read(&url, "/control/instances").await;
    assert_eq!(now["isolated"], json!([engines[1]]));
    assert_eq!(now["instances"][&engines[1]]["isolated"], json!(true));
    assert_eq!(applied.after, now);
    // The step's guard: a second instance of the same service is refused, nothing sent.
    let second = Action::Isolate {
        instance: engines[0].clone(),
        max_per_service: 1,
    };
    let e = sim.apply(&second).await.unwrap_err();
    assert!(matches!(e, ExecError::Guard(_)), "{e}");
    assert_eq!(read(&url, "/control/instances").await, now);
    // An unknown instance is named, nothing sent.
    let e = sim
        .apply(&Action::Isolate {
            instance: "payment-engine-99".into(),
            max_per_service: 1,
        })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("payment-engine-99"), "{e}");
    sim.undo(&a, &applied).await.unwrap();
    assert_eq!(read(&url, "/control/instances").await, start);

    // The sim itself refuses to leave a service without an instance (even when the
    // step's own guard would allow it): the error says so and nothing changes.
    let all = engines.len() as u32;
    let mut done = Vec::new();
    let mut refused = None;
    for name in &engines {
        let a = Action::Isolate {
            instance: name.clone(),
            max_per_service: all,
        };
        match sim.apply(&a).await {
            Ok(applied) => done.push((a, applied)),
            Err(e) => refused = Some((e, read(&url, "/control/instances").await)),
        }
    }
    let (e, after_refusal) = refused.expect("the last payment-engine is never isolated");
    assert!(
        e.to_string().contains("409") || e.to_string().contains("400"),
        "{e}"
    );
    assert_eq!(done.len(), engines.len() - 1);
    assert_eq!(
        after_refusal["isolated"].as_array().unwrap().len(),
        engines.len() - 1
    );
    for (a, applied) in done.iter().rev() {
        sim.undo(a, applied).await.unwrap();
    }
    assert_eq!(read(&url, "/control/instances").await, start);

    // pool_size: merged in; undo removes the resize (null) when there was none.
    let pools = read(&url, "/control/pools").await;
    let a = Action::PoolSize {
        service: "accounting".into(),
        size: 64,
    };
    let applied = sim.apply(&a).await.unwrap();
    assert_eq!(applied.before, pools);
    assert_eq!(read(&url, "/control/pools").await["accounting"], json!(64));
    sim.undo(&a, &applied).await.unwrap();
    assert_eq!(read(&url, "/control/pools").await, pools);
    // Over an earlier resize, undo puts the earlier size back.
    let a16 = Action::PoolSize {
        service: "accounting".into(),
        size: 16,
    };
    let first = sim.apply(&a16).await.unwrap();
    let applied = sim.apply(&a).await.unwrap();
    sim.undo(&a, &applied).await.unwrap();
    assert_eq!(read(&url, "/control/pools").await["accounting"], json!(16));
    sim.undo(&a16, &first).await.unwrap();
    assert_eq!(read(&url, "/control/pools").await, pools);

    // ledger_switchover: the standby becomes primary; undo switches back.
    let db = read(&url, "/control/ledger-db").await;
    let (primary, standby) = (db["primary"].clone(), db["standby"].clone());
    assert!(primary.is_string() && standby.is_string(), "{db}");
    let a = Action::LedgerSwitchover {};
    let applied = sim.apply(&a).await.unwrap();
    assert_eq!(applied.before, db);
    assert_eq!(read(&url, "/control/ledger-db").await["primary"], standby);
    sim.undo(&a, &applied).await.unwrap();
    assert_eq!(read(&url, "/control/ledger-db").await["primary"], primary);

    // risk_skip: payments below the cap skip the sync risk check; undo puts 0 back.
    assert_eq!(
        read(&url, "/control/risk").await["sync_skip_below_cents"],
        0
    );
    let a = Action::RiskSkip {
        below_cents: 20_000,
    };
    let applied = sim.apply(&a).await.unwrap();
    assert_eq!(applied.before["sync_skip_below_cents"], 0);
    assert_eq!(
        read(&url, "/control/risk").await["sync_skip_below_cents"],
        20_000
    );
    sim.undo(&a, &applied).await.unwrap();
    assert_eq!(
        read(&url, "/control/risk").await["sync_skip_below_cents"],
        0
    );
}

struct NeverClears;
impl Probe for NeverClears {
    fn cleared(&self, _t: &Trigger) -> bool {
        false
    }
}

/// The engine on the real control API: two instances of one service fall sick at once;
/// the first is isolated, the second incident is refused by the step's guard (never more
/// than one instance of a service out) and escalated with nothing changed; when the first
/// plan does not help it is undone too, and the control plane ends as it began.
#[tokio::test]
async fn isolate_instance_takes_at_most_one_instance_of_a_service_out() {
    let (url, _steering) = serve_sim().await;
    let start = read(&url, "/control/instances").await;
    let clock = ManualClock::new(1_795_785_000_000_000);
    let sim = SimExecutor::new(&url, TOKEN, &[], &[]);
    let mut e = Engine::new(
        Arc::new(clock.clone()),
        EngineConfig::default(),
        builtin_plans(),
        Executors::default().with(ExecutorKind::Sim, Arc::new(sim)),
        AuditLog::memory(),
    );
    let now = 1_795_785_000_000_000;
    let a = e.start(
        7,
        Trigger::diagnosis("latency", "instance:payment-engine-1", now),
    );
    e.tick(&NeverClears).await;
    assert_eq!(
        read(&url, "/control/instances").await["isolated"],
        json!(["payment-engine-1"])
    );
    let b = e.start(
        7,
        Trigger::diagnosis("errors", "instance:payment-engine-2", now),
    );
    e.tick(&NeverClears).await;
    let inc = e.run(b).unwrap();
    assert_eq!(inc.plan.as_deref(), Some("isolate-instance"));
    assert_eq!(inc.state, RunState::RolledBack);
    assert!(
        inc.events
            .iter()
            .any(|t| t.kind == RunEventKind::ActionFailed
                && t.detail.contains("refused by the step's guard")),
        "{:?}",
        inc.events
    );
    assert_eq!(
        read(&url, "/control/instances").await["isolated"],
        json!(["payment-engine-1"]),
        "the refused plan changed nothing"
    );
    assert_eq!(e.run(a).unwrap().state, RunState::Verifying);
    // Past the 5 s verification: it did not help, so it is undone and escalated.
    clock.set(now + 5_100_000);
    e.tick(&NeverClears).await;
    let inc = e.run(a).unwrap();
    assert_eq!(inc.state, RunState::RolledBack);
    assert_eq!(inc.escalated_to.as_deref(), Some("duty-manager"));
    assert_eq!(read(&url, "/control/instances").await, start);
}

/// Undoing one isolation leaves isolations made meanwhile by another plan in place.
#[tokio::test]
async fn undoing_an_isolation_keeps_the_others() {
    let (url, _steering) = serve_sim().await;
    let sim = SimExecutor::new(&url, TOKEN, &[], &[]);
    let iso = |i: &str| Action::Isolate {
        instance: i.into(),
        max_per_service: 1,
    };
    let a = sim.apply(&iso("payment-engine-2")).await.unwrap();
    let b = sim.apply(&iso("accounting-1")).await.unwrap();
    sim.undo(&iso("payment-engine-2"), &a).await.unwrap();
    assert_eq!(
        read(&url, "/control/instances").await["isolated"],
        json!(["accounting-1"])
    );
    sim.undo(&iso("accounting-1"), &b).await.unwrap();
    assert_eq!(
        read(&url, "/control/instances").await["isolated"],
        json!([])
    );
}
