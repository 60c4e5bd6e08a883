//! Each fault kind, through the `Guard` the services call, on a manual clock:
//! it changes exactly what it should while active, nothing before its start or
//! after its end, records ground truth, and announces nothing — except a bad
//! release's deploy, which a rollback through the control plane undoes. Issue 3.

use digest::{ChangeEvent, ChangeKind, Keys, ManualClock};
use parking_lot::Mutex;
use payments_sim::control::Steering;
use payments_sim::faults::{parse_fault, FaultKind};
use payments_sim::guard::{CallSite, Guard, Verdict};
use std::collections::BTreeMap;
use std::sync::Arc;

const T0: u64 = 1_800_000_000_000_000;
const S: u64 = 1_000_000;

struct Run {
    s: Arc<Steering>,
    clock: ManualClock,
    events: Arc<Mutex<Vec<ChangeEvent>>>,
}

fn run(faults: &[&str]) -> Run {
    let clock = ManualClock::new(T0);
    let events = Arc::new(Mutex::new(Vec::new()));
    let ev = events.clone();
    let s = Arc::new(Steering::new(
        Arc::new(clock.clone()),
        Arc::new(move |e| ev.lock().push(e)),
    ));
    s.set_builtin_versions([("payment".to_string(), "1.4.2".to_string())]);
    let specs = faults.iter().map(|f| parse_fault(f).unwrap()).collect();
    s.add_faults(specs).unwrap();
    Run { s, clock, events }
}

fn keys() -> Keys {
    Keys::from([
        ("user".to_string(), "u-1".to_string()),
        ("merchant".to_string(), "m-1".to_string()),
    ])
}

fn site<'a>(service: &'a str, op: &'a str, zone: &'a str, k: &'a Keys) -> CallSite<'a> {
    CallSite {
        service,
        operation: op,
        instance: "",
        zone,
        scene: "quick_pay",
        channel: "SDK",
        keys: k,
        shadow: false,
    }
}

fn at(r: &Run, secs: f64) {
    r.clock.set(T0 + (secs * 1e6) as u64);
}

fn code(v: &Verdict) -> Option<&str> {
    match v {
        Verdict::Reject { code, .. } => Some(code),
        _ => None,
    }
}

#[test]
fn latency_errors_timeout_hit_their_target_only_while_active() {
    let r = run(&[
        "latency:payment:pay@10+20",
        "errors:bank:bank-b@5+5",
        "timeout:clearing@0+3",
    ]);
    let k = keys();
    let pay = site("payment", "pay", "zone-a", &k);
    let refund = site("payment", "refund", "zone-a", &k);
    at(&r, 9.9);
    assert_eq!(r.s.enter(&pay), Verdict::PASS, "before its start");
    at(&r, 10.0);
    assert_eq!(r.s.enter(&pay), Verdict::Pass { delay_us: 300_000 });
    assert_eq!(r.s.enter(&refund), Verdict::PASS, "another operation");
    at(&r, 30.0);
    assert_eq!(r.s.enter(&pay), Verdict::PASS, "after its end");
    // errors on a bank: about half of calls fail with the bank's error, only on bank-b.
    at(&r, 6.0);
    let fails = (0..2000)
        .filter(|_| code(&r.s.bank("bank-b", &pay)) == Some("BANK_ERROR"))
        .count();
    assert!((850..=1150).contains(&fails), "{fails}/2000 at rate 0.5");
    assert!((0..100).all(|_| r.s.bank("bank-a", &pay) == Verdict::PASS));
    at(&r, 10.0);
    assert!((0..100).all(|_| r.s.bank("bank-b", &pay) == Verdict::PASS));
    // timeout: every call to clearing fails after the timeout.
    at(&r, 1.0);
    let v = r.s.enter(&site("clearing", "settle", "zone-a", &k));
    assert_eq!(
        v,
        Verdict::Reject {
            code: "TIMEOUT".into(),
            error: "TimeoutException".into(),
            delay_us: 1_000_000
        }
    );
    let gt = r.s.ground_truth();
    assert_eq!(gt.len(), 3);
    assert_eq!(
        (gt[0].kind, gt[0].target.as_str()),
        (FaultKind::Latency, "payment:pay")
    );
    assert_eq!(
        (gt[0].start_us, gt[0].end_us),
        (T0 + 10 * S, Some(T0 + 30 * S))
    );
    assert_eq!(gt[0].first_affected_us, Some(T0 + 10 * S));
    assert_eq!(gt[1].first_affected_us, Some(T0 + 6 * S));
    assert!(
        r.events.lock().is_empty(),
        "faults do not announce themselves"
    );
}

