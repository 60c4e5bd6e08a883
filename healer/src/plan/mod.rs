//! Contingency plans in TOML: a trigger, guards, an approval mode, typed steps (each
//! undoable; a `zone_shift` runs stage by stage) and a verification window. Parsing is
//! strict (`deny_unknown_fields`) and every error names the plan and the field or step.

pub mod action;
pub mod builtin;

pub use action::Action;
pub use builtin::builtin_plans;

use crate::error::{plan_err, HealerError};
use crate::executor::ExecutorKind;
use crate::trigger::Trigger;
use digest::Micros;
use serde::{Deserialize, Serialize};

/// Who lets a plan act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalMode {
    /// Act at once.
    Auto,
    /// Wait for a commander's approve/reject (escalate on timeout).
    Commander,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TriggerConfig {
    /// One diagnosis kind, or a list of them (`["latency", "errors"]`).
    kind: Option<toml::Value>,
    target: Option<String>,
    /// Targets the plan never acts on, as globs (e.g. the entry service).
    #[serde(default)]
    exclude: Vec<String>,
    /// Labels the trigger must carry with these values (`{ change = "config" }`).
    #[serde(default)]
    labels: std::collections::BTreeMap<String, String>,
    alert: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FreezeWindow {
    from: String,
    to: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GuardsConfig {
    max_runs_per_hour: Option<u32>,
    blast_radius: Option<usize>,
    #[serde(default)]
    freeze: Vec<FreezeWindow>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApprovalConfig {
    mode: Option<ApprovalMode>,
    timeout_s: Option<f64>,
    escalate_to: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyConfig {
    within_s: Option<f64>,
    stage_hold_s: Option<f64>,
    /// Recovered when payments are (a degrade spares users from a part still broken).
    #[serde(default)]
    mitigates: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanConfig {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    priority: i32,
    trigger: TriggerConfig,
    #[serde(default)]
    guards: GuardsConfig,
    #[serde(default)]
    approval: ApprovalConfig,
    #[serde(default)]
    verify: VerifyConfig,
    steps: Vec<toml::Table>,
}

/// What a plan answers to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriggerSpec {
    /// The diagnosis kinds it answers (any of them); empty for an alert plan.
    pub kinds: Vec<String>,
    /// Glob over `KIND:NAME`, e.g. `bank:*`.
    pub target: Option<String>,
    /// Globs over `KIND:NAME` the plan never answers, e.g. `service:cashier`
    /// (a breaker on the entry would refuse every payment).
    pub exclude: Vec<String>,
    /// Labels the trigger must carry with exactly these values, e.g. `change =
    /// "config"` (the blamed change was a config push, not a deploy).
    pub labels: std::collections::BTreeMap<String, String>,
    pub alert: Option<String>,
}

/// Limits on when and how far a plan may act.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Guards {
    /// At most this many runs of the plan in any hour.
    pub max_runs_per_hour: u32,
    /// At most this many distinct resources changed by one run.
    pub blast_radius: usize,
    /// Change freezes `[from, to)`: an `auto` plan needs a commander inside one.
    pub freeze: Vec<(Micros, Micros)>,
}

/// One step: an action (or, for a zone shift, one action per stage) and who executes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub name: String,
    pub executor: ExecutorKind,
    /// One action; several for a stepwise step, applied in order with a verification each.
    pub stages: Vec<Action>,
}

/// A validated plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub name: String,
    pub description: String,
    pub priority: i32,
    pub trigger: TriggerSpec,
    pub guards: Guards,
    /// `None`: `commander` for core services, else `auto`.
    pub approval: Option<ApprovalMode>,
    pub approval_timeout_us: u64,
    pub escalate_to: String,
    pub verify_within_us: u64,
    pub stage_hold_us: u64,
    /// `[verify] mitigates = true`: the run has recovered once payments have (failed
    /// payments back to their normal rate, [`crate::Probe::payments_recovered`]), although
    /// the analyzer still names the target — a degrade that spares users from a part that
    /// is still broken. Otherwise only when the condition cleared.
    pub verify_mitigates: bool,
    pub steps: Vec<Step>,
}

impl Plan {
    /// Whether this plan may act on `t`'s target at all: a diagnosis plan whose target
    /// glob accepts it and whose excludes do not (what a commander may choose from).
    pub fn fits_target(&self, t: &Trigger) -> bool {
        self.trigger.alert.is_none()
            && self.labels_match(t)
            && self
                .trigger
                .target
                .as_deref()
                .is_none_or(|g| glob(g, &t.target))
            && !self.trigger.exclude.iter().any(|g| glob(g, &t.target))
    }

    /// Does `t` carry every label the plan's trigger asks for, with its value?
    fn labels_match(&self, t: &Trigger) -> bool {
        self.trigger
            .labels
            .iter()
            .all(|(k, v)| t.labels.get(k) == Some(v))
    }

    /// Whether this plan answers `t` (an alert plan matches the alert name; a diagnosis
    /// plan matches the kind and the target glob).
    pub fn matches(&self, t: &Trigger) -> bool {
        if let Some(a) = &self.trigger.alert {
            return t.alert.as_deref() == Some(a.as_str());
        }
        self.trigger.kinds.contains(&t.kind)
            && self.labels_match(t)
            && self
                .trigger
                .target
                .as_deref()
                .is_none_or(|g| glob(g, &t.target))
            && !self.trigger.exclude.iter().any(|g| glob(g, &t.target))
    }
}

fn secs(plan: &str, field: &str, v: Option<f64>, default: f64) -> Result<u64, HealerError> {
    let s = v.unwrap_or(default);
    if !(s.is_finite() && s > 0.0 && s <= 86_400.0) {
        return Err(plan_err(plan, field, "must be seconds in (0, 86400]"));
    }
    Ok((s * 1e6) as u64)
}

/// `kind = "latency"` or `kind = ["latency", "errors"]`: non-empty names, no repeats.
fn trigger_kinds(plan: &str, v: &toml::Value) -> Result<Vec<String>, HealerError> {
    let list: Vec<&toml::Value> = match v {
        toml::Value::Array(a) => a.iter().collect(),
        one => vec![one],
    };
    if list.is_empty() {
        return Err(plan_err(plan, "trigger.kind", "the list of kinds is empty"));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, k) in list.into_iter().enumerate() {
        let at = if v.is_array() {
            format!("trigger.kind[{i}]")
        } else {
            "trigger.kind".into()
        };
        match k.as_str().map(str::trim) {
            Some(s) if !s.is_empty() && !out.iter().any(|o| o == s) => out.push(s.into()),
            Some("") => return Err(plan_err(plan, at, "a kind must not be empty")),
            Some(s) => return Err(plan_err(plan, at, format!("`{s}` is listed twice"))),
            None => {
                return Err(plan_err(
                    plan,
                    at,
                    "must be a diagnosis kind (a string) or a list of them",
                ))
            }
        }
    }
    Ok(out)
}

/// Parses a zone-shift stage: `whitelist` (test users only), `1/256`, `0.25`, `all`.
fn stage_fraction(s: &str) -> Option<f64> {
    let f = match s {
        "whitelist" => 0.0,
        "all" => 1.0,
        _ => match s.split_once('/') {
            Some((a, b)) => a.trim().parse::<f64>().ok()? / b.trim().parse::<f64>().ok()?,
            None => s.parse().ok()?,
        },
    };
    (f.is_finite() && (0.0..=1.0).contains(&f)).then_some(f)
}

const ACTIONS: [&str; 14] = [
    "channel_weight",
    "flow_limit",
    "param_limit",
    "circuit_breaker",
    "degrade",
    "rollback",
    "zone_shift",
    "ledger_strategy",
    "call",
    "isolate",
    "pool_size",
    "ledger_switchover",
    "risk_skip",
    "config_revert",
];

fn parse_step(plan: &str, i: usize, mut t: toml::Table) -> Result<Step, HealerError> {
    let at = |f: &str| format!("steps[{i}]{f}");
    let name = match t.remove("name") {
        None => None,
        Some(toml::Value::String(s)) => Some(s),
        Some(_) => return Err(plan_err(plan, at(".name"), "must be a string")),
    };
    let executor = match t.remove("executor") {
        None => None,
        Some(v) => Some(ExecutorKind::deserialize(v).map_err(|_| {
            plan_err(
                plan,
                at(".executor"),
                "must be `sim`, `sentinel` or `webhook`",
            )
        })?),
    };
    if t.len() != 1 {
        let keys: Vec<&String> = t.keys().collect();
        return Err(plan_err(
            plan,
            at(""),
            format!("needs exactly one action of {ACTIONS:?} (besides `name`, `executor`); found {keys:?}"),
        ));
    }
    let (kind, body) = t.into_iter().next().expect("one");
    if !ACTIONS.contains(&kind.as_str()) {
        return Err(plan_err(
            plan,
            at(&format!(".{kind}")),
            format!("unknown action; use one of {ACTIONS:?}"),
        ));
    }
    let toml::Value::Table(mut body) = body else {
        return Err(plan_err(plan, at(&format!(".{kind}")), "must be a table"));
    };
    let to_action = |mut b: toml::Table, kind: &str| -> Result<Action, HealerError> {
        b.insert("action".into(), toml::Value::String(kind.into()));
        let json = serde_json::to_value(&b)
            .map_err(|e| plan_err(plan, at(&format!(".{kind}")), e.to_string()))?;
        action::check_vars(&json).map_err(|e| plan_err(plan, at(&format!(".{kind}")), e))?;
        serde_json::from_value::<Action>(json)
            .map_err(|e| plan_err(plan, at(&format!(".{kind}")), e.to_string()))
    };
    let stages = if kind == "zone_shift" {
        let stages = match body.remove("stages") {
            Some(toml::Value::Array(a)) if !a.is_empty() => a,
            _ => return Err(plan_err(plan, at(".zone_shift.stages"), "needs a non-empty list like [\"whitelist\", \"1/256\", \"1/8\", \"1/4\", \"1/2\", \"all\"]")),
        };
        let mut out = Vec::new();
        let mut last = -1.0;
        for (j, s) in stages.iter().enumerate() {
            let f = s.as_str().and_then(stage_fraction).ok_or_else(|| {
                plan_err(
                    plan,
                    at(&format!(".zone_shift.stages[{j}]")),
                    "a stage is `whitelist`, `all`, `A/B` or a fraction in 0..=1",
                )
            })?;
            if f < last {
                return Err(plan_err(
                    plan,
                    at(&format!(".zone_shift.stages[{j}]")),
                    "stages must not shrink",
                ));
            }
            last = f;
            let mut b = body.clone();
            b.insert("fraction".into(), toml::Value::Float(f));
            b.insert(
                "stage".into(),
                toml::Value::String(s.as_str().unwrap_or("").into()),
            );
            out.push(to_action(b, &kind)?);
        }
        out
    } else {
        vec![to_action(body, &kind)?]
    };
    let executor = executor.unwrap_or(if kind == "call" {
        ExecutorKind::Webhook
    } else {
        ExecutorKind::Sim
    });
    if executor == ExecutorKind::Sentinel
        && !matches!(
            stages[0],
            Action::FlowLimit { .. } | Action::ParamLimit { .. } | Action::CircuitBreaker { .. }
        )
    {
        return Err(plan_err(
            plan,
            at(".executor"),
            format!("Sentinel only takes flow_limit, param_limit and circuit_breaker, not {kind}"),
        ));
    }
    if executor == ExecutorKind::Sim && kind == "call" {
        return Err(plan_err(
            plan,
            at(".executor"),
            "`call` goes to the webhook executor",
        ));
    }
    for a in &stages {
        a.validate()
            .map_err(|e| plan_err(plan, at(&format!(".{kind}")), e))?;
    }
    Ok(Step {
        name: name.unwrap_or_else(|| stages[0].describe()),
        executor,
        stages,
    })
}

/// Parses and validates one plan from TOML.
pub fn parse_plan(toml_text: &str) -> Result<Plan, HealerError> {
    let c: PlanConfig = toml::from_str(toml_text).map_err(|e| {
        let name = toml_text
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("name")
                    .and_then(|r| r.trim().strip_prefix('='))
            })
            .map(|s| s.trim().trim_matches('"').to_string())
            .unwrap_or_else(|| "?".into());
        plan_err(&name, "toml", e.to_string().trim().replace('\n', " "))
    })?;
    let p = c.name.as_str();
    if p.is_empty() {
        return Err(plan_err("?", "name", "must not be empty"));
    }
    let t = &c.trigger;
    match (&t.kind, &t.alert) {
        (None, None) => {
            return Err(plan_err(
                p,
                "trigger",
                "needs `kind` (a diagnosis kind) or `alert`",
            ))
        }
        (Some(_), Some(_)) => {
            return Err(plan_err(
                p,
                "trigger",
                "`kind` and `alert` exclude each other",
            ))
        }
        (None, Some(_)) if t.target.is_some() => {
            return Err(plan_err(p, "trigger.target", "only with `kind`"));
        }
        _ => {}
    }
    let kinds = match &t.kind {
        None => Vec::new(),
        Some(v) => trigger_kinds(p, v)?,
    };
    if !t.labels.is_empty() && t.kind.is_none() {
        return Err(plan_err(p, "trigger.labels", "only with `kind`"));
    }
    for (i, g) in t.exclude.iter().enumerate() {
        if t.kind.is_none() {
            return Err(plan_err(p, "trigger.exclude", "only with `kind`"));
        }
        if g.split_once(':')
            .is_none_or(|(k, n)| k.is_empty() || n.is_empty())
        {
            return Err(plan_err(
                p,
                format!("trigger.exclude[{i}]"),
                "must be a `KIND:NAME` glob, e.g. `service:cashier`",
            ));
        }
    }
    if c.steps.is_empty() {
        return Err(plan_err(p, "steps", "a plan needs at least one step"));
    }
    let steps = c
        .steps
        .into_iter()
        .enumerate()
        .map(|(i, s)| parse_step(p, i, s))
        .collect::<Result<Vec<_>, _>>()?;
    let resources: std::collections::BTreeSet<String> =
        steps.iter().map(|s| s.stages[0].resource()).collect();
    let blast_radius = c.guards.blast_radius.unwrap_or(4);
    if blast_radius == 0 || resources.len() > blast_radius {
        return Err(plan_err(
            p,
            "guards.blast_radius",
            format!(
                "the steps change {} resources ({resources:?}), the guard allows {blast_radius}",
                resources.len()
            ),
        ));
    }
    let freeze = c
        .guards
        .freeze
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let f = digest::parse_rfc3339(&w.from)
                .map_err(|e| plan_err(p, format!("guards.freeze[{i}].from"), e.to_string()))?;
            let to = digest::parse_rfc3339(&w.to)
                .map_err(|e| plan_err(p, format!("guards.freeze[{i}].to"), e.to_string()))?;
            if to <= f {
                return Err(plan_err(
                    p,
                    format!("guards.freeze[{i}].to"),
                    "must be after `from`",
                ));
            }
            Ok((f, to))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let max_runs = c.guards.max_runs_per_hour.unwrap_or(6);
    if max_runs == 0 {
        return Err(plan_err(
            p,
            "guards.max_runs_per_hour",
            "must be at least 1",
        ));
    }
    Ok(Plan {
        name: c.name.clone(),
        description: c.description,
        priority: c.priority,
        trigger: TriggerSpec {
            kinds,
            target: t.target.clone(),
            exclude: t.exclude.clone(),
            labels: t.labels.clone(),
            alert: t.alert.clone(),
        },
        guards: Guards {
            max_runs_per_hour: max_runs,
            blast_radius,
            freeze,
        },
        approval: c.approval.mode,
        approval_timeout_us: secs(p, "approval.timeout_s", c.approval.timeout_s, 30.0)?,
        escalate_to: c
            .approval
            .escalate_to
            .unwrap_or_else(|| "duty-manager".into()),
        verify_within_us: secs(p, "verify.within_s", c.verify.within_s, 5.0)?,
        stage_hold_us: secs(p, "verify.stage_hold_s", c.verify.stage_hold_s, 0.5)?,
        verify_mitigates: c.verify.mitigates,
        steps,
    })
}

/// `*` matches any run of characters; everything else literally.
pub fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            text.starts_with(head)
                && (0..=text.len() - head.len()).any(|k| {
                    text.is_char_boundary(head.len() + k) && glob(tail, &text[head.len() + k..])
                })
        }
    }
}
