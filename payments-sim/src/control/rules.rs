//! Sentinel's rule JSON (flow, param-flow, degrade) as typed structs, and their
//! validation. Absent optional fields stay absent, and `count` keeps the number
//! exactly as sent, so rules read back identically to what was pushed.
//!
//! Resources: a served call is checked against `service` and `service:operation`
//! (e.g. `payment` and `payment:pay`); a bank call against `bank:NAME`.
//! `paramIdx` indexes [`PARAM_KEYS`]; negative values count from the end, as in
//! Sentinel.

use super::error::ControlError;
use serde::{Deserialize, Serialize};
use serde_json::Number;

/// The business keys a hot-parameter rule's `paramIdx` selects from, in order.
/// `user`, `merchant`, `account`, `bank` come from the call's keys; `scene` and
/// `zone` from the call itself.
pub(crate) const PARAM_KEYS: [&str; 6] = ["user", "merchant", "account", "bank", "scene", "zone"];

/// Sentinel `FlowRule`: caps QPS (grade 1) or concurrent calls (grade 0) on a resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct FlowRule {
    pub resource: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_app: Option<String>,
    /// 1 = QPS (default), 0 = concurrent calls ("thread count").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<i32>,
    pub count: Number,
    /// 0 = direct (the only strategy supported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ref_resource: Option<String>,
    /// 0 = reject (default), 2 = rate limiter (queue up to `maxQueueingTimeMs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_behavior: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm_up_period_sec: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_queueing_time_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_mode: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_config: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
}

/// One exception of a hot-parameter rule: its own `count` for one key value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ParamFlowItem {
    pub object: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_type: Option<String>,
    pub count: Number,
}

/// Sentinel `ParamFlowRule`: caps calls per value of one business key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ParamFlowRule {
    pub resource: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_app: Option<String>,
    /// 1 = QPS (the only grade supported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<i32>,
    pub param_idx: i32,
    pub count: Number,
    /// 0 = reject (the only behaviour supported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_behavior: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_queueing_time_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_in_sec: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param_flow_item_list: Option<Vec<ParamFlowItem>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_mode: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_config: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
}

/// Sentinel `DegradeRule`: a circuit breaker on a resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct DegradeRule {
    pub resource: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_app: Option<String>,
    /// 0 = slow-call ratio (default; `count` = max RT in ms), 1 = error ratio
    /// (`count` in 0..=1), 2 = error count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<i32>,
    pub count: Number,
    /// Seconds the breaker stays open before a half-open probe.
    pub time_window: i64,
    /// Calls needed in a stat interval before the breaker may open (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_request_amount: Option<i64>,
    /// Slow-call ratio that opens a grade-0 breaker (default 1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_ratio_threshold: Option<Number>,
    /// Statistics window in ms (default 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stat_interval_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
}

/// The three rule lists, as pushed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct RuleSet {
    pub flow: Vec<FlowRule>,
    pub param: Vec<ParamFlowRule>,
    pub degrade: Vec<DegradeRule>,
}

/// Which rule list a request addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleType {
    Flow,
    Param,
    Degrade,
}

impl RuleType {
    /// `flow`, `degrade`, `param-flow` (Sentinel) or `param` (our path).
    pub(crate) fn parse(s: &str) -> Result<Self, ControlError> {
        match s {
            "flow" => Ok(Self::Flow),
            "degrade" => Ok(Self::Degrade),
            "param-flow" | "param" | "paramFlow" => Ok(Self::Param),
            other => Err(ControlError::UnknownRuleType(other.to_string())),
        }
    }
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Flow => "flow",
            Self::Param => "param-flow",
            Self::Degrade => "degrade",
        }
    }
}

fn num(n: &Number) -> f64 {
    n.as_f64().unwrap_or(f64::NAN)
}

