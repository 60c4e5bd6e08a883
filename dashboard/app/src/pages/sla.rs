//! SLA board: objectives, error budgets and burn rates, and each service's live figures.

use crate::components::{pct, PolledTable};
use leptos::prelude::*;
use serde_json::{json, Value};

/// Services with windowed figures (`last_10s`, `last_1m`) → one row of the figures that
/// matter on the board; other shapes pass through.
fn service_figures(v: Value) -> Value {
    let Some(list) = v.as_array() else { return v };
    if !list
        .iter()
        .all(|r| r.get("last_10s").is_some_and(Value::is_object))
    {
        return v;
    }
    let rows: Vec<Value> = list
        .iter()
        .map(|r| {
            let w = &r["last_10s"];
            json!({
                "service": r.get("service").cloned().unwrap_or(Value::Null),
                "healthy": r.get("healthy").cloned().unwrap_or(Value::Null),
                "rate_per_s": w.get("rate_per_s").cloned().unwrap_or(Value::Null),
                "error_ratio": w.get("error_ratio").cloned().unwrap_or(json!(0.0)),
                "p50_ms": w.get("p50_ms").cloned().unwrap_or(Value::Null),
                "p99_ms": w.get("p99_ms").cloned().unwrap_or(Value::Null),
                "p999_ms": w.get("p999_ms").cloned().unwrap_or(Value::Null),
                "errors_1m": r.pointer("/last_1m/errors").cloned().unwrap_or(json!(0)),
                "error_codes_1m": r.pointer("/last_1m/error_codes").cloned().unwrap_or(Value::Null),
            })
        })
        .collect();
    json!(rows)
}

/// The SLA engine's answer (`{objectives:[{id, slis:[{sli, period, burn}]}], …}`) → one
/// row per objective and SLI: target, actual, budget left, the 1 h burn rate and the
/// policies firing. A plain list passes through.
fn objective_rows(v: Value) -> Value {
    let Some(list) = v.get("objectives").and_then(Value::as_array) else {
        return v;
    };
    let ratio = |x: &Value, k: &str| pct(x.get(k).and_then(Value::as_f64));
    let rows: Vec<Value> = list
        .iter()
        .flat_map(|o| {
            let id = o.get("id").cloned().unwrap_or(Value::Null);
            let slis = o.get("slis").and_then(Value::as_array).cloned().unwrap_or_default();
            slis.into_iter().map(move |s| {
                let period = s.get("period").cloned().unwrap_or(Value::Null);
                let burn = s.get("burn").and_then(Value::as_array).cloned().unwrap_or_default();
                let burn_1h = burn
                    .iter()
                    .find(|b| b.get("long").and_then(Value::as_str) == Some("1h"))
                    .and_then(|b| b.get("burn_long").and_then(Value::as_f64))
                    .map(|x| format!("{x:.2}×"));
                let firing: Vec<&str> = burn
                    .iter()
                    .filter(|b| b.get("firing").and_then(Value::as_bool) == Some(true))
                    .filter_map(|b| b.get("policy").and_then(Value::as_str))
                    .collect();
                json!({
                    "objective": id.clone(),
                    "indicator": s.get("sli").cloned().unwrap_or(Value::Null),
                    "target": ratio(&period, "target"),
                    "actual": ratio(&period, "ratio"),
                    "budget_left": ratio(&period, "budget_remaining"),
                    "burn_1h": burn_1h,
                    "firing": if firing.is_empty() { Value::Null } else { json!(firing.join(", ")) },
                })
            })
        })
        .collect();
    json!(rows)
}

#[component]
pub fn SlaBoard() -> impl IntoView {
    view! {
        <section class="panel"><h2>"Objectives"</h2><PolledTable path="/api/slo" every_s=2 id="slo" empty="No objectives configured." shape=objective_rows /></section>
        <section class="panel"><h2>"Services"</h2><PolledTable path="/api/services" every_s=2 id="services" hide=&["health", "view"] shape=service_figures /></section>
    }
}
