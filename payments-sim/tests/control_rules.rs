//! Each control rule changes behaviour as documented, driven by a manual clock
//! through the `Guard` the services call: a flow rule caps admitted QPS within
//! 5%, a hot-parameter rule caps one merchant and leaves others alone, an open
//! breaker fails fast and half-opens after its window, channel weights, zones,
//! rollbacks and ledger strategies come back as set. Issue 3.

use digest::{Keys, ManualClock};
use payments_sim::control::{RuleType, Steering};
use payments_sim::guard::{CallSite, Guard, LedgerStrategy, Verdict};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

const T0: u64 = 1_800_000_000_000_000;

fn steering() -> (Arc<Steering>, ManualClock) {
    let clock = ManualClock::new(T0);
    (
        Arc::new(Steering::new(
            Arc::new(clock.clone()),
            Steering::discard_events(),
        )),
        clock,
    )
}

fn keys(merchant: &str) -> Keys {
    let mut k = Keys::new();
    k.insert("user".into(), "u-1".into());
    k.insert("merchant".into(), merchant.into());
    k
}

fn site<'a>(service: &'a str, operation: &'a str, keys: &'a Keys) -> CallSite<'a> {
    CallSite {
        service,
        operation,
        instance: "",
        zone: "zone-a",
        scene: "quick_pay",
        channel: "SDK",
        keys,
        shadow: false,
    }
}

fn push(s: &Steering, kind: RuleType, rules: serde_json::Value) {
    s.put_rules_json(kind, rules.to_string().as_bytes(), "test")
        .unwrap();
}

fn passed(v: &Verdict) -> bool {
    matches!(v, Verdict::Pass { .. })
}

#[test]
fn flow_rule_caps_admitted_qps_within_5_percent() {
    let (s, clock) = steering();
    push(
        &s,
        RuleType::Flow,
        json!([{"resource":"payment:pay","count":200}]),
    );
    let k = keys("m-1");
    let (mut admitted, mut other) = (0, 0);
    // 1,000 calls/s offered for 10 s, one every millisecond.
    for _ in 0..10_000 {
        clock.advance_us(1_000);
        let v = s.enter(&site("payment", "pay", &k));
        if passed(&v) {
            admitted += 1;
            s.exit(&site("payment", "pay", &k), true, 1_000);
        } else {
            assert_eq!(
                v,
                Verdict::Reject {
                    code: "FLOW_LIMITED".into(),
                    error: "FlowException".into(),
                    delay_us: 0
                }
            );
        }
        if passed(&s.enter(&site("payment", "refund", &k))) {
            other += 1;
        }
    }
    let qps = admitted as f64 / 10.0;
    assert!((qps - 200.0).abs() <= 10.0, "admitted {qps}/s, cap 200/s");
    assert_eq!(other, 10_000, "another operation is not limited");
    // A service-wide rule limits every operation of it.
    push(
        &s,
        RuleType::Flow,
        json!([{"resource":"payment","count":50}]),
    );
    let mut n = 0;
    for i in 0..4_000 {
        clock.advance_us(1_000);
        let op = if i % 2 == 0 { "pay" } else { "refund" };
        n += passed(&s.enter(&site("payment", op, &k))) as u32;
    }
    assert!(
        (190..=210).contains(&n),
        "service-wide cap: {n} in 4 s at 50/s"
    );
}

#[test]
fn rate_limiter_and_concurrency_grades() {
    let (s, clock) = steering();
    push(
        &s,
        RuleType::Flow,
        json!([{"resource":"clearing","count":10,"controlBehavior":2,"maxQueueingTimeMs":250},
               {"resource":"accounting:post","grade":0,"count":2}]),
    );
    let k = keys("m-1");
    // Pacing: 10/s means one call each 100 ms; a burst queues up to 250 ms.
    let delays: Vec<_> = (0..4)
        .map(|_| s.enter(&site("clearing", "settle", &k)))
        .collect();
    assert_eq!(delays[0], Verdict::Pass { delay_us: 0 });
    assert_eq!(delays[1], Verdict::Pass { delay_us: 100_000 });
    assert_eq!(delays[2], Verdict::Pass { delay_us: 200_000 });
    assert!(!passed(&delays[3]), "would wait 300 ms > 250 ms");
    clock.advance_secs(1);
    assert_eq!(
        s.enter(&site("clearing", "settle", &k)),
        Verdict::Pass { delay_us: 0 }
    );
    // Concurrency: two in flight, the third refused until one exits.
    let a = site("accounting", "post", &k);
    assert!(passed(&s.enter(&a)));
    assert!(passed(&s.enter(&a)));
    assert!(!passed(&s.enter(&a)));
    s.exit(&a, true, 10);
    assert!(passed(&s.enter(&a)));
}

