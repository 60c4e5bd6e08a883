//! Plan parsing: every built-in plan parses; bad plans get errors naming plan and field.

use healer::plan::builtin::BUILTIN;
use healer::*;

#[test]
fn builtin_plans_parse_and_cover_every_fault() {
    let plans = builtin_plans();
    assert_eq!(plans.len(), BUILTIN.len());
    let at = |kind: &str, target: &str| {
        let t = Trigger::diagnosis(kind, target, 0);
        plans
            .iter()
            .filter(|p| p.matches(&t))
            .max_by_key(|p| p.priority)
            .map(|p| p.name.clone())
    };
    // bank-outage, errors/timeout on a bank
    assert_eq!(
        at("dependency", "bank:bank-a").as_deref(),
        Some("bank-failover")
    );
    // surge at the entry, overload elsewhere, pool exhaustion in accounting
    assert_eq!(
        at("overload", "service:cashier").as_deref(),
        Some("surge-limit-entry")
    );
    assert_eq!(
        at("overload", "service:payment-engine").as_deref(),
        Some("overload-degrade")
    );
    assert_eq!(
        at("overload", "service:accounting").as_deref(),
        Some("pool-exhaustion")
    );
    assert_eq!(
        at("hot_spot", "merchant:m-hot").as_deref(),
        Some("hot-merchant")
    );
    assert_eq!(
        at("bad_release", "service:payment").as_deref(),
        Some("bad-release-rollback")
    );
    assert_eq!(at("zone", "zone:zone-b").as_deref(), Some("zone-cutover"));
    assert_eq!(
        at("latency", "service:marketing").as_deref(),
        Some("latency-breaker")
    );
    // A synchronous dependency of the payment path gets no breaker: slow payments would
    // become failed ones.
    assert_eq!(at("latency", "service:payment-engine").as_deref(), None);
    assert_eq!(at("errors", "service:trade").as_deref(), None);
    assert_eq!(
        at("latency", "service:risk").as_deref(),
        Some("risk-degrade")
    );
    assert_eq!(
        at("timeout", "service:risk").as_deref(),
        Some("risk-degrade")
    );
    assert_eq!(
        at("latency", "service:accounting").as_deref(),
        Some("slow-ledger")
    );
    assert_eq!(
        at("errors", "service:marketing").as_deref(),
        Some("errors-breaker")
    );
    let zone = plans.iter().find(|p| p.name == "zone-cutover").unwrap();
    let stages: Vec<String> = zone.steps[0]
        .stages
        .iter()
        .map(|a| match a {
            Action::ZoneShift { stage, .. } => stage.clone(),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(stages, ["whitelist", "1/256", "1/8", "1/4", "1/2", "all"]);
}

const GOOD: &str = r#"
name = "p"
[trigger]
kind = "dependency"
target = "bank:*"
[[steps]]
channel_weight = { bank = "{target}", weight = 0 }
"#;

fn err(text: &str) -> String {
    parse_plan(text).unwrap_err().to_string()
}

#[test]
fn bad_plans_name_the_field_or_step() {
    assert!(parse_plan(GOOD).is_ok());
    let cases: &[(&str, &str, &str)] = &[
        ("name = \"p\"", "name = \"p\"\ncolour = 1", "colour"),
        ("weight = 0 }", "weight = 0, wieght = 1 }", "steps[0].channel_weight"),
        ("channel_weight = { bank = \"{target}\", weight = 0 }", "teleport = { to = \"mars\" }", "steps[0].teleport"),
        ("channel_weight = { bank = \"{target}\", weight = 0 }", "channel_weight = { bank = \"{tagret}\", weight = 0 }", "unknown variable `{tagret}`"),
        ("channel_weight = { bank = \"{target}\", weight = 0 }", "channel_weight = { bank = \"x\", weight = 0 }\ndegrade = { feature = \"marketing\", enabled = false }", "exactly one action"),
        ("channel_weight = { bank = \"{target}\", weight = 0 }", "channel_weight = { bank = \"x\", weight = 0 }\nexecutor = \"sentinel\"", "steps[0].executor"),
        ("channel_weight = { bank = \"{target}\", weight = 0 }", "zone_shift = { from = \"a\", stages = [\"1/2\", \"1/8\"] }", "steps[0].zone_shift.stages[1]"),
        ("channel_weight = { bank = \"{target}\", weight = 0 }", "zone_shift = { from = \"a\", stages = [\"half\"] }", "steps[0].zone_shift.stages[0]"),
        ("channel_weight = { bank = \"{target}\", weight = 0 }", "flow_limit = { resource = \"a\", qps = -1.0 }", "qps"),
        ("channel_weight = { bank = \"{target}\", weight = 0 }", "param_limit = { resource = \"a\", param = \"colour\", value = \"x\", qps = 1.0, others_qps = 2.0 }", "param"),
        ("channel_weight = { bank = \"{target}\", weight = 0 }", "ledger_strategy = { account = \"a\", strategy = \"yolo\" }", "strategy"),
        ("kind = \"dependency\"", "alert = \"BankDown\"", "trigger.target"),
        ("kind = \"dependency\"\ntarget = \"bank:*\"", "", "trigger"),
        ("[[steps]]\nchannel_weight = { bank = \"{target}\", weight = 0 }", "steps = []", "steps"),
    ];
    for (from, to, needle) in cases {
        let text = GOOD.replacen(from, to, 1);
        let e = err(&text);
        assert!(e.contains("plan `p`") || e.contains("plan `?`"), "{e}");
        assert!(e.contains(needle), "expected {needle:?} in: {e}");
    }
    let wide = "name = \"p\"\n[trigger]\nkind = \"dependency\"\n[guards]\nblast_radius = 1\n\
        [[steps]]\nchannel_weight = { bank = \"a\", weight = 0 }\n\
        [[steps]]\ndegrade = { feature = \"marketing\", enabled = false }\n";
    let e = err(wide);
    assert!(e.contains("guards.blast_radius"), "{e}");
    let frozen = GOOD.replacen("[[steps]]", "[guards]\nfreeze = [{ from = \"2026-01-02T00:00:00Z\", to = \"2026-01-01T00:00:00Z\" }]\n[[steps]]", 1);
    assert!(err(&frozen).contains("guards.freeze[0].to"));
    assert!(err("not toml at all [").contains("toml"));
}

#[test]
fn templates_fill_from_the_trigger() {
    let p = parse_plan(&GOOD.replace("{target}", "{label.bank}-{target}")).unwrap();
    let mut t = Trigger::diagnosis("dependency", "bank:icbc", 0);
    assert!(p.steps[0].stages[0]
        .instantiate(&t)
        .unwrap_err()
        .contains("no label `bank`"));
    t.labels.insert("bank".into(), "x".into());
    assert_eq!(
        p.steps[0].stages[0].instantiate(&t).unwrap(),
        Action::ChannelWeight {
            bank: "x-icbc".into(),
            weight: 0
        }
    );
}

/// Issue 6: the routing levers parse, refuse bad values with the step named, and fill
/// `{target}` from an `instance:NAME` trigger.
#[test]
fn routing_levers_parse_and_refuse_bad_values() {
    let one = |step: &str| {
        GOOD.replacen(
            "channel_weight = { bank = \"{target}\", weight = 0 }",
            step,
            1,
        )
    };
    let p = parse_plan(&one("isolate = { instance = \"{target}\" }")).unwrap();
    assert_eq!(
        p.steps[0].stages[0],
        Action::Isolate {
            instance: "{target}".into(),
            max_per_service: 1
        },
        "max_per_service defaults to 1"
    );
    assert_eq!(p.steps[0].executor, ExecutorKind::Sim);
    let p = parse_plan(&one("pool_size = { service = \"accounting\", size = 64 }")).unwrap();
    assert_eq!(p.steps[0].stages[0].resource(), "pool:accounting");
    let p = parse_plan(&one("ledger_switchover = {}")).unwrap();
    assert_eq!(p.steps[0].stages[0], Action::LedgerSwitchover {});
    assert_eq!(p.steps[0].stages[0].resource(), "ledger-db");
    let cases: &[(&str, &str)] = &[
        (
            "isolate = { instance = \"\" }",
            "steps[0].isolate`: `instance` must name an instance",
        ),
        (
            "isolate = { instance = \"{target}\", max_per_service = 0 }",
            "`max_per_service` must be at least 1",
        ),
        (
            "isolate = { instance = \"{target}\", zone = \"a\" }",
            "steps[0].isolate`: unknown field `zone`",
        ),
        (
            "isolate = { }",
            "steps[0].isolate`: missing field `instance`",
        ),
        (
            "isolate = { instance = \"{tagret}\" }",
            "unknown variable `{tagret}`",
        ),
        (
            "isolate = \"payment-engine-2\"",
            "steps[0].isolate`: must be a table",
        ),
        (
            "pool_size = { service = \"accounting\", size = 0 }",
            "steps[0].pool_size`: `size` must be in 1..=4096",
        ),
        (
            "pool_size = { service = \"accounting\", size = 100000 }",
            "`size` must be in 1..=4096",
        ),
        (
            "pool_size = { service = \"accounting\", size = -3 }",
            "steps[0].pool_size",
        ),
        (
            "pool_size = { service = \"accounting\" }",
            "missing field `size`",
        ),
        (
            "pool_size = { service = \"\", size = 8 }",
            "`service` must name a service",
        ),
        (
            "ledger_switchover = { to = \"ledger-db-3\" }",
            "steps[0].ledger_switchover`: unknown field `to`",
        ),
        (
            "ledger_switchover = {}\nexecutor = \"sentinel\"",
            "Sentinel only takes",
        ),
        (
            "isolate = { instance = \"a\" }\nexecutor = \"webhook\"",
            "steps[0]",
        ),
    ];
    for (step, needle) in cases {
        match parse_plan(&one(step)) {
            Ok(p) if *needle == "steps[0]" => {
                // The webhook executor takes any action; it is the plan author's choice.
                assert_eq!(p.steps[0].executor, ExecutorKind::Webhook);
            }
            Ok(p) => panic!("{step}: accepted as {p:?}"),
            Err(e) => {
                let e = e.to_string();
                assert!(e.contains("plan `p`"), "{e}");
                assert!(e.contains(needle), "{step}: expected {needle:?} in: {e}");
            }
        }
    }
}

#[test]
fn a_trigger_may_list_kinds_and_bad_lists_are_named() {
    let p = parse_plan(&GOOD.replacen(
        "kind = \"dependency\"",
        "kind = [\"latency\", \"errors\"]",
        1,
    ))
    .unwrap();
    assert_eq!(p.trigger.kinds, ["latency", "errors"]);
    assert!(p.matches(&Trigger::diagnosis("errors", "bank:x", 0)));
    assert!(p.matches(&Trigger::diagnosis("latency", "bank:x", 0)));
    assert!(!p.matches(&Trigger::diagnosis("dependency", "bank:x", 0)));
    for (kind, needle) in [
        ("[]", "trigger.kind`: the list of kinds is empty"),
        (
            "[\"latency\", 3]",
            "trigger.kind[1]`: must be a diagnosis kind",
        ),
        (
            "[\"latency\", \"latency\"]",
            "trigger.kind[1]`: `latency` is listed twice",
        ),
        ("[\"\"]", "trigger.kind[0]`: a kind must not be empty"),
        ("7", "trigger.kind`: must be a diagnosis kind"),
    ] {
        let e = err(&GOOD.replacen("\"dependency\"", kind, 1));
        assert!(e.contains("plan `p`") && e.contains(needle), "{kind}: {e}");
    }
}

#[test]
fn an_instance_target_fills_the_instance_name() {
    let plans = builtin_plans();
    let t = Trigger::diagnosis("latency", "instance:payment-engine-2", 0);
    let p = plans.iter().find(|p| p.matches(&t)).unwrap();
    assert_eq!(p.name, "isolate-instance");
    assert_eq!(
        p.steps[0].stages[0].instantiate(&t).unwrap(),
        Action::Isolate {
            instance: "payment-engine-2".into(),
            max_per_service: 1
        }
    );
    assert_eq!(
        p.steps[0].stages[0].instantiate(&t).unwrap().resource(),
        "instance:payment-engine-2"
    );
    // An instance trigger with no name cannot isolate anything: a clear error, no action.
    let empty = Trigger::diagnosis("latency", "instance:", 0);
    assert!(p.steps[0].stages[0]
        .instantiate(&empty)
        .unwrap_err()
        .contains("`instance` must name an instance"));
}

/// The plans picked for each sick part, highest priority first as the engine does.
#[test]
fn builtin_plans_route_around_the_sick_part() {
    let mut plans = builtin_plans();
    plans.sort_by_key(|p| std::cmp::Reverse(p.priority));
    let pick = |kind: &str, target: &str| {
        let t = Trigger::diagnosis(kind, target, 0);
        plans
            .iter()
            .find(|p| p.matches(&t))
            .map(|p| p.name.as_str())
    };
    for kind in ["latency", "errors", "timeout"] {
        assert_eq!(
            pick(kind, "instance:payment-engine-2"),
            Some("isolate-instance"),
            "{kind}"
        );
    }
    assert_eq!(
        pick("overload", "service:accounting"),
        Some("pool-exhaustion")
    );
    assert_eq!(
        pick("overload", "service:cashier"),
        Some("surge-limit-entry")
    );
    assert_eq!(pick("overload", "service:trade"), Some("overload-degrade"));
    assert_eq!(pick("latency", "service:accounting"), Some("slow-ledger"));
    assert_eq!(
        pick("latency", "service:marketing"),
        Some("latency-breaker")
    );
    assert_eq!(pick("errors", "service:marketing"), Some("errors-breaker"));
    assert_eq!(pick("errors", "service:risk"), Some("risk-degrade"));
    assert_eq!(pick("latency", "service:payment-engine"), None);
    let by = |n: &str| plans.iter().find(|p| p.name == n).unwrap();
    let first = |n: &str| by(n).steps[0].stages[0].clone();
    assert_eq!(
        first("pool-exhaustion"),
        Action::PoolSize {
            service: "{target}".into(),
            size: 64
        }
    );
    assert_eq!(first("slow-ledger"), Action::LedgerSwitchover {});
    // The breakers trip on payments-sim's default faults: a slow call is one above the
    // threshold (ms), an error ratio must be strictly above it.
    use payments_sim::faults::defaults;
    match first("latency-breaker") {
        Action::CircuitBreaker {
            grade, threshold, ..
        } => {
            assert_eq!(grade, "slow_call");
            assert!(
                threshold < defaults::LATENCY_MS as f64,
                "threshold {threshold} ms would not trip on {} ms",
                defaults::LATENCY_MS
            );
        }
        a => panic!("latency-breaker starts with {a:?}"),
    }
    match first("errors-breaker") {
        Action::CircuitBreaker {
            grade, threshold, ..
        } => {
            assert_eq!(grade, "error_ratio");
            assert!(
                threshold < defaults::ERROR_RATE * 0.8,
                "threshold {threshold} is too close to the injected {}",
                defaults::ERROR_RATE
            );
        }
        a => panic!("errors-breaker starts with {a:?}"),
    }
    for n in ["isolate-instance", "pool-exhaustion", "slow-ledger"] {
        assert_eq!(by(n).approval, Some(ApprovalMode::Auto), "{n}");
        assert_eq!(by(n).verify_within_us, 5_000_000, "{n}");
    }
    assert_eq!(by("isolate-instance").guards.blast_radius, 1);
}

/// Flow and hot-parameter limits sit at the entry only: refusing a call after the bank
/// charged leaves orders, ledger and bank books apart (reconciliation mismatches).
#[test]
fn builtin_flow_limits_sit_at_the_entry() {
    let mut limits = 0;
    for p in builtin_plans() {
        for a in p.steps.iter().flat_map(|s| &s.stages) {
            if let Action::FlowLimit { resource, .. } | Action::ParamLimit { resource, .. } = a {
                limits += 1;
                assert_eq!(resource, "cashier", "{}: {}", p.name, a.describe());
            }
        }
    }
    assert!(limits >= 2, "surge and hot-merchant limit the entry");
}

#[test]
fn an_excluded_target_is_never_answered_and_bad_excludes_are_named() {
    let p = parse_plan(&GOOD.replacen(
        "target = \"bank:*\"",
        "target = \"bank:*\"\nexclude = [\"bank:bank-a\"]",
        1,
    ))
    .unwrap();
    assert!(p.matches(&Trigger::diagnosis("dependency", "bank:bank-b", 0)));
    assert!(!p.matches(&Trigger::diagnosis("dependency", "bank:bank-a", 0)));
    for (exclude, needle) in [
        (
            "[\"cashier\"]",
            "trigger.exclude[0]`: must be a `KIND:NAME` glob",
        ),
        (
            "[\"service:\"]",
            "trigger.exclude[0]`: must be a `KIND:NAME` glob",
        ),
        ("\"service:x\"", "exclude"),
    ] {
        let e = err(&GOOD.replacen(
            "target = \"bank:*\"",
            &format!("target = \"bank:*\"\nexclude = {exclude}"),
            1,
        ));
        assert!(
            e.contains("plan `p`") && e.contains(needle),
            "{exclude}: {e}"
        );
    }
    // The built-in breakers never land on the payment path (the entry or a synchronous
    // dependency): a breaker there would refuse payments that would have gone through.
    let plans = builtin_plans();
    for name in ["latency-breaker", "errors-breaker"] {
        let p = plans.iter().find(|p| p.name == name).expect(name);
        let kind = &p.trigger.kinds[0];
        for svc in [
            "cashier",
            "trade",
            "payment",
            "risk",
            "payment-engine",
            "accounting",
        ] {
            assert!(
                !p.matches(&Trigger::diagnosis(kind, &format!("service:{svc}"), 0)),
                "{name} on {svc}"
            );
        }
        assert!(
            p.matches(&Trigger::diagnosis(kind, "service:marketing", 0)),
            "{name}"
        );
    }
}
