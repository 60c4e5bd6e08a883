//! Objectives from TOML: per service, per scene (measured at its entry
//! service), per external dependency (a bank channel, with its layers), the
//! budget period, the business codes that never count against a budget, and
//! the burn-rate policies (the SRE workbook table by default, windows down to
//! seconds). `deny_unknown_fields` everywhere; every error names the field.

use crate::duration::parse_secs;
use crate::error::SlaError;
use serde::Deserialize;
use std::collections::BTreeSet;

/// The objectives file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ObjectivesFile {
    /// Error-budget period (default `30d`).
    #[serde(default)]
    pub budget_period: Option<String>,
    /// Window of the bank layer check (default `5m`).
    #[serde(default)]
    pub layer_window: Option<String>,
    /// Codes of business refusals (insufficient funds, declines) that are
    /// answers, not failures: they never burn a budget.
    #[serde(default)]
    pub business_codes: Option<Vec<String>>,
    #[serde(default)]
    pub burn: Vec<BurnPolicyFile>,
    #[serde(default)]
    pub service: Vec<ServiceFile>,
    #[serde(default)]
    pub scene: Vec<SceneFile>,
    #[serde(default)]
    pub bank: Vec<BankFile>,
}

/// `[[burn]]`: alert when the burn rate is at least `factor` over both windows.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BurnPolicyFile {
    pub name: String,
    pub factor: f64,
    pub long: String,
    pub short: String,
    #[serde(default = "default_severity")]
    pub severity: String,
}

fn default_severity() -> String {
    "page".into()
}

/// `[[service]]`; `name = "*"` is the objective every service that shows up gets unless it
/// has its own (`warroom serve`'s default: a platform's services are not known in advance).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServiceFile {
    pub name: String,
    /// Only this operation (default: all of the service's server calls).
    #[serde(default)]
    pub operation: Option<String>,
    /// Share of calls that must succeed, e.g. 0.999.
    pub availability: f64,
    /// A call is slow at or above this.
    #[serde(default)]
    pub latency_ms: Option<f64>,
    /// Share of calls that must be faster than `latency_ms` (default 0.99).
    #[serde(default)]
    pub latency_target: Option<f64>,
}

/// `[[scene]]`: measured on the scene's server calls at its entry service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SceneFile {
    pub name: String,
    /// The service that takes the scene's payments in (default `cashier`).
    #[serde(default)]
    pub entry: Option<String>,
    pub availability: f64,
    #[serde(default)]
    pub latency_ms: Option<f64>,
    #[serde(default)]
    pub latency_target: Option<f64>,
}

/// `[[bank]]`: an external dependency, judged layer by layer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BankFile {
    pub name: String,
    /// Only calls from this service (default: any caller).
    #[serde(default)]
    pub caller: Option<String>,
    /// Minimum share of calls that reach the bank.
    #[serde(default)]
    pub reachable: Option<f64>,
    /// Minimum share of reached calls the bank answers without a system error.
    #[serde(default)]
    pub available: Option<f64>,
    /// Minimum share of answered calls within `timeout_ms`.
    #[serde(default)]
    pub within_timeout: Option<f64>,
    #[serde(default)]
    pub timeout_ms: Option<f64>,
    /// The contract: minimum success ratio …
    #[serde(default)]
    pub success_ratio: Option<f64>,
    /// … and p99 latency.
    #[serde(default)]
    pub p99_ms: Option<f64>,
    #[serde(default)]
    pub unreachable_codes: Option<Vec<String>>,
    #[serde(default)]
    pub unavailable_codes: Option<Vec<String>>,
    #[serde(default)]
    pub timeout_codes: Option<Vec<String>>,
}

/// What an objective is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectiveKind {
    Service,
    Scene,
    Bank,
}

/// A bank's layer settings.
#[derive(Debug, Clone, PartialEq)]
pub struct BankSpec {
    pub caller: Option<String>,
    pub reachable: f64,
    pub available: f64,
    pub within_timeout: f64,
    pub timeout_us: u64,
    pub success_ratio: f64,
    pub p99_us: u64,
    pub unreachable_codes: BTreeSet<String>,
    pub unavailable_codes: BTreeSet<String>,
    pub timeout_codes: BTreeSet<String>,
}

/// One checked objective.
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    /// `service:trade`, `scene:quick_pay`, `bank:bank-a`.
    pub id: String,
    pub kind: ObjectiveKind,
    pub name: String,
    /// Service (for scenes: the entry service) whose calls are counted.
    pub service: String,
    pub operation: Option<String>,
    pub availability: f64,
    pub latency_us: Option<u64>,
    pub latency_target: f64,
    pub bank: Option<BankSpec>,
}

/// A checked burn-rate policy.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BurnPolicy {
    pub name: String,
    pub factor: f64,
    pub long_s: u64,
    pub short_s: u64,
    pub severity: String,
}

