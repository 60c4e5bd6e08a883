//! Scenarios off the catalogue (`warroom drill --scenario KIND`, `--compound N`): faults as
//! real incidents come — a whole service in trouble, two independent faults at once, a
//! cascade whose loudest symptom is not its cause, a fault that ramps up, one confined to a
//! scene, a channel, a merchant group or to shadow traffic, an operator's config push, a
//! fault that flaps. Each scenario is the fault specs payments-sim is given and its ground
//! truth: every root cause a correct diagnosis must name.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::{json, Value};

/// The kinds of scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScenarioKind {
    ServiceWide,
    TwoFaults,
    Cascade,
    Ramp,
    Partial,
    ConfigPush,
    Flapping,
}

impl ScenarioKind {
    /// Every kind `--compound` draws from.
    pub const ALL: [ScenarioKind; 7] = [
        Self::ServiceWide,
        Self::TwoFaults,
        Self::Cascade,
        Self::Ramp,
        Self::Partial,
        Self::ConfigPush,
        Self::Flapping,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ServiceWide => "service-wide",
            Self::TwoFaults => "two-faults",
            Self::Cascade => "cascade",
            Self::Ramp => "ramp",
            Self::Partial => "partial",
            Self::ConfigPush => "config-push",
            Self::Flapping => "flapping",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One root cause of a scenario, as payments-sim names its fault (`analyzer::verdict`
/// matches a diagnosis against it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Root {
    pub kind: String,
    pub target: String,
}

/// A scenario: what to inject and what a correct diagnosis names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    pub kind: ScenarioKind,
    /// What the scenario is, in words (`latency on every instance of risk`).
    pub title: String,
    /// The fault specs for `/control/faults` (payments-sim's JSON form).
    #[serde(skip)]
    pub faults: Vec<Value>,
    /// Every root cause (empty for a shadow-only fault: real traffic has nothing to heal).
    pub roots: Vec<Root>,
    /// The fault touches only shadow (stress-test) traffic: no action on real traffic may
    /// follow.
    pub shadow_only: bool,
}

/// Services a whole-service fault may hit (the payment path's own services).
const SERVICES: &[&str] = &["trade", "payment", "risk", "payment-engine", "accounting"];
const BANKS: &[&str] = &["bank-a", "bank-b", "bank-c"];
const ZONES: &[&str] = &["zone-a", "zone-b"];
const RELEASE: &[&str] = &["payment", "trade", "payment-engine", "risk"];
const SCENES: &[&str] = &["quick_pay", "scan_pay", "bill_pay"];
const CHANNELS: &[&str] = &["SDK", "WAP"];

fn pick<'a>(xs: &[&'a str], r: &mut SmallRng) -> &'a str {
    xs[r.random_range(0..xs.len())]
}

fn root(kind: &str, target: &str) -> Root {
    Root {
        kind: kind.into(),
        target: target.into(),
    }
}

fn spec(kind: &str, target: &str) -> Value {
    json!({"kind": kind, "target": target})
}

