//! Objectives parsing, burn rates over windows in seconds, bank layers, budgets
//! and reports — exact inputs under a fixed clock.

use digest::{DigestRecord, ManualClock, SecondRollup, SpanId, SpanKind, TraceId};
use sla::{slo, Layer, Objectives, Sla, SlaError, Sli};
use std::sync::Arc;

const S0: u64 = 1_795_784_400;

fn rec(
    kind: SpanKind,
    svc: &str,
    peer: &str,
    scene: &str,
    code: &str,
    dur_us: u64,
) -> DigestRecord {
    DigestRecord {
        time_us: 0,
        trace_id: TraceId(1),
        span_id: SpanId(1),
        kind,
        service: svc.into(),
        peer: peer.into(),
        operation: "op".into(),
        scene: scene.into(),
        zone: "zone-a".into(),
        duration_us: dur_us,
        success: code == "SUCCESS",
        code: code.into(),
        ..Default::default()
    }
}

/// A second of `n` trade calls, `bad` of them failing.
fn trade_second(s: u64, n: u64, bad: u64) -> SecondRollup {
    let mut r = SecondRollup::new(s);
    for i in 0..n {
        let code = if i < bad { "SYSTEM_ERROR" } else { "SUCCESS" };
        r.add(&rec(
            SpanKind::Server,
            "trade",
            "cashier",
            "quick_pay",
            code,
            1000,
        ));
    }
    r
}

const FAST: &str = r#"
budget_period = "1h"
layer_window = "10s"
[[burn]]
name = "fast"
factor = 14.4
long = "60s"
short = "5s"
[[service]]
name = "trade"
availability = 0.999
latency_ms = 100
"#;

#[test]
fn shipped_defaults_cover_payments_sim() {
    let o = Objectives::payments_sim_defaults();
    let ids: Vec<&str> = o.objectives.iter().map(|x| x.id.as_str()).collect();
    for want in [
        "service:payment-engine",
        "service:accounting",
        "scene:quick_pay",
        "bank:bank-a",
        "bank:bank-c",
    ] {
        assert!(ids.contains(&want), "{want} missing from {ids:?}");
    }
    let burn: Vec<(f64, u64, u64)> = o
        .burn
        .iter()
        .map(|p| (p.factor, p.long_s, p.short_s))
        .collect();
    assert_eq!(
        burn,
        vec![
            (14.4, 3600, 300),
            (6.0, 21_600, 1800),
            (1.0, 259_200, 21_600)
        ]
    );
    assert_eq!(o.budget_period_s, 30 * 86_400);
}

#[test]
fn bad_objectives_are_refused_naming_the_field() {
    let cases = [
        ("[[service]]\nname = \"trade\"\navailabilty = 0.9\n", "availabilty"),
        ("[[service]]\nname = \"trade\"\navailability = 1.5\n", "service[0].availability"),
        ("[[bank]]\nname = \"b\"\ntimeout_ms = -1\n", "bank[0].timeout_ms"),
        ("budget_period = \"5x\"\n", "budget_period"),
        ("[[burn]]\nname = \"x\"\nfactor = 2.0\nlong = \"5m\"\nshort = \"1h\"\n", "burn[0].short"),
        ("[[scene]]\nname = \"a\"\navailability = 0.9\n[[scene]]\nname = \"a\"\navailability = 0.9\n", "scene[1].name"),
        ("bogus = 1\n", "bogus"),
    ];
    for (text, field) in cases {
        match Objectives::from_toml(text) {
            Err(SlaError::Config(m)) => assert!(m.contains(field), "{field} not named in {m:?}"),
            other => panic!("{text:?} accepted: {other:?}"),
        }
    }
}

