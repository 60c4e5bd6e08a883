//! Which faults a drill injects: one per built-in plan (`--all`), a seeded
//! random pick of kind and target (`--random`), and the kinds with their
//! targets offered to the dashboard's drill screen. Specs are payments-sim's
//! `KIND[:TARGET]` syntax.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// A fault to inject: payments-sim kind and target (empty = its default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultPick {
    pub kind: String,
    pub target: String,
}

impl FaultPick {
    pub fn new(kind: &str, target: &str) -> Self {
        Self {
            kind: kind.into(),
            target: target.into(),
        }
    }
    /// The target as the drill reports it (payments-sim's default filled in).
    pub fn target_or_default(&self) -> String {
        if self.target.is_empty() {
            analyzer::verdict::default_target(&self.kind).to_string()
        } else {
            self.target.clone()
        }
    }
    /// `KIND[:TARGET]` for the control API.
    pub fn spec(&self) -> String {
        if self.target.is_empty() {
            self.kind.clone()
        } else {
            format!("{}:{}", self.kind, self.target)
        }
    }
}

/// Services a random fault may hit (the ones with their own behaviour to find).
const SERVICES: &[&str] = &[
    "payment-engine",
    "payment",
    "trade",
    "risk",
    "accounting",
    "bank-gateway",
];
const BANKS: &[&str] = &["bank-a", "bank-b", "bank-c"];
const ZONES: &[&str] = &["zone-a", "zone-b"];
const RELEASE: &[&str] = &["payment", "trade", "payment-engine", "risk"];

/// One drill per built-in plan's fault class (`warroom drill --all`).
pub fn all() -> Vec<FaultPick> {
    [
        ("bank-outage", "bank-b"),
        ("surge", "3"),
        ("hot-merchant", "m-hot"),
        ("bad-release", "payment"),
        ("zone-outage", "zone-b"),
        ("latency", "instance:payment-engine-2"),
        ("errors", "instance:risk-1"),
        ("pool-exhaustion", "accounting"),
        ("slow-ledger", ""),
    ]
    .iter()
    .map(|(k, t)| FaultPick::new(k, t))
    .collect()
}

/// `n` random single faults from `seed`: kind first, then a target.
pub fn random(n: usize, seed: u64) -> Vec<FaultPick> {
    let mut r = SmallRng::seed_from_u64(seed);
    (0..n)
        .map(|_| match r.random_range(0..10) {
            0 => FaultPick::new("bank-outage", &pick(BANKS, &mut r)),
            1 => FaultPick::new("latency", &service_or_instance(&mut r)),
            2 => FaultPick::new("errors", &service_or_instance(&mut r)),
            3 => {
                let t = if r.random_bool(0.5) {
                    format!("bank:{}", pick(BANKS, &mut r))
                } else {
                    pick(SERVICES, &mut r)
                };
                FaultPick::new(
                    if r.random_bool(0.5) {
                        "timeout"
                    } else {
                        "latency"
                    },
                    &t,
                )
            }
            4 => FaultPick::new("bad-release", &pick(RELEASE, &mut r)),
            5 => FaultPick::new("hot-merchant", "m-hot"),
            6 => FaultPick::new("zone-outage", &pick(ZONES, &mut r)),
            7 => FaultPick::new("surge", if r.random_bool(0.5) { "3" } else { "4" }),
            8 => FaultPick::new("pool-exhaustion", "accounting"),
            _ => FaultPick::new("slow-ledger", ""),
        })
        .collect()
}

/// A whole service, or one of its instances (`instance:NAME`), half and half.
fn service_or_instance(r: &mut SmallRng) -> String {
    let service = pick(SERVICES, r);
    if r.random_bool(0.5) {
        let n = r.random_range(1..=instance_count());
        format!("instance:{service}-{n}")
    } else {
        service
    }
}

/// Instances of each service under the default simulator config.
fn instance_count() -> u32 {
    let c = payments_sim::SimConfig::default();
    c.zones.len() as u32 * c.instances_per_zone
}

fn pick(xs: &[&str], r: &mut SmallRng) -> String {
    xs[r.random_range(0..xs.len())].to_string()
}

/// `[{fault, targets}]` for the dashboard's drill screen.
pub fn kinds_json() -> serde_json::Value {
    let svc: Vec<&str> = SERVICES.to_vec();
    let bank_targets: Vec<String> = BANKS.iter().map(|b| format!("bank:{b}")).collect();
    let mut lat: Vec<String> = svc.iter().map(|s| s.to_string()).collect();
    lat.extend(bank_targets.iter().cloned());
    lat.extend(
        svc.iter()
            .flat_map(|s| (1..=instance_count()).map(move |n| format!("instance:{s}-{n}"))),
    );
    serde_json::json!([
        {"fault": "bank-outage", "targets": BANKS},
        {"fault": "latency", "targets": lat},
        {"fault": "errors", "targets": lat},
        {"fault": "timeout", "targets": lat},
        {"fault": "bad-release", "targets": RELEASE},
        {"fault": "hot-merchant", "targets": ["m-hot"]},
        {"fault": "zone-outage", "targets": ZONES},
        {"fault": "surge", "targets": ["2", "3", "4"]},
        {"fault": "pool-exhaustion", "targets": ["accounting"]},
        {"fault": "slow-ledger", "targets": []},
    ])
}