#[test]
fn hot_parameter_rule_caps_one_merchant_and_leaves_others_alone() {
    let (s, clock) = steering();
    push(
        &s,
        RuleType::Param,
        json!([{"resource":"trade:create","paramIdx":1,"count":20,
                "paramFlowItemList":[{"object":"m-vip","classType":"java.lang.String","count":100}]}]),
    );
    let (hot, cold, vip) = (keys("m-hot"), keys("m-cold"), keys("m-vip"));
    let (mut n_hot, mut n_hot_steady, mut n_cold, mut n_vip) = (0, 0, 0, 0);
    // 10 s: the hot merchant offers 200/s, the VIP 80/s, the cold one 10/s.
    for ms in 0..10_000u64 {
        clock.advance_us(1_000);
        if ms % 5 == 0 {
            let ok = passed(&s.enter(&site("trade", "create", &hot))) as u32;
            n_hot += ok;
            if ms >= 1_000 {
                n_hot_steady += ok;
            }
        }
        if ms % 100 == 0 {
            n_cold += passed(&s.enter(&site("trade", "create", &cold))) as u32;
        }
        if ms % 12 == 0 {
            n_vip += passed(&s.enter(&site("trade", "create", &vip))) as u32;
        }
    }
    // A token bucket: a first burst of `count`, then `count` a second.
    let hot_qps = n_hot_steady as f64 / 9.0;
    assert!(
        (hot_qps - 20.0).abs() <= 1.0,
        "hot merchant capped at 20/s: got {hot_qps}"
    );
    assert!(
        (215..=222).contains(&n_hot),
        "20 burst + 20/s for 10 s: {n_hot}"
    );
    assert_eq!(n_cold, 100, "a quiet merchant is untouched");
    assert_eq!(
        n_vip, 834,
        "the exception's own count (100/s) is above its 80/s"
    );
    let v = {
        let mut v = Verdict::PASS;
        for _ in 0..100 {
            v = s.enter(&site("trade", "create", &hot));
        }
        v
    };
    assert_eq!(
        v,
        Verdict::Reject {
            code: "PARAM_FLOW_LIMITED".into(),
            error: "ParamFlowException".into(),
            delay_us: 0
        }
    );
    assert!(
        passed(&s.enter(&site("trade", "query", &hot))),
        "other resources untouched"
    );
}

