//! The engine against a real HTTP control API (the stand-in in `common`): auto plans
//! recover and yield MTTD/MTTR; a plan that does not help is undone and escalated; a
//! rejected plan changes nothing; approval timeouts escalate; guards; stepwise zone shift;
//! dry run; the audit log keeps before/after.

mod common;

use digest::{Clock, ManualClock};
use healer::executor::sentinel::SentinelExecutor;
use healer::executor::sim::SimExecutor;
use healer::*;
use parking_lot::Mutex;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const T0: u64 = 1_795_785_000_000_000;

#[derive(Default)]
struct TestProbe {
    cleared: AtomicBool,
    /// Stages (by name) after which the system is unhealthy.
    bad_stage: Mutex<Option<String>>,
}

impl Probe for TestProbe {
    fn cleared(&self, _t: &Trigger) -> bool {
        self.cleared.load(Ordering::SeqCst)
    }
    fn stage_ok(&self, _t: &Trigger, a: &Action) -> bool {
        match (a, self.bad_stage.lock().as_deref()) {
            (Action::ZoneShift { stage, .. }, Some(bad)) => stage != bad,
            _ => true,
        }
    }
}

async fn engine(
    cfg: EngineConfig,
    plans: Vec<Plan>,
) -> (Engine, ManualClock, common::Control, std::path::PathBuf) {
    let (url, control) = common::serve().await;
    let clock = ManualClock::new(T0);
    let sim = SimExecutor::new(
        &url,
        common::TOKEN,
        &["bank-a", "bank-b", "bank-c"],
        &["zone-a", "zone-b"],
    );
    let ex = Executors::default()
        .with(ExecutorKind::Sim, Arc::new(sim))
        .with(
            ExecutorKind::Sentinel,
            Arc::new(SentinelExecutor::new(&url, Some(common::TOKEN))),
        );
    let dir = std::env::temp_dir().join(format!(
        "healer-audit-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    let path = dir.join("audit.jsonl");
    let audit = AuditLog::open(&path).unwrap();
    (
        Engine::new(Arc::new(clock.clone()), cfg, plans, ex, audit),
        clock,
        control,
        path,
    )
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::AtomicU64;
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

fn trigger(kind: &str, target: &str, clock: &ManualClock) -> Trigger {
    let now = clock.now_us();
    Trigger {
        first_bad_us: Some(now - 800_000),
        detected_us: now - 300_000,
        ..Trigger::diagnosis(kind, target, now)
    }
}

async fn run_for(e: &mut Engine, clock: &ManualClock, probe: &TestProbe, ms: u64) {
    for _ in 0..ms / 100 {
        e.tick(probe).await;
        clock.advance_us(100_000);
    }
}

#[tokio::test]
async fn auto_bank_failover_recovers_with_mttd_mttr_and_audit() {
    let (mut e, clock, control, audit_path) =
        engine(EngineConfig::default(), builtin_plans()).await;
    let probe = TestProbe::default();
    let id = e.start(7, trigger("dependency", "bank:bank-b", &clock));
    e.tick(&probe).await;
    assert_eq!(
        control.get("/control/channels"),
        json!([{"bank": "bank-a", "weight": 100}, {"bank": "bank-b", "weight": 0}, {"bank": "bank-c", "weight": 100}])
    );
    assert_eq!(e.run(id).unwrap().state, RunState::Verifying);
    run_for(&mut e, &clock, &probe, 1500).await;
    probe.cleared.store(true, Ordering::SeqCst);
    e.tick(&probe).await;
    let inc = e.run(id).unwrap();
    assert_eq!(inc.state, RunState::Recovered);
    let s = inc.summary();
    assert_eq!(s.plan.as_deref(), Some("bank-failover"));
    assert_eq!(s.approved_by.as_deref(), Some("auto"));
    assert_eq!(s.actions, ["channel bank-b weight 0"]);
    assert!(s.recovered);
    assert_eq!(s.mttd_s, Some(0.5));
    assert_eq!(s.mttr_s, Some(2.3));
    let kinds: Vec<RunEventKind> = inc.events.iter().map(|t| t.kind).collect();
    use RunEventKind::*;
    assert_eq!(kinds, [PlanMatched, Approved, Action, Verified, Recovered]);
    // The audit log on disk: one apply with before (defaults) and after.
    let lines: Vec<AuditEntry> = std::fs::read_to_string(&audit_path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].phase, "apply");
    assert_eq!(
        (lines[0].incident, lines[0].run),
        (7, id),
        "the caller's incident id"
    );
    assert_eq!(lines[0].before, json!([]));
    assert_eq!(lines[0].after[1]["weight"], 0);
    // A second diagnosis of the same target while open joins the same incident; after
    // recovery a new one opens.
    let again = e.start(7, trigger("dependency", "bank:bank-b", &clock));
    assert_ne!(again, id);
}

#[tokio::test]
async fn a_plan_that_does_not_help_is_undone_and_escalated() {
    let (mut e, clock, control, _) = engine(EngineConfig::default(), builtin_plans()).await;
    control
        .state
        .lock()
        .insert("/control/switches".into(), json!({"coupons": false}));
    let probe = TestProbe::default();
    let id = e.start(7, trigger("overload", "service:payment-engine", &clock));
    e.tick(&probe).await;
    assert_eq!(
        control.get("/control/switches"),
        json!({"coupons": false, "marketing": false, "risk.async": false})
    );
    run_for(&mut e, &clock, &probe, 5200).await;
    let inc = e.run(id).unwrap();
    assert_eq!(inc.state, RunState::RolledBack);
    assert_eq!(inc.escalated_to.as_deref(), Some("duty-manager"));
    assert!(inc.actions.iter().all(|a| a.undone));
    assert_eq!(
        control.get("/control/switches"),
        json!({"coupons": false}),
        "back to exactly the state before"
    );
    let last = inc.events.last().unwrap();
    assert_eq!(last.kind, RunEventKind::Escalated);
    assert!(
        last.detail.contains("did not clear within 5 s"),
        "{}",
        last.detail
    );
    let phases: Vec<&str> = e
        .audit()
        .entries()
        .iter()
        .map(|a| a.phase.as_str())
        .collect();
    assert_eq!(phases, ["apply", "apply", "undo", "undo"]);
    assert!(inc.summary().mttr_s.is_none());
}

#[tokio::test]
async fn commander_approval_reject_timeout_and_escalation() {
    let (mut e, clock, control, _) = engine(EngineConfig::default(), core_default_plans()).await;
    let probe = TestProbe::default();
    // accounting is a core service: a plan that does not name its mode waits for a commander.
    let id = e.start(7, trigger("overload", "service:accounting", &clock));
    run_for(&mut e, &clock, &probe, 2000).await;
    assert_eq!(e.run(id).unwrap().state, RunState::AwaitingApproval);
    e.reject(id, "alice", "not during the sale").unwrap();
    run_for(&mut e, &clock, &probe, 1000).await;
    let inc = e.run(id).unwrap();
    assert_eq!(inc.state, RunState::Rejected);
    assert_eq!(control.writes(), 0, "a rejected plan changes nothing");
    assert!(e.audit().entries().is_empty());
    assert!(
        e.approve(id, "bob").is_err(),
        "decided incidents stay decided"
    );

    // Nobody answers: escalated after 30 s, abandoned after 30 more, nothing changed.
    let id = e.start(7, trigger("latency", "service:accounting", &clock));
    run_for(&mut e, &clock, &probe, 30_100).await;
    let inc = e.run(id).unwrap();
    assert_eq!(inc.state, RunState::AwaitingApproval);
    assert_eq!(inc.escalated_to.as_deref(), Some("duty-manager"));
    run_for(&mut e, &clock, &probe, 30_100).await;
    assert_eq!(e.run(id).unwrap().state, RunState::Abandoned);
    assert_eq!(control.writes(), 0);

    // Approved after escalation: runs, recovers, records who approved.
    let id = e.start(7, trigger("overload", "service:accounting", &clock));
    run_for(&mut e, &clock, &probe, 31_000).await;
    e.approve(id, "carol").unwrap();
    probe.cleared.store(true, Ordering::SeqCst);
    e.tick(&probe).await;
    let inc = e.run(id).unwrap();
    assert_eq!(inc.state, RunState::Recovered);
    assert_eq!(inc.approved_by.as_deref(), Some("carol"));
    assert!(inc
        .events
        .iter()
        .any(|t| t.kind == RunEventKind::Approved && t.by.as_deref() == Some("carol")));
    assert_eq!(
        control.get("/control/rules/flow"),
        json!([{"resource": "cashier", "grade": 1, "count": 300}])
    );
}

/// A plan on a core service that leaves its approval mode to the default (the built-in
/// accounting plans say `auto`: growing a pool or switching the ledger over is safe).
fn core_default_plans() -> Vec<Plan> {
    vec![parse_plan(
        r#"
name = "accounting-shed"
[trigger]
kind = ["overload", "latency"]
target = "service:accounting"
[[steps]]
flow_limit = { resource = "cashier", qps = 300.0 }
"#,
    )
    .unwrap()]
}

#[tokio::test]
async fn guards_runs_per_hour_freeze_and_one_plan_per_target() {
    let plan = parse_plan(
        r#"
name = "rollback"
[trigger]
kind = "bad_release"
target = "service:*"
[guards]
max_runs_per_hour = 1
[approval]
mode = "auto"
[[steps]]
rollback = { service = "{target}" }
"#,
    )
    .unwrap();
    let cfg = EngineConfig {
        freeze: vec![(T0 + 7_200_000_000, T0 + 10_800_000_000)],
        ..EngineConfig::default()
    };
    let (mut e, clock, control, _) = engine(cfg, vec![plan]).await;
    control
        .state
        .lock()
        .insert("/control/versions".into(), json!({"payment": "2.4.0-bad"}));
    let probe = TestProbe::default();
    let a = e.start(7, trigger("bad_release", "service:payment", &clock));
    assert_eq!(
        e.start(7, trigger("bad_release", "service:payment", &clock)),
        a,
        "one incident per target"
    );
    e.tick(&probe).await;
    assert_eq!(control.get("/control/versions"), json!({}));
    probe.cleared.store(true, Ordering::SeqCst);
    e.tick(&probe).await;
    assert_eq!(e.run(a).unwrap().state, RunState::Recovered);
    // A second run within the hour is blocked and escalated.
    let b = e.start(7, trigger("bad_release", "service:payment", &clock));
    let inc = e.run(b).unwrap();
    assert_eq!(inc.state, RunState::Blocked);
    assert!(inc
        .events
        .iter()
        .any(|t| t.kind == RunEventKind::Guard && t.detail.contains("last hour")));
    // Inside the change freeze an auto plan waits for a commander.
    clock.set(T0 + 7_300_000_000);
    let c = e.start(7, trigger("bad_release", "service:trade", &clock));
    assert_eq!(e.run(c).unwrap().state, RunState::AwaitingApproval);
    // No plan: blocked and escalated to a commander.
    assert_eq!(
        e.start(7, trigger("cosmic_rays", "service:trade", &clock)),
        c,
        "same target joins the open incident"
    );
    let d = e.start(7, trigger("cosmic_rays", "service:risk", &clock));
    assert_eq!(e.run(d).unwrap().state, RunState::Blocked);
    assert_eq!(e.run(d).unwrap().escalated_to.as_deref(), Some("commander"));
}

#[tokio::test]
async fn zone_shift_goes_stage_by_stage_and_undoes_when_a_stage_fails() {
    let (mut e, clock, control, _) = engine(EngineConfig::default(), builtin_plans()).await;
    let probe = TestProbe::default();
    let id = e.start(7, trigger("zone", "zone:zone-b", &clock));
    let mut seen = Vec::new();
    for _ in 0..40 {
        e.tick(&probe).await;
        let z = control.get("/control/zones");
        if seen.last() != Some(&z) {
            seen.push(z);
        }
        clock.advance_us(100_000);
    }
    let b: Vec<i64> = seen.iter().map(|z| z["zone-b"].as_i64().unwrap()).collect();
    assert_eq!(
        b,
        [50, 49, 43, 32, 16, 0],
        "whitelist, 1/256, 1/8, 1/4, 1/2, all of what was left"
    );
    probe.cleared.store(true, Ordering::SeqCst);
    e.tick(&probe).await;
    assert_eq!(e.run(id).unwrap().state, RunState::Recovered);
    let verified = e
        .run(id)
        .unwrap()
        .events
        .iter()
        .filter(|t| t.kind == RunEventKind::StageVerified)
        .count();
    assert_eq!(verified, 6);

    // A stage that hurts: everything is undone back to the split before.
    let (mut e, clock, control, _) = engine(EngineConfig::default(), builtin_plans()).await;
    control
        .state
        .lock()
        .insert("/control/zones".into(), json!({"zone-a": 60, "zone-b": 40}));
    let probe = TestProbe::default();
    *probe.bad_stage.lock() = Some("1/4".into());
    let id = e.start(7, trigger("zone", "zone:zone-b", &clock));
    run_for(&mut e, &clock, &probe, 4000).await;
    let inc = e.run(id).unwrap();
    assert_eq!(inc.state, RunState::RolledBack);
    assert!(
        inc.events
            .last()
            .unwrap()
            .detail
            .contains("stage `shift 1/4"),
        "{:?}",
        inc.events.last()
    );
    assert_eq!(
        control.get("/control/zones"),
        json!({"zone-a": 60, "zone-b": 40})
    );
}

#[tokio::test]
async fn dry_run_changes_nothing_but_records_everything() {
    let cfg = EngineConfig {
        dry_run: true,
        ..EngineConfig::default()
    };
    let (mut e, clock, control, _) = engine(cfg, builtin_plans()).await;
    let probe = TestProbe::default();
    let id = e.start(7, trigger("hot_spot", "merchant:m-hot", &clock));
    e.tick(&probe).await;
    assert_eq!(control.writes(), 0);
    assert_eq!(control.log.lock().len(), 0);
    let entries = e.audit().entries();
    assert_eq!(entries.len(), 1, "the hot-merchant plan's one step");
    assert!(entries.iter().all(|a| a.dry_run));
    assert!(e
        .run(id)
        .unwrap()
        .events
        .iter()
        .any(|t| t.detail.ends_with("(dry run)")));
}

#[tokio::test]
async fn sentinel_executor_pushes_and_restores_rules() {
    let (url, control) = common::serve().await;
    let s = SentinelExecutor::new(&url, Some(common::TOKEN));
    control.state.lock().insert(
        "/control/rules/param".into(),
        json!([{"resource": "payment", "grade": 1, "paramIdx": 0, "count": 9}]),
    );
    let a = Action::ParamLimit {
        resource: "payment".into(),
        param: "merchant".into(),
        value: "m-hot".into(),
        qps: 50.0,
        others_qps: 1000.0,
    };
    let applied = s.apply(&a).await.unwrap();
    let after = control.get("/control/rules/param");
    assert_eq!(
        after.as_array().unwrap().len(),
        2,
        "other rules on the resource stay: {after}"
    );
    assert_eq!(
        after[1]["paramFlowItemList"][0],
        json!({"object": "m-hot", "classType": "java.lang.String", "count": 50})
    );
    assert_eq!(applied.after, after);
    s.undo(&a, &applied).await.unwrap();
    assert_eq!(control.get("/control/rules/param"), applied.before);
    // Unsupported action and a wrong token are errors, not silent no-ops.
    assert!(s
        .apply(&Action::Degrade {
            feature: "x".into(),
            enabled: false
        })
        .await
        .is_err());
    let bad = SimExecutor::new(&url, "wrong", &[], &[]);
    let e = bad
        .apply(&Action::Degrade {
            feature: "x".into(),
            enabled: false,
        })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("401"), "{e}");
}

#[tokio::test]
async fn a_failing_action_undoes_the_ones_before_it() {
    // No banks known and the channel table at its defaults: the step fails.
    let plan = parse_plan(
        r#"
name = "two"
[trigger]
kind = "dependency"
[approval]
mode = "auto"
[[steps]]
degrade = { feature = "marketing", enabled = false }
[[steps]]
zone_shift = { from = "nowhere", stages = ["all"] }
"#,
    )
    .unwrap();
    let (mut e, clock, control, _) = engine(EngineConfig::default(), vec![plan]).await;
    let probe = TestProbe::default();
    let id = e.start(7, trigger("dependency", "bank:x", &clock));
    e.tick(&probe).await;
    let inc = e.run(id).unwrap();
    assert_eq!(inc.state, RunState::RolledBack);
    assert!(inc
        .events
        .iter()
        .any(|t| t.kind == RunEventKind::ActionFailed && t.detail.contains("nowhere")));
    assert_eq!(control.get("/control/switches"), json!({}));
}

#[test]
fn engine_and_its_tick_can_move_between_tasks() {
    fn send<T: Send>(_: &T) {}
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Engine>();
    let mut e = Engine::new(
        Arc::new(ManualClock::new(T0)),
        EngineConfig::default(),
        vec![],
        Executors::default(),
        AuditLog::memory(),
    );
    let probe = TestProbe::default();
    let fut = e.tick(&probe);
    send(&fut);
}