#[test]
fn outages_pools_ledger_load_and_hot_merchant() {
    let r = run(&[
        "bank-outage:bank-b@0+10",
        "zone-outage:zone-b@0+10",
        "pool-exhaustion:accounting@0+10",
        "slow-ledger@0+10",
        "surge:4@0+10",
        "hot-merchant:m-flash@0+10",
    ]);
    let k = keys();
    at(&r, 1.0);
    let p = site("payment-engine", "pay", "zone-a", &k);
    assert_eq!(code(&r.s.bank("bank-b", &p)), Some("BANK_UNAVAILABLE"));
    assert_eq!(r.s.bank("bank-a", &p), Verdict::PASS);
    assert_eq!(
        code(&r.s.enter(&site("payment", "pay", "zone-b", &k))),
        Some("ZONE_UNAVAILABLE")
    );
    assert_eq!(
        r.s.enter(&site("payment", "pay", "zone-a", &k)),
        Verdict::PASS
    );
    // The pool serves 2 at once; the third waits and is refused.
    let a = site("accounting", "post", "zone-a", &k);
    assert_eq!(r.s.enter(&a), Verdict::PASS);
    assert_eq!(r.s.enter(&a), Verdict::PASS);
    let v = r.s.enter(&a);
    r.s.exit(&a, false, 200_000); // the services exit refused calls too
    assert_eq!(
        v,
        Verdict::Reject {
            code: "THREAD_POOL_FULL".into(),
            error: "RejectedExecutionException".into(),
            delay_us: 200_000
        }
    );
    r.s.exit(&a, true, 1000);
    assert_eq!(r.s.enter(&a), Verdict::PASS, "a freed slot serves again");
    assert_eq!(r.s.ledger_delay_us(), 50_000);
    assert_eq!(r.s.load_multiplier(), 4.0);
    assert_eq!(r.s.hot_merchant(), Some(("m-flash".to_string(), 0.5)));
    at(&r, 10.0);
    assert_eq!(r.s.bank("bank-b", &p), Verdict::PASS);
    assert_eq!(
        r.s.enter(&site("payment", "pay", "zone-b", &k)),
        Verdict::PASS
    );
    assert!((0..10).all(|_| r.s.enter(&a) == Verdict::PASS));
    assert_eq!(r.s.ledger_delay_us(), 0);
    assert_eq!(r.s.load_multiplier(), 1.0);
    assert_eq!(r.s.hot_merchant(), None);
    let gt = r.s.ground_truth();
    assert!(
        gt.iter()
            .all(|g| g.first_affected_us == Some(T0 + S) && g.end_us == Some(T0 + 10 * S)),
        "{gt:?}"
    );
    assert!(r.events.lock().is_empty());
}

