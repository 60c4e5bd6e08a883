//! Sentinel rule editing shared by the sim and Sentinel executors: which rule list an
//! action touches, and the list with the action's rule put in (replacing any rule it
//! supersedes on the same resource).

use super::ExecError;
use crate::plan::Action;
use serde_json::{json, Value};

/// The business keys a param rule's `paramIdx` indexes (payments-sim's order).
pub const PARAM_KEYS: [&str; 6] = ["user", "merchant", "account", "bank", "scene", "zone"];

/// `flow`, `param-flow` or `degrade`, for actions that are Sentinel rules.
pub fn rule_type(a: &Action) -> Option<&'static str> {
    match a {
        Action::FlowLimit { .. } => Some("flow"),
        Action::ParamLimit { .. } => Some("param-flow"),
        Action::CircuitBreaker { .. } => Some("degrade"),
        _ => None,
    }
}

fn num(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        json!(v as i64)
    } else {
        json!(v)
    }
}

/// The rule list `current` with the action's rule in place.
pub fn with_rule(a: &Action, current: &Value) -> Result<Value, ExecError> {
    let list = match current {
        Value::Array(v) => v.clone(),
        Value::Null => Vec::new(),
        other => return Err(ExecError::Answer(format!("rules are not a list: {other}"))),
    };
    let res = |r: &Value| r.get("resource").and_then(Value::as_str).map(String::from);
    type Same = Box<dyn Fn(&Value) -> bool>;
    let (rule, same): (Value, Same) = match a {
        Action::FlowLimit { resource, qps } => {
            let r = resource.clone();
            (
                json!({"resource": resource, "grade": 1, "count": num(*qps)}),
                Box::new(move |x| res(x).as_deref() == Some(r.as_str())),
            )
        }
        Action::ParamLimit {
            resource,
            param,
            value,
            qps,
            others_qps,
        } => {
            let idx = PARAM_KEYS
                .iter()
                .position(|k| k == param)
                .ok_or_else(|| ExecError::Config(format!("unknown param {param}")))?;
            let r = resource.clone();
            (
                json!({"resource": resource, "grade": 1, "paramIdx": idx, "count": num(*others_qps),
                       "paramFlowItemList": [{"object": value, "classType": "java.lang.String", "count": num(*qps)}]}),
                Box::new(move |x| {
                    res(x).as_deref() == Some(r.as_str()) && x.get("paramIdx") == Some(&json!(idx))
                }),
            )
        }
        Action::CircuitBreaker {
            resource,
            grade,
            threshold,
            window_s,
        } => {
            let g = match grade.as_str() {
                "slow_call" => 0,
                "error_ratio" => 1,
                _ => 2,
            };
            let r = resource.clone();
            (
                json!({"resource": resource, "grade": g, "count": num(*threshold), "timeWindow": window_s}),
                Box::new(move |x| res(x).as_deref() == Some(r.as_str())),
            )
        }
        other => {
            return Err(ExecError::Unsupported {
                executor: "rules",
                action: other.describe(),
            })
        }
    };
    let mut out: Vec<Value> = list.into_iter().filter(|r| !same(r)).collect();
    out.push(rule);
    Ok(Value::Array(out))
}
