//! Typed plan steps ("actions"). Each one says what it changes; its undo is to put back the
//! state read before it (every executor records that `before`). String fields may hold
//! `{target}`, `{target_kind}` and `{label.NAME}`, filled from the trigger when a plan runs.

use crate::trigger::Trigger;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One change to a running system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Route a bank channel with `weight` (0 = fail it over to the other channels).
    ChannelWeight { bank: String, weight: u32 },
    /// Cap a resource (`service`, `service:operation`, `bank:NAME`) at `qps`.
    FlowLimit { resource: String, qps: f64 },
    /// Cap one value of a business key (`merchant`, `account`, `user`, `bank`, `scene`,
    /// `zone`) at `qps` on a resource; other values keep `others_qps`.
    ParamLimit {
        resource: String,
        param: String,
        value: String,
        qps: f64,
        others_qps: f64,
    },
    /// A circuit breaker: `grade` is `slow_call` (threshold = max RT ms), `error_ratio`
    /// (0..=1) or `error_count`; open for `window_s` seconds.
    CircuitBreaker {
        resource: String,
        grade: String,
        threshold: f64,
        window_s: i64,
    },
    /// Switch a degradable feature (`marketing`, `risk.async`) on or off.
    Degrade { feature: String, enabled: bool },
    /// Deploy `version` of `service`; no version = its built-in (last good) version.
    Rollback {
        service: String,
        version: Option<String>,
    },
    /// Move `fraction` (0..=1) of zone `from`'s traffic to `to` (or to the other zones).
    ZoneShift {
        from: String,
        to: Option<String>,
        fraction: f64,
        stage: String,
    },
    /// Set the ledger's posting strategy (`lock`, `buffered`, `split`) for an account.
    LedgerStrategy { account: String, strategy: String },
    /// POST to a webhook (the generic executor); `body` is sent as `params`.
    Call { name: String, body: Value },
    /// Take one instance (`payment-engine-2`) out of its service's routing; the other
    /// instances of the service take its calls. Refused when the instance's service would
    /// then have more than `max_per_service` (default 1) instances isolated.
    Isolate {
        instance: String,
        #[serde(default = "one")]
        max_per_service: u32,
    },
    /// Resize a service's connection/worker pool to `size`.
    PoolSize { service: String, size: u32 },
    /// Switch the ledger database over: the standby becomes the primary.
    LedgerSwitchover {},
    /// Business-aware degrade of the synchronous risk check: payments below `below_cents`
    /// skip it (each skipped check recorded for later review); larger ones are checked.
    RiskSkip { below_cents: i64 },
    /// Revert `service`'s config to its last good one (an operator's config push broke
    /// it). Its undo leaves the revert in place: a broken config is never put back.
    ConfigRevert { service: String },
}

/// The largest cap a `risk_skip` step may set (100,000 yuan).
pub const MAX_RISK_SKIP_CENTS: i64 = 10_000_000;

/// The largest pool a `pool_size` step may ask for.
pub const MAX_POOL: u32 = 4096;

fn one() -> u32 {
    1
}

impl Action {
    /// The thing it changes, e.g. `channel:icbc`, `flow:trade`; two plans never run on one.
    pub fn resource(&self) -> String {
        match self {
            Action::ChannelWeight { bank, .. } => format!("channel:{bank}"),
            Action::FlowLimit { resource, .. } => format!("flow:{resource}"),
            Action::ParamLimit {
                resource, param, ..
            } => format!("param:{resource}:{param}"),
            Action::CircuitBreaker { resource, .. } => format!("breaker:{resource}"),
            Action::Degrade { feature, .. } => format!("switch:{feature}"),
            Action::Rollback { service, .. } => format!("version:{service}"),
            Action::ZoneShift { from, .. } => format!("zone:{from}"),
            Action::LedgerStrategy { account, .. } => format!("ledger:{account}"),
            Action::Call { name, .. } => format!("call:{name}"),
            Action::Isolate { instance, .. } => format!("instance:{instance}"),
            Action::PoolSize { service, .. } => format!("pool:{service}"),
            Action::LedgerSwitchover {} => "ledger-db".into(),
            Action::RiskSkip { .. } => "risk:sync".into(),
            Action::ConfigRevert { service } => format!("config:{service}"),
        }
    }

    /// A one-line description for timelines and drill output.
    pub fn describe(&self) -> String {
        match self {
            Action::ChannelWeight { bank, weight } => format!("channel {bank} weight {weight}"),
            Action::FlowLimit { resource, qps } => format!("flow limit {resource} {qps} qps"),
            Action::ParamLimit {
                resource,
                param,
                value,
                qps,
                ..
            } => {
                format!("hot-param limit {resource} {param}={value} {qps} qps")
            }
            Action::CircuitBreaker {
                resource,
                grade,
                threshold,
                window_s,
            } => {
                format!("breaker {resource} {grade}>{threshold} open {window_s}s")
            }
            Action::Degrade { feature, enabled } => {
                format!(
                    "switch {feature} {}",
                    if *enabled { "on" } else { "off (degraded)" }
                )
            }
            Action::Rollback { service, version } => {
                format!(
                    "roll {service} back to {}",
                    version.as_deref().unwrap_or("its last good version")
                )
            }
            Action::ZoneShift {
                from, to, stage, ..
            } => {
                format!(
                    "shift {stage} of zone {from} to {}",
                    to.as_deref().unwrap_or("the other zones")
                )
            }
            Action::LedgerStrategy { account, strategy } => format!("ledger {account} {strategy}"),
            Action::Call { name, .. } => format!("call {name}"),
            Action::Isolate { instance, .. } => format!("isolate instance {instance}"),
            Action::PoolSize { service, size } => format!("pool {service} size {size}"),
            Action::LedgerSwitchover {} => "switch the ledger db over to its standby".into(),
            Action::RiskSkip { below_cents } => {
                format!("skip the sync risk check below {below_cents} cents (recorded for review)")
            }
            Action::ConfigRevert { service } => {
                format!("revert {service}'s config to its last good one")
            }
        }
    }