#[test]
fn multi_window_burn_rate_fires_only_when_both_windows_burn() {
    let clock = ManualClock::new(S0 * 1_000_000);
    let mut sla = Sla::new(
        Objectives::from_toml(FAST).unwrap(),
        Arc::new(clock.clone()),
    );
    for s in 0..60 {
        sla.ingest_rollup(&trade_second(S0 + s, 1000, 0));
        clock.set((S0 + s) * 1_000_000);
    }
    let burn = |sla: &Sla| {
        let st = sla.status();
        let b = &st[0].slis[0].burn[0];
        (b.burn_long, b.burn_short, b.firing)
    };
    assert_eq!(burn(&sla), (0.0, 0.0, false));
    // 10 s at 2% errors: short window burns 20×, the minute only 3.3×.
    for s in 60..70 {
        clock.set((S0 + s) * 1_000_000);
        sla.ingest_rollup(&trade_second(S0 + s, 1000, 20));
    }
    let (l, s, f) = burn(&sla);
    assert!((s - 20.0).abs() < 1e-6, "short {s}");
    assert!((l - 20.0 * 10.0 / 60.0).abs() < 1e-6, "long {l}");
    assert!(!f);
    assert!(sla.firing().is_empty());
    // 50 s more: the whole minute burns 20×.
    for s in 70..120 {
        clock.set((S0 + s) * 1_000_000);
        sla.ingest_rollup(&trade_second(S0 + s, 1000, 20));
    }
    let (l, _, f) = burn(&sla);
    assert!((l - 20.0).abs() < 1e-6);
    assert!(f);
    let alerts = sla.firing();
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        (alerts[0].objective.as_str(), alerts[0].sli),
        ("service:trade", Sli::Availability)
    );
    // Errors recover: the short window clears first and the alert stops.
    for s in 120..126 {
        clock.set((S0 + s) * 1_000_000);
        sla.ingest_rollup(&trade_second(S0 + s, 1000, 0));
    }
    assert!(sla.firing().is_empty());
    // Budget over the 1 h period: 60 s × 20 errors = 1200 bad of 126,000 calls,
    // against an allowance of 126 → overspent.
    let st = sla.status();
    let p = &st[0].slis[0].period;
    assert_eq!((p.total, p.bad), (126_000, 1200));
    assert!((p.budget_remaining - (1.0 - 1200.0 / 126.0)).abs() < 1e-9);
    assert!(!p.met);
    let json = serde_json::to_value(slo(&sla)).unwrap();
    assert_eq!(json["objectives"][0]["slis"][0]["burn"][0]["long"], "1m");
}

fn bank_second(s: u64, mix: &[(&str, u64, u64)]) -> SecondRollup {
    let mut r = SecondRollup::new(s);
    for (code, n, dur) in mix {
        for _ in 0..*n {
            r.add(&rec(
                SpanKind::Integrator,
                "bank-gateway",
                "bank-a",
                "quick_pay",
                code,
                *dur,
            ));
        }
    }
    r
}