impl Scenario {
    /// A scenario of `kind`; `target` picks its (first) target, else the seeded generator.
    pub fn new(kind: ScenarioKind, target: Option<&str>, r: &mut SmallRng) -> Scenario {
        let t = |xs: &[&'static str], r: &mut SmallRng| {
            target
                .map(str::to_string)
                .unwrap_or_else(|| pick(xs, r).to_string())
        };
        match kind {
            ScenarioKind::ServiceWide => {
                let svc = t(SERVICES, r);
                let what = ["latency", "errors", "timeout"][r.random_range(0..3)];
                Scenario {
                    kind,
                    title: format!("{what} on every instance of {svc}"),
                    faults: vec![spec(what, &svc)],
                    roots: vec![root(what, &svc)],
                    shadow_only: false,
                }
            }
            ScenarioKind::TwoFaults => {
                if r.random_bool(0.5) {
                    let bank = t(BANKS, r);
                    Scenario {
                        kind,
                        title: format!("{bank} down and a hot merchant at once"),
                        faults: vec![spec("bank-outage", &bank), spec("hot-merchant", "m-hot")],
                        roots: vec![root("bank-outage", &bank), root("hot-merchant", "m-hot")],
                        shadow_only: false,
                    }
                } else {
                    let zone = t(ZONES, r);
                    let svc = pick(RELEASE, r);
                    Scenario {
                        kind,
                        title: format!("{zone} down and a bad release of {svc} at once"),
                        faults: vec![spec("zone-outage", &zone), spec("bad-release", svc)],
                        roots: vec![root("zone-outage", &zone), root("bad-release", svc)],
                        shadow_only: false,
                    }
                }
            }
            ScenarioKind::Cascade => {
                if r.random_bool(0.5) {
                    let bank = t(BANKS, r);
                    Scenario {
                        kind,
                        title: format!("{bank} slow enough to pile up the bank gateway"),
                        faults: vec![
                            json!({"kind": "latency", "target": format!("bank:{bank}"), "delay_ms": 1500}),
                        ],
                        roots: vec![root("latency", &format!("bank:{bank}"))],
                        shadow_only: false,
                    }
                } else {
                    Scenario {
                        kind,
                        title: "accounting slow enough to exhaust payment-engine's pool".into(),
                        faults: vec![
                            json!({"kind": "latency", "target": "accounting", "delay_ms": 800}),
                        ],
                        roots: vec![root("latency", "accounting")],
                        shadow_only: false,
                    }
                }
            }
            ScenarioKind::Ramp => {
                let svc = t(SERVICES, r);
                let what = if r.random_bool(0.5) {
                    "latency"
                } else {
                    "errors"
                };
                Scenario {
                    kind,
                    title: format!("{what} on {svc} growing over a minute"),
                    faults: vec![json!({"kind": what, "target": svc, "ramp_s": 60})],
                    roots: vec![root(what, &svc)],
                    shadow_only: false,
                }
            }
            ScenarioKind::Partial => match r.random_range(0..4) {
                0 => {
                    let scene = pick(SCENES, r);
                    let svc = t(&["trade", "payment", "payment-engine"], r);
                    Scenario {
                        kind,
                        title: format!("errors on {svc} for scene {scene} only"),
                        faults: vec![
                            json!({"kind": "errors", "target": svc, "scene": scene, "rate": 0.6}),
                        ],
                        roots: vec![root("errors", &svc)],
                        shadow_only: false,
                    }
                }
                1 => {
                    let channel = pick(CHANNELS, r);
                    let svc = t(&["trade", "payment", "payment-engine"], r);
                    Scenario {
                        kind,
                        title: format!("errors on {svc} for channel {channel} only"),
                        faults: vec![
                            json!({"kind": "errors", "target": svc, "channel": channel, "rate": 0.6}),
                        ],
                        roots: vec![root("errors", &svc)],
                        shadow_only: false,
                    }
                }
                2 => {
                    let bank = t(BANKS, r);
                    Scenario {
                        kind,
                        title: format!("{bank} failing for a merchant group only"),
                        faults: vec![
                            json!({"kind": "bank-outage", "target": bank, "merchants": "m-1"}),
                        ],
                        roots: vec![root("bank-outage", &bank)],
                        shadow_only: false,
                    }
                }
                _ => {
                    let svc = t(&["accounting", "payment-engine", "trade"], r);
                    Scenario {
                        kind,
                        title: format!("errors on {svc} for shadow traffic only"),
                        faults: vec![
                            json!({"kind": "errors", "target": svc, "shadow_only": true, "rate": 0.8}),
                        ],
                        roots: Vec::new(),
                        shadow_only: true,
                    }
                }
            },
            ScenarioKind::ConfigPush => {
                let svc = t(RELEASE, r);
                Scenario {
                    kind,
                    title: format!("an operator's config push breaks {svc}"),
                    faults: vec![spec("config-push", &svc)],
                    roots: vec![root("config-push", &svc)],
                    shadow_only: false,
                }
            }
            ScenarioKind::Flapping => {
                let bank = t(BANKS, r);
                Scenario {
                    kind,
                    title: format!("{bank} failing on and off every few seconds"),
                    faults: vec![
                        json!({"kind": "bank-outage", "target": bank, "flap_on_s": 4, "flap_off_s": 4}),
                    ],
                    roots: vec![root("bank-outage", &bank)],
                    shadow_only: false,
                }
            }
        }
    }
}

/// `n` random scenarios of every kind from `seed` (`warroom drill --compound`).
pub fn compound(n: usize, seed: u64) -> Vec<Scenario> {
    let mut r = SmallRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let kind = ScenarioKind::ALL[r.random_range(0..ScenarioKind::ALL.len())];
            Scenario::new(kind, None, &mut r)
        })
        .collect()
}

/// One scenario of `kind` (`--scenario KIND [--target T]`), seeded.
pub fn one(kind: ScenarioKind, target: Option<&str>, seed: u64) -> Scenario {
    Scenario::new(kind, target, &mut SmallRng::seed_from_u64(seed))
}