fn check_resource(i: usize, r: &str) -> Result<(), ControlError> {
    if r.trim().is_empty() {
        return Err(ControlError::invalid(
            format!("[{i}].resource"),
            "must not be empty",
        ));
    }
    if r.len() > 256 {
        return Err(ControlError::invalid(
            format!("[{i}].resource"),
            "longer than 256 bytes",
        ));
    }
    Ok(())
}

fn check_count(field: String, n: &Number) -> Result<f64, ControlError> {
    let c = num(n);
    if !c.is_finite() || c < 0.0 {
        return Err(ControlError::invalid(field, "must be a finite number >= 0"));
    }
    Ok(c)
}

fn check_regex(i: usize, regex: Option<bool>) -> Result<(), ControlError> {
    if regex == Some(true) {
        return Err(ControlError::invalid(
            format!("[{i}].regex"),
            "regex resources are not supported",
        ));
    }
    Ok(())
}

fn check_limit_app(i: usize, app: &Option<String>) -> Result<(), ControlError> {
    match app.as_deref() {
        None | Some("default") => Ok(()),
        Some(_) => Err(ControlError::invalid(
            format!("[{i}].limitApp"),
            "only \"default\" (any caller) is supported",
        )),
    }
}

/// The checks every rule type shares, in this order: resource, caller, no regex,
/// no cluster mode (rule types without one pass `None`), count. Returns the count.
fn check_shared(
    i: usize,
    resource: &str,
    limit_app: &Option<String>,
    regex: Option<bool>,
    cluster_mode: Option<bool>,
    count: &Number,
) -> Result<f64, ControlError> {
    check_resource(i, resource)?;
    check_limit_app(i, limit_app)?;
    check_regex(i, regex)?;
    check_cluster(i, cluster_mode)?;
    check_count(format!("[{i}].count"), count)
}

fn check_cluster(i: usize, mode: Option<bool>) -> Result<(), ControlError> {
    if mode == Some(true) {
        return Err(ControlError::invalid(
            format!("[{i}].clusterMode"),
            "cluster flow control is not supported",
        ));
    }
    Ok(())
}

/// Validates flow rules; the first bad field wins.
pub(crate) fn validate_flow(rules: &[FlowRule]) -> Result<(), ControlError> {
    for (i, r) in rules.iter().enumerate() {
        check_shared(
            i,
            &r.resource,
            &r.limit_app,
            r.regex,
            r.cluster_mode,
            &r.count,
        )?;
        if !matches!(r.grade, None | Some(0) | Some(1)) {
            return Err(ControlError::invalid(
                format!("[{i}].grade"),
                "must be 0 (concurrent calls) or 1 (QPS)",
            ));
        }
        if !matches!(r.strategy, None | Some(0)) {
            return Err(ControlError::invalid(
                format!("[{i}].strategy"),
                "only 0 (direct) is supported",
            ));
        }
        match r.control_behavior {
            None | Some(0) => {}
            Some(2) => {
                if r.grade == Some(0) {
                    return Err(ControlError::invalid(
                        format!("[{i}].controlBehavior"),
                        "rate limiter (2) needs grade 1 (QPS)",
                    ));
                }
                if r.max_queueing_time_ms.is_some_and(|m| m < 0) {
                    return Err(ControlError::invalid(
                        format!("[{i}].maxQueueingTimeMs"),
                        "must be >= 0",
                    ));
                }
            }
            Some(_) => {
                return Err(ControlError::invalid(
                    format!("[{i}].controlBehavior"),
                    "only 0 (reject) and 2 (rate limiter) are supported",
                ))
            }
        }
        if r.warm_up_period_sec.is_some_and(|w| w < 0) {
            return Err(ControlError::invalid(
                format!("[{i}].warmUpPeriodSec"),
                "must be >= 0",
            ));
        }
    }
    Ok(())
}