/// Everything checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Objectives {
    pub budget_period_s: u64,
    pub layer_window_s: u64,
    pub business_codes: BTreeSet<String>,
    pub burn: Vec<BurnPolicy>,
    pub objectives: Vec<Objective>,
    /// The `[[service]] name = "*"` objective, given to every service that shows up without
    /// one of its own (its `name` and `service` are `*` until then).
    pub every_service: Option<Objective>,
}

/// Most services the `*` objective is given to (a bound on memory; later ones are counted).
pub const MAX_DISCOVERED: usize = 512;

/// The objectives `warroom serve` starts with: 99.9 % availability for every service that
/// shows up.
const DISCOVERING: &str = "[[service]]\nname = \"*\"\navailability = 0.999\n";

/// The default objectives for payments-sim (shipped in the crate).
pub(crate) const DEFAULT_OBJECTIVES: &str = include_str!("../objectives.toml");

fn codes(v: Option<Vec<String>>, default: &[&str]) -> BTreeSet<String> {
    v.unwrap_or_else(|| default.iter().map(|s| s.to_string()).collect())
        .into_iter()
        .collect()
}

fn ratio(v: f64, field: &str) -> Result<f64, SlaError> {
    if v > 0.0 && v < 1.0 {
        Ok(v)
    } else {
        Err(SlaError::Config(format!(
            "{field}: {v} must be a ratio strictly between 0 and 1 (e.g. 0.999)"
        )))
    }
}

fn ms(v: f64, field: &str) -> Result<u64, SlaError> {
    if v.is_finite() && v > 0.0 && v < 3.6e6 {
        Ok((v * 1000.0) as u64)
    } else {
        Err(SlaError::Config(format!(
            "{field}: {v} must be milliseconds > 0"
        )))
    }
}

impl Objectives {
    /// Parses and checks an objectives file.
    pub fn from_toml(text: &str) -> Result<Self, SlaError> {
        let f: ObjectivesFile = toml::from_str(text)
            .map_err(|e| SlaError::Config(e.to_string().lines().collect::<Vec<_>>().join(" ")))?;
        Self::check(f)
    }

    /// 99.9 % availability for every service that shows up (a platform's services are
    /// discovered from what arrives).
    pub fn discovering() -> Self {
        Self::from_toml(DISCOVERING).expect("the discovering objectives are valid")
    }

    /// The `*` objective made for `service`.
    pub fn for_service(&self, service: &str) -> Option<Objective> {
        let t = self.every_service.as_ref()?;
        Some(Objective {
            id: format!("service:{service}"),
            name: service.to_string(),
            service: service.to_string(),
            ..t.clone()
        })
    }

    /// The shipped defaults for payments-sim.
    pub fn payments_sim_defaults() -> Self {
        Self::from_toml(DEFAULT_OBJECTIVES).expect("shipped objectives are valid")
    }