#[test]
fn breaker_fails_fast_when_open_and_half_opens_after_its_window() {
    let (s, clock) = steering();
    push(
        &s,
        RuleType::Degrade,
        json!([{"resource":"bank:bank-b","grade":1,"count":0.5,"timeWindow":5,"minRequestAmount":10},
               {"resource":"payment-engine:charge","grade":0,"count":200,"slowRatioThreshold":0.5,"timeWindow":3,"minRequestAmount":5}]),
    );
    let k = keys("m-1");
    let p = site("payment-engine", "pay", &k);
    // 10 bank calls (minRequestAmount), 60% failing, in one stat interval: opens.
    for i in 0..10 {
        clock.advance_us(10_000);
        assert!(passed(&s.bank("bank-b", &p)));
        s.bank_exit("bank-b", &p, i % 5 >= 3, 5_000);
    }
    let v = s.bank("bank-b", &p);
    assert_eq!(
        v,
        Verdict::Reject {
            code: "DEGRADED".into(),
            error: "DegradeException".into(),
            delay_us: 0
        }
    );
    s.bank_exit("bank-b", &p, false, 0); // refused calls are exited too, and not counted
    assert!(passed(&s.bank("bank-a", &p)), "another bank is unaffected");
    clock.advance_us(4_900_000);
    assert!(
        !passed(&s.bank("bank-b", &p)),
        "still open before timeWindow"
    );
    clock.advance_us(200_000);
    assert!(passed(&s.bank("bank-b", &p)), "half-open probe after 5 s");
    for _ in 0..3 {
        assert!(!passed(&s.bank("bank-b", &p)), "one probe only");
        s.bank_exit("bank-b", &p, false, 0);
    }
    s.bank_exit("bank-b", &p, true, 5_000);
    assert!(passed(&s.bank("bank-b", &p)), "probe succeeded: closed");
    let states = s.breaker_states();
    assert_eq!(format!("{:?}", states[0].1), "Closed");
    // Slow-call ratio on an operation.
    let c = site("payment-engine", "charge", &k);
    for i in 0..6 {
        assert!(passed(&s.enter(&c)));
        s.exit(&c, true, if i % 2 == 1 { 500_000 } else { 10_000 });
    }
    assert!(passed(&s.enter(&c)), "3 slow of 6 is not above 0.5");
    s.exit(&c, true, 900_000);
    assert!(!passed(&s.enter(&c)), "4 slow of 7 opens");
    clock.advance_secs(3);
    assert!(passed(&s.enter(&c)));
    s.exit(&c, true, 900_000);
    assert!(!passed(&s.enter(&c)), "a slow probe re-opens");
}

#[test]
fn levers_channels_zones_versions_ledger_switches() {
    let (s, _clock) = steering();
    assert_eq!(s.channel_weights(), None);
    s.put_channels(
        serde_json::from_value(
            json!([{"bank":"bank-a","weight":10},{"bank":"bank-b","weight":90}]),
        )
        .unwrap(),
        "test",
    )
    .unwrap();
    let w = s.channel_weights().unwrap();
    assert_eq!((w[1].bank.as_str(), w[1].weight), ("bank-b", 90));
    s.put_channels(vec![], "test").unwrap();
    assert_eq!(s.channel_weights(), None, "[] restores the defaults");

    assert_eq!(s.zone_for(7), None);
    s.put_zones(
        BTreeMap::from([("zone-a".into(), 30), ("zone-b".into(), 70)]),
        "test",
    )
    .unwrap();
    let mut a = 0;
    for h in 0..1000u64 {
        a += (s.zone_for(h.wrapping_mul(0x9E37_79B9_7F4A_7C15)).unwrap() == "zone-a") as u32;
    }
    assert!((250..=350).contains(&a), "30% of users in zone-a: {a}/1000");
    s.put_zones(
        BTreeMap::from([("zone-a".into(), 100), ("zone-b".into(), 0)]),
        "test",
    )
    .unwrap();
    assert!(
        (0..100u64).all(|h| s.zone_for(h).as_deref() == Some("zone-a")),
        "failover moves everyone"
    );

    s.set_builtin_versions([("payment".to_string(), "1.4.2".to_string())]);
    assert_eq!(s.version("payment"), None);
    s.put_versions(
        BTreeMap::from([("payment".into(), Some("1.5.0".into()))]),
        "test",
    )
    .unwrap();
    assert_eq!(s.version("payment").as_deref(), Some("1.5.0"));
    s.put_versions(
        BTreeMap::from([("payment".into(), Some("1.4.2".into()))]),
        "test",
    )
    .unwrap();
    assert_eq!(s.current_version("payment"), "1.4.2");

    s.put_ledger(
        BTreeMap::from([("m-hot".into(), Some(LedgerStrategy::Split))]),
        "test",
    )
    .unwrap();
    assert_eq!(s.ledger_strategy("m-hot"), Some(LedgerStrategy::Split));
    assert_eq!(s.ledger_strategy("m-cold"), None);

    assert!(s.feature_enabled("marketing"));
    s.put_switches(BTreeMap::from([("marketing".into(), Some(false))]), "test")
        .unwrap();
    assert!(!s.feature_enabled("marketing"));
    assert!(s.feature_enabled("risk.async"));
}