    /// Checks the values a plan gave (numbers in range, names from the known sets).
    pub fn validate(&self) -> Result<(), String> {
        let pos = |what: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(format!("`{what}` must be a non-negative number"))
            }
        };
        match self {
            Action::FlowLimit { qps, .. } => pos("qps", *qps),
            Action::ParamLimit {
                qps,
                others_qps,
                param,
                ..
            } => {
                pos("qps", *qps)?;
                pos("others_qps", *others_qps)?;
                if !["user", "merchant", "account", "bank", "scene", "zone"]
                    .contains(&param.as_str())
                {
                    return Err(format!(
                        "`param` {param:?} is not one of user, merchant, account, bank, scene, zone"
                    ));
                }
                Ok(())
            }
            Action::CircuitBreaker {
                grade,
                threshold,
                window_s,
                ..
            } => {
                pos("threshold", *threshold)?;
                if !["slow_call", "error_ratio", "error_count"].contains(&grade.as_str()) {
                    return Err(format!(
                        "`grade` {grade:?} is not slow_call, error_ratio or error_count"
                    ));
                }
                if *window_s <= 0 {
                    return Err("`window_s` must be above 0".into());
                }
                Ok(())
            }
            Action::LedgerStrategy { strategy, .. }
                if !["lock", "buffered", "split"].contains(&strategy.as_str()) =>
            {
                Err(format!(
                    "`strategy` {strategy:?} is not lock, buffered or split"
                ))
            }
            Action::Isolate {
                instance,
                max_per_service,
            } => {
                if instance.trim().is_empty() {
                    return Err("`instance` must name an instance".into());
                }
                if *max_per_service == 0 {
                    return Err("`max_per_service` must be at least 1".into());
                }
                Ok(())
            }
            Action::PoolSize { service, size } => {
                if service.trim().is_empty() {
                    return Err("`service` must name a service".into());
                }
                if !(1..=MAX_POOL).contains(size) {
                    return Err(format!("`size` must be in 1..={MAX_POOL}"));
                }
                Ok(())
            }
            Action::ConfigRevert { service } if service.trim().is_empty() => {
                Err("`service` must name a service".into())
            }
            Action::RiskSkip { below_cents } => {
                if !(1..=MAX_RISK_SKIP_CENTS).contains(below_cents) {
                    return Err(format!(
                        "`below_cents` must be in 1..={MAX_RISK_SKIP_CENTS}"
                    ));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Fills `{target}`, `{target_kind}` and `{label.NAME}` in every string field.
    pub fn instantiate(&self, t: &Trigger) -> Result<Action, String> {
        let mut v = serde_json::to_value(self).expect("actions serialize");
        fill(&mut v, t)?;
        let a: Action = serde_json::from_value(v).map_err(|e| e.to_string())?;
        a.validate()?;
        Ok(a)
    }
}

fn fill(v: &mut Value, t: &Trigger) -> Result<(), String> {
    match v {
        Value::String(s) => *s = substitute(s, Some(t))?,
        Value::Array(a) => a.iter_mut().try_for_each(|x| fill(x, t))?,
        Value::Object(o) => o.values_mut().try_for_each(|x| fill(x, t))?,
        _ => {}
    }
    Ok(())
}

/// Replaces the `{…}` variables; with no trigger, only checks they are known names.
pub fn substitute(s: &str, t: Option<&Trigger>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let j = rest[i..]
            .find('}')
            .ok_or_else(|| format!("unclosed `{{` in `{s}`"))?;
        let var = &rest[i + 1..i + j];
        let val = match (var, t) {
            ("target", Some(t)) => t.target_name().to_string(),
            ("target_kind", Some(t)) => t.target_kind().to_string(),
            ("target" | "target_kind", None) => String::new(),
            (l, Some(t)) if l.starts_with("label.") => t
                .labels
                .get(&l[6..])
                .cloned()
                .ok_or_else(|| format!("the trigger has no label `{}`", &l[6..]))?,
            (l, None) if l.starts_with("label.") && l.len() > 6 => String::new(),
            _ => {
                return Err(format!(
                    "unknown variable `{{{var}}}` (use target, target_kind, label.NAME)"
                ))
            }
        };
        out.push_str(&val);
        rest = &rest[i + j + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Checks that every string field uses only known variables.
pub fn check_vars(v: &Value) -> Result<(), String> {
    match v {
        Value::String(s) => substitute(s, None).map(|_| ()),
        Value::Array(a) => a.iter().try_for_each(check_vars),
        Value::Object(o) => o.values().try_for_each(check_vars),
        _ => Ok(()),
    }
}
