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
        at("latency", "service:payment-engine").as_deref(),
        Some("latency-breaker")
    );
    assert_eq!(
        at("latency", "service:accounting").as_deref(),
        Some("slow-ledger")
    );
    assert_eq!(
        at("errors", "service:payment-engine").as_deref(),
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