#[test]
fn bad_release_deploys_with_an_event_and_rollback_removes_the_defect() {
    let r = run(&["bad-release:payment@5"]);
    let k = keys();
    let pay = site("payment", "pay", "zone-a", &k);
    at(&r, 4.0);
    assert_eq!(r.s.enter(&pay), Verdict::PASS);
    assert_eq!(r.s.version("payment"), None, "built-in version before");
    at(&r, 5.0);
    r.s.tick();
    assert_eq!(r.s.version("payment").as_deref(), Some("1.5.0"));
    let ev = r.events.lock().clone();
    assert_eq!(ev.len(), 1);
    assert_eq!(
        (ev[0].event, ev[0].service.as_str(), ev[0].version.as_str()),
        (ChangeKind::Deploy, "payment", "1.5.0")
    );
    assert_eq!(ev[0].time_us, T0 + 5 * S);
    let verdicts: Vec<_> = (0..1000).map(|_| r.s.enter(&pay)).collect();
    let errors = verdicts
        .iter()
        .filter(|v| code(v) == Some("SYSTEM_ERROR"))
        .count();
    assert!((220..=380).contains(&errors), "{errors}/1000 at rate 0.3");
    assert!(verdicts.iter().all(|v| match v {
        Verdict::Pass { delay_us } | Verdict::Reject { delay_us, .. } => *delay_us == 100_000,
    }));
    assert_eq!(
        r.s.enter(&site("trade", "create", "zone-a", &k)),
        Verdict::PASS,
        "other services fine"
    );
    // Roll back through the control plane.
    at(&r, 20.0);
    r.s.put_versions(
        BTreeMap::from([("payment".into(), Some("1.4.2".into()))]),
        "healer",
    )
    .unwrap();
    assert_eq!(r.s.version("payment").as_deref(), Some("1.4.2"));
    assert!(
        (0..500).all(|_| r.s.enter(&pay) == Verdict::PASS),
        "the defect left with the version"
    );
    let ev = r.events.lock().clone();
    assert_eq!(ev.len(), 2);
    assert_eq!(
        (ev[1].event, ev[1].version.as_str(), ev[1].by.as_str()),
        (ChangeKind::Rollback, "1.4.2", "healer")
    );
    let gt = r.s.ground_truth();
    assert!(gt[0].rolled_back);
    assert_eq!(gt[0].first_affected_us, Some(T0 + 5 * S));
}

#[test]
fn a_bad_release_with_a_duration_reverts_at_its_end() {
    let r = run(&["bad-release:payment@2+3"]);
    let k = keys();
    at(&r, 2.0);
    r.s.tick();
    assert_eq!(r.s.current_version("payment"), "1.5.0");
    at(&r, 5.0);
    r.s.tick();
    assert_eq!(r.s.current_version("payment"), "1.4.2");
    assert!((0..200).all(|_| r.s.enter(&site("payment", "pay", "zone-a", &k)) == Verdict::PASS));
    let kinds: Vec<_> = r.events.lock().iter().map(|e| e.event).collect();
    assert_eq!(kinds, [ChangeKind::Deploy, ChangeKind::Rollback]);
}

#[test]
fn faults_replaced_through_the_api_end_now() {
    let r = run(&[]);
    let k = keys();
    at(&r, 1.0);
    r.s.put_faults(vec![parse_fault("latency:risk").unwrap()])
        .unwrap();
    assert_eq!(
        r.s.enter(&site("risk", "check", "zone-a", &k)),
        Verdict::Pass { delay_us: 300_000 }
    );
    at(&r, 4.0);
    r.s.put_faults(vec![]).unwrap();
    assert_eq!(
        r.s.enter(&site("risk", "check", "zone-a", &k)),
        Verdict::PASS
    );
    let gt = r.s.ground_truth();
    assert_eq!((gt[0].start_us, gt[0].end_us), (T0 + S, Some(T0 + 4 * S)));
}

#[test]
fn fault_refusals_feed_the_breakers() {
    let r = run(&["errors:payment-engine:charge@0+100"]);
    r.s.put_rules_json(
        payments_sim::control::RuleType::Degrade,
        br#"[{"resource":"payment-engine:charge","grade":1,"count":0.3,"timeWindow":10,"minRequestAmount":20}]"#,
        "test",
    )
    .unwrap();
    let k = keys();
    let c = site("payment-engine", "charge", "zone-a", &k);
    at(&r, 1.0);
    let mut degraded_at = None;
    for i in 0..200 {
        // As the services do: exit every call, refused or not.
        let v = r.s.enter(&c);
        r.s.exit(&c, code(&v).is_none(), 1000);
        if code(&v) == Some("DEGRADED") {
            degraded_at = Some(i);
            break;
        }
    }
    assert!(
        degraded_at.is_some_and(|i| i >= 20),
        "breaker opened on injected errors: {degraded_at:?}"
    );
}
