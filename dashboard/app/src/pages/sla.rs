//! SLA board: objectives, error budgets and burn rates, and each service's live figures.

use crate::components::PolledTable;
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

#[component]
pub fn SlaBoard() -> impl IntoView {
    view! {
        <section class="panel"><h2>"Objectives"</h2><PolledTable path="/api/slo" every_s=2 id="slo" empty="No objectives configured." /></section>
        <section class="panel"><h2>"Services"</h2><PolledTable path="/api/services" every_s=2 id="services" hide=&["health", "view"] shape=service_figures /></section>
    }
}