/// Validates hot-parameter rules.
pub(crate) fn validate_param(rules: &[ParamFlowRule]) -> Result<(), ControlError> {
    for (i, r) in rules.iter().enumerate() {
        check_shared(
            i,
            &r.resource,
            &r.limit_app,
            r.regex,
            r.cluster_mode,
            &r.count,
        )?;
        if !matches!(r.grade, None | Some(1)) {
            return Err(ControlError::invalid(
                format!("[{i}].grade"),
                "only 1 (QPS) is supported",
            ));
        }
        if !matches!(r.control_behavior, None | Some(0)) {
            return Err(ControlError::invalid(
                format!("[{i}].controlBehavior"),
                "only 0 (reject) is supported",
            ));
        }
        if param_index(r.param_idx).is_none() {
            return Err(ControlError::invalid(
                format!("[{i}].paramIdx"),
                format!("must index {PARAM_KEYS:?} (0..=5, or -6..=-1 from the end)"),
            ));
        }
        if r.duration_in_sec.is_some_and(|d| d <= 0) {
            return Err(ControlError::invalid(
                format!("[{i}].durationInSec"),
                "must be > 0",
            ));
        }
        if r.burst_count.is_some_and(|b| b < 0) {
            return Err(ControlError::invalid(
                format!("[{i}].burstCount"),
                "must be >= 0",
            ));
        }
        for (j, item) in r.param_flow_item_list.iter().flatten().enumerate() {
            check_count(format!("[{i}].paramFlowItemList[{j}].count"), &item.count)?;
            if item.object.is_empty() {
                return Err(ControlError::invalid(
                    format!("[{i}].paramFlowItemList[{j}].object"),
                    "must not be empty",
                ));
            }
        }
    }
    Ok(())
}

/// Validates degrade rules (circuit breakers).
pub(crate) fn validate_degrade(rules: &[DegradeRule]) -> Result<(), ControlError> {
    for (i, r) in rules.iter().enumerate() {
        let c = check_shared(i, &r.resource, &r.limit_app, r.regex, None, &r.count)?;
        match r.grade {
            None | Some(0) | Some(2) => {}
            Some(1) => {
                if c > 1.0 {
                    return Err(ControlError::invalid(
                        format!("[{i}].count"),
                        "an error ratio must be within 0..=1",
                    ));
                }
            }
            Some(_) => {
                return Err(ControlError::invalid(
                    format!("[{i}].grade"),
                    "must be 0 (slow-call ratio), 1 (error ratio) or 2 (error count)",
                ))
            }
        }
        if r.time_window <= 0 {
            return Err(ControlError::invalid(
                format!("[{i}].timeWindow"),
                "must be > 0 seconds",
            ));
        }
        if r.min_request_amount.is_some_and(|m| m <= 0) {
            return Err(ControlError::invalid(
                format!("[{i}].minRequestAmount"),
                "must be > 0",
            ));
        }
        if r.stat_interval_ms.is_some_and(|m| m <= 0) {
            return Err(ControlError::invalid(
                format!("[{i}].statIntervalMs"),
                "must be > 0",
            ));
        }
        if let Some(t) = &r.slow_ratio_threshold {
            let t = num(t);
            if !(0.0..=1.0).contains(&t) {
                return Err(ControlError::invalid(
                    format!("[{i}].slowRatioThreshold"),
                    "must be within 0..=1",
                ));
            }
        }
    }
    Ok(())
}

/// Maps a Sentinel `paramIdx` onto [`PARAM_KEYS`].
pub(crate) fn param_index(idx: i32) -> Option<usize> {
    let n = PARAM_KEYS.len() as i32;
    let i = if idx < 0 { n + idx } else { idx };
    (0..n).contains(&i).then_some(i as usize)
}

/// Splits a resource name into what it addresses: (`service`, `Some(operation)`)
/// or (`service`, `None`); a bank is (`bank`, `Some(NAME)`).
pub(crate) fn split_resource(resource: &str) -> (&str, Option<&str>) {
    match resource.split_once(':') {
        Some((s, op)) => (s, Some(op)),
        None => (resource, None),
    }
}

/// Number → f64 for enforcement.
pub(crate) fn count_of(n: &Number) -> f64 {
    num(n)
}