#[test]
fn bank_layers_report_the_first_failing_layer() {
    type Mix<'a> = &'a [(&'a str, u64, u64)];
    let cases: [(Mix, Option<Layer>); 6] = [
        (&[("SUCCESS", 1000, 50_000)], None),
        (
            &[("SUCCESS", 980, 50_000), ("RPC_UNREACHABLE", 20, 1000)],
            Some(Layer::Reachable),
        ),
        (
            &[("SUCCESS", 950, 50_000), ("BANK_UNAVAILABLE", 50, 1000)],
            Some(Layer::Available),
        ),
        (
            &[("SUCCESS", 970, 50_000), ("SUCCESS", 30, 3_500_000)],
            Some(Layer::WithinTimeout),
        ),
        (
            &[("SUCCESS", 940, 50_000), ("BANK_DECLINED", 60, 50_000)],
            Some(Layer::WithinContract),
        ),
        // Contract latency: 2% of calls above the 1.5 s p99.
        (
            &[("SUCCESS", 980, 50_000), ("SUCCESS", 20, 2_000_000)],
            Some(Layer::WithinContract),
        ),
    ];
    for (mix, want) in cases {
        let clock = ManualClock::new((S0 + 5) * 1_000_000);
        let mut sla = Sla::new(Objectives::payments_sim_defaults(), Arc::new(clock.clone()));
        sla.ingest_rollup(&bank_second(S0 + 5, mix));
        let st = sla.status();
        let bank = st.iter().find(|o| o.id == "bank:bank-a").unwrap();
        let layers = bank.layers.as_ref().unwrap();
        assert_eq!(layers.calls, 1000);
        assert_eq!(layers.first_failing, want, "{mix:?}: {layers:#?}");
    }
}

#[test]
fn report_counts_exactly_and_keeps_business_refusals_and_shadow_out() {
    let clock = ManualClock::new((S0 + 100) * 1_000_000);
    let mut sla = Sla::new(Objectives::payments_sim_defaults(), Arc::new(clock.clone()));
    for s in 0..100 {
        let mut r = SecondRollup::new(S0 + s);
        for i in 0..10 {
            let code = match i {
                0 => "INSUFFICIENT_FUNDS",
                1 if s % 2 == 0 => "SYSTEM_ERROR",
                _ => "SUCCESS",
            };
            let slow = if i == 9 { 900_000 } else { 2_000 };
            r.add(&rec(
                SpanKind::Server,
                "cashier",
                "app",
                "quick_pay",
                code,
                slow,
            ));
            let mut shadow = rec(
                SpanKind::Server,
                "cashier",
                "app",
                "quick_pay",
                "SYSTEM_ERROR",
                5,
            );
            shadow.shadow = true;
            r.add(&shadow);
            // Not the scene's entry service: not in the scene objective.
            r.add(&rec(
                SpanKind::Server,
                "trade",
                "cashier",
                "quick_pay",
                "SYSTEM_ERROR",
                5,
            ));
        }
        sla.ingest_rollup(&r);
    }
    let rep = sla.report(S0 * 1_000_000, (S0 + 100) * 1_000_000).unwrap();
    assert!(rep.complete);
    let scene = rep
        .objectives
        .iter()
        .find(|r| r.id == "scene:quick_pay")
        .unwrap();
    assert_eq!(
        (scene.availability.total, scene.availability.bad),
        (1000, 50)
    );
    assert!((scene.availability.ratio - 0.95).abs() < 1e-12);
    let lat = scene.latency.as_ref().unwrap();
    assert_eq!(lat.bad, 0, "900 ms is under the scene's 1000 ms");
    let cashier = rep
        .objectives
        .iter()
        .find(|r| r.id == "service:cashier")
        .unwrap();
    assert_eq!(
        cashier.latency.as_ref().unwrap().bad,
        100,
        "900 ms is over the cashier's 800 ms"
    );
    let half = sla.report(S0 * 1_000_000, (S0 + 10) * 1_000_000).unwrap();
    let scene = half
        .objectives
        .iter()
        .find(|r| r.id == "scene:quick_pay")
        .unwrap();
    assert_eq!(scene.availability.total, 100);
    assert!(sla.report(5, 5).is_err());
    clock.set((S0 + 40 * 86_400) * 1_000_000);
    let old = sla.report(S0 * 1_000_000, (S0 + 100) * 1_000_000).unwrap();
    assert!(!old.complete);
}

#[test]
fn a_burst_among_too_few_calls_at_start_up_does_not_fire() {
    let clock = ManualClock::new(S0 * 1_000_000);
    let mut sla = Sla::new(
        Objectives::from_toml(FAST).unwrap(),
        Arc::new(clock.clone()),
    );
    // 3 s of 100 calls, 50 failed in one of them: both windows burn far above
    // the factor, but 300 calls at 99.9 % allow 0.3 failures: too few to judge.
    for s in 0..3 {
        clock.set((S0 + s) * 1_000_000);
        sla.ingest_rollup(&trade_second(S0 + s, 100, u64::from(s == 1) * 50));
    }
    let st = sla.status();
    let b = &st[0].slis[0].burn[0];
    assert!(b.burn_long > b.factor && b.burn_short > b.factor, "{b:?}");
    assert!(!b.firing, "{b:?}");
    assert!(sla.firing().is_empty());
    // With 1 000+ calls in the long window one failure is affordable, and a
    // burn like that fires.
    for s in 3..12 {
        clock.set((S0 + s) * 1_000_000);
        sla.ingest_rollup(&trade_second(S0 + s, 100, 50));
    }
    assert_eq!(sla.firing().len(), 1);
}

/// `warroom serve` knows no service in advance: the `*` objective is given to every service
/// that shows up, a service with its own objective keeps it, shadow and client calls give
/// none, and `*` is refused where it makes no sense.
#[test]
fn every_service_that_shows_up_gets_the_star_objective() {
    let text = r#"
budget_period = "1h"
[[burn]]
name = "fast"
factor = 14.4
long = "60s"
short = "5s"
[[service]]
name = "*"
availability = 0.99
[[service]]
name = "trade"
availability = 0.999
"#;
    let o = Objectives::from_toml(text).unwrap();
    assert_eq!(
        o.objectives.len(),
        1,
        "the template is not an objective itself"
    );
    let clock = ManualClock::new(S0 * 1_000_000 + 100 * 1_000_000);
    let mut sla = Sla::new(o, Arc::new(clock));
    let mut r = SecondRollup::new(S0 + 99);
    r.add(&rec(SpanKind::Server, "orders", "gw", "", "SUCCESS", 1000));
    r.add(&rec(
        SpanKind::Server,
        "orders",
        "gw",
        "",
        "SYSTEM_ERROR",
        1000,
    ));
    r.add(&rec(SpanKind::Server, "trade", "gw", "", "SUCCESS", 1000));
    r.add(&rec(
        SpanKind::Client,
        "billing",
        "orders",
        "",
        "SUCCESS",
        1000,
    ));
    let mut shadow = rec(SpanKind::Server, "stress-only", "gw", "", "SUCCESS", 1000);
    shadow.shadow = true;
    r.add(&shadow);
    sla.ingest_rollup(&r);
    sla.ingest_rollup(&r);
    let st = sla.status();
    let ids: Vec<&str> = st.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["service:trade", "service:orders"]);
    let orders = &st[1].slis[0].period;
    assert_eq!((orders.total, orders.target), (4, 0.99));
    assert_eq!(st[0].slis[0].period.target, 0.999, "its own objective");
    let d = Objectives::discovering();
    assert!(d.objectives.is_empty() && d.every_service.is_some());
    for (bad, why) in [
        ("[[service]]\nname = \"*\"\navailability = 0.99\noperation = \"x\"\n", "operation"),
        (
            "[[service]]\nname = \"*\"\navailability = 0.99\n[[service]]\nname = \"*\"\navailability = 0.9\n",
            "twice",
        ),
    ] {
        let e = Objectives::from_toml(bad).unwrap_err().to_string();
        assert!(e.contains(why), "{e}");
    }
}