    pub(crate) fn check(f: ObjectivesFile) -> Result<Self, SlaError> {
        let budget_period_s =
            parse_secs(f.budget_period.as_deref().unwrap_or("30d"), "budget_period")?;
        let layer_window_s = parse_secs(f.layer_window.as_deref().unwrap_or("5m"), "layer_window")?;
        let business_codes = codes(
            f.business_codes,
            &[
                "INSUFFICIENT_FUNDS",
                "BALANCE_NOT_ENOUGH",
                "BANK_DECLINED",
                "RISK_REJECTED",
                "RISK_REVIEW",
                "RISK_AMOUNT_LIMIT",
                "INVALID_AMOUNT",
                "DUPLICATE_ORDER",
            ],
        );
        let mut burn = Vec::new();
        let policies = if f.burn.is_empty() {
            vec![
                ("page-1h", 14.4, "1h", "5m", "page"),
                ("page-6h", 6.0, "6h", "30m", "page"),
                ("ticket-3d", 1.0, "3d", "6h", "ticket"),
            ]
            .into_iter()
            .map(|(n, fa, l, s, sev)| BurnPolicyFile {
                name: n.into(),
                factor: fa,
                long: l.into(),
                short: s.into(),
                severity: sev.into(),
            })
            .collect()
        } else {
            f.burn
        };
        for (i, p) in policies.into_iter().enumerate() {
            let at = format!("burn[{i}]");
            let long_s = parse_secs(&p.long, &format!("{at}.long"))?;
            let short_s = parse_secs(&p.short, &format!("{at}.short"))?;
            if short_s >= long_s {
                return Err(SlaError::Config(format!(
                    "{at}.short: must be shorter than long"
                )));
            }
            if !(p.factor.is_finite() && p.factor > 0.0) {
                return Err(SlaError::Config(format!("{at}.factor: must be > 0")));
            }
            if p.name.trim().is_empty() {
                return Err(SlaError::Config(format!("{at}.name: empty")));
            }
            burn.push(BurnPolicy {
                name: p.name,
                factor: p.factor,
                long_s,
                short_s,
                severity: p.severity,
            });
        }
        let mut objectives = Vec::new();
        let mut every_service = None;
        let mut ids = BTreeSet::new();
        let mut push = |o: Objective, at: &str| -> Result<(), SlaError> {
            if o.name.trim().is_empty() {
                return Err(SlaError::Config(format!("{at}.name: empty")));
            }
            if !ids.insert(o.id.clone()) {
                return Err(SlaError::Config(format!(
                    "{at}.name: {} is defined twice",
                    o.id
                )));
            }
            objectives.push(o);
            Ok(())
        };
        for (i, s) in f.service.into_iter().enumerate() {
            let at = format!("service[{i}]");
            let id = match &s.operation {
                Some(op) => format!("service:{}:{op}", s.name),
                None => format!("service:{}", s.name),
            };
            let o = Objective {
                id,
                kind: ObjectiveKind::Service,
                service: s.name.clone(),
                operation: s.operation,
                availability: ratio(s.availability, &format!("{at}.availability"))?,
                latency_us: s
                    .latency_ms
                    .map(|v| ms(v, &format!("{at}.latency_ms")))
                    .transpose()?,
                latency_target: ratio(
                    s.latency_target.unwrap_or(0.99),
                    &format!("{at}.latency_target"),
                )?,
                bank: None,
                name: s.name,
            };
            if o.name == "*" {
                if o.operation.is_some() {
                    return Err(SlaError::Config(format!(
                        "{at}.operation: the `*` objective covers whole services"
                    )));
                }
                if every_service.replace(o).is_some() {
                    return Err(SlaError::Config(format!("{at}.name: `*` is defined twice")));
                }
                continue;
            }
            push(o, &at)?;
        }
        for (i, s) in f.scene.into_iter().enumerate() {
            let at = format!("scene[{i}]");
            let o = Objective {
                id: format!("scene:{}", s.name),
                kind: ObjectiveKind::Scene,
                service: s.entry.unwrap_or_else(|| "cashier".into()),
                operation: None,
                availability: ratio(s.availability, &format!("{at}.availability"))?,
                latency_us: s
                    .latency_ms
                    .map(|v| ms(v, &format!("{at}.latency_ms")))
                    .transpose()?,
                latency_target: ratio(
                    s.latency_target.unwrap_or(0.99),
                    &format!("{at}.latency_target"),
                )?,
                bank: None,
                name: s.name,
            };
            push(o, &at)?;
        }
        for (i, b) in f.bank.into_iter().enumerate() {
            let at = format!("bank[{i}]");
            let spec = BankSpec {
                caller: b.caller,
                reachable: ratio(b.reachable.unwrap_or(0.999), &format!("{at}.reachable"))?,
                available: ratio(b.available.unwrap_or(0.995), &format!("{at}.available"))?,
                within_timeout: ratio(
                    b.within_timeout.unwrap_or(0.99),
                    &format!("{at}.within_timeout"),
                )?,
                timeout_us: ms(b.timeout_ms.unwrap_or(3000.0), &format!("{at}.timeout_ms"))?,
                success_ratio: ratio(
                    b.success_ratio.unwrap_or(0.98),
                    &format!("{at}.success_ratio"),
                )?,
                p99_us: ms(b.p99_ms.unwrap_or(1500.0), &format!("{at}.p99_ms"))?,
                unreachable_codes: codes(
                    b.unreachable_codes,
                    &[
                        "BANK_UNREACHABLE",
                        "CONNECT_ERROR",
                        "CONNECT_TIMEOUT",
                        "RPC_UNREACHABLE",
                    ],
                ),
                unavailable_codes: codes(
                    b.unavailable_codes,
                    &[
                        "BANK_UNAVAILABLE",
                        "BANK_ERROR",
                        "BANK_SYSTEM_ERROR",
                        "SYSTEM_ERROR",
                    ],
                ),
                timeout_codes: codes(b.timeout_codes, &["BANK_TIMEOUT", "TIMEOUT"]),
            };
            let o = Objective {
                id: format!("bank:{}", b.name),
                kind: ObjectiveKind::Bank,
                service: spec.caller.clone().unwrap_or_default(),
                operation: None,
                availability: spec.available,
                latency_us: Some(spec.p99_us),
                latency_target: 0.99,
                bank: Some(spec),
                name: b.name,
            };
            push(o, &at)?;
        }
        Ok(Self {
            budget_period_s,
            layer_window_s,
            business_codes,
            burn,
            objectives,
            every_service,
        })
    }

    /// The longest span any evaluation needs, in seconds.
    pub(crate) fn longest_s(&self) -> u64 {
        self.burn
            .iter()
            .map(|p| p.long_s)
            .chain([self.budget_period_s, self.layer_window_s])
            .max()
            .unwrap_or(3600)
    }
}
