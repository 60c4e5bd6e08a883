//! Small pieces every screen uses: number formatting, a table for JSON lists whose
//! columns come from the data, key/value lists, a big north-star figure, and an inline
//! SVG sparkline. No external assets.

use leptos::prelude::*;
use serde_json::Value;

/// A JSON value as short text: numbers rounded, strings bare, objects as `key value`
/// pairs (empty and zero fields left out), arrays joined.
pub fn text(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() != 0.0 => {
                let t = if f.abs() >= 100.0 {
                    format!("{f:.1}")
                } else {
                    format!("{f:.3}")
                };
                t.trim_end_matches('0').trim_end_matches('.').to_string()
            }
            _ => n.to_string(),
        },
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(", "),
        Value::Object(o) => o
            .iter()
            .filter(|(_, v)| !is_quiet(v))
            .map(|(k, v)| format!("{} {}", label(k), cell(k, v)))
            .collect::<Vec<_>>()
            .join(" · "),
    }
}

/// A field name for people: `snake_case` words spaced; codes (`BANK_TIMEOUT`) kept.
pub fn label(k: &str) -> String {
    if k.chars().any(|c| c.is_ascii_uppercase()) {
        k.to_string()
    } else {
        k.replace('_', " ")
    }
}

/// A field in a table cell: `*_us` epoch times as times, objects inside objects
/// summarised by their size.
pub fn cell(key: &str, v: &Value) -> String {
    match v {
        Value::Number(n) if key.ends_with("_us") && n.as_f64().is_some_and(|us| us > 1e15) => {
            time_of_us(n.as_f64().unwrap_or(0.0))
        }
        Value::Object(o) if o.values().any(|x| x.is_object()) => o
            .iter()
            .filter(|(_, v)| !is_quiet(v))
            .map(|(k, v)| match v {
                Value::Object(inner) => format!("{} ({} fields)", k.replace('_', " "), inner.len()),
                _ => format!("{} {}", k.replace('_', " "), cell(k, v)),
            })
            .collect::<Vec<_>>()
            .join(" · "),
        _ => text(v),
    }
}

/// Null or empty: a column with only these says nothing.
pub fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// Blank, zero or false: left out of compact `key value` summaries.
pub fn is_quiet(v: &Value) -> bool {
    is_blank(v) || v.as_f64() == Some(0.0) || v.as_bool() == Some(false)
}

/// µs since the epoch as RFC 3339 (milliseconds).
pub fn time_of_us(us: f64) -> String {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(us / 1000.0))
        .to_iso_string()
        .as_string()
        .unwrap_or_default()
}

pub fn pct(v: Option<f64>) -> String {
    v.map(|f| format!("{:.2}%", f * 100.0))
        .unwrap_or_else(|| "—".into())
}

pub fn secs(v: Option<f64>) -> String {
    v.map(|f| format!("{f:.1} s")).unwrap_or_else(|| "—".into())
}

/// The CSS class for a health word or an error ratio.
pub fn health_class(v: &Value) -> &'static str {
    match v.as_str() {
        Some("red") | Some("firing") | Some("open") | Some("critical") => "red",
        Some("amber") | Some("pending") | Some("warning") | Some("awaiting_approval") => "amber",
        Some(_) => "green",
        None => "",
    }
}

/// A table of a JSON array of objects; columns are the keys of the first rows, in order.
#[component]
pub fn JsonTable(
    rows: Value,
    #[prop(optional)] empty: &'static str,
    /// Columns never shown (identifiers for machines: fingerprints, URLs).
    #[prop(optional)]
    hide: &'static [&'static str],
) -> impl IntoView {
    let list = rows.as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        let msg = if empty.is_empty() {
            "Nothing to show."
        } else {
            empty
        };
        return view! { <p class="empty">{msg}</p> }.into_any();
    }
    if list.iter().all(|r| !r.is_object()) {
        let items = list
            .iter()
            .map(|r| view! { <li>{text(r)}</li> })
            .collect_view();
        return view! { <ol class="plain">{items}</ol> }.into_any();
    }
    let mut cols: Vec<String> = Vec::new();
    for r in list.iter().take(20) {
        if let Some(o) = r.as_object() {
            for k in o.keys() {
                if !cols.contains(k) && !hide.contains(&k.as_str()) {
                    cols.push(k.clone());
                }
            }
        }
    }
    // The column that names the row comes first, after the time for logs.
    for first in [
        &["service", "scene", "name", "key", "id"][..],
        &["time"][..],
    ] {
        if let Some(i) = cols.iter().position(|c| first.contains(&c.as_str())) {
            let c = cols.remove(i);
            cols.insert(0, c);
        }
    }
    // Columns with nothing to say in any row are left out.
    cols.retain(|c| list.iter().any(|r| r.get(c).is_some_and(|v| !is_blank(v))));
    let head = cols
        .iter()
        .map(|c| view! { <th>{c.replace('_', " ")}</th> })
        .collect_view();
    let body = list
        .iter()
        .map(|r| {
            let cells = cols
                .iter()
                .map(|c| {
                    let v = r.get(c).cloned().unwrap_or(Value::Null);
                    let shown = cell(c, &v);
                    let cls = if c == "health" || c == "state" || c == "status" {
                        health_class(&v)
                    } else {
                        ""
                    };
                    view! { <td class=cls>{shown}</td> }
                })
                .collect_view();
            view! { <tr>{cells}</tr> }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
        </div>
    }
    .into_any()
}

/// An object's fields as a definition list.
#[component]
pub fn KeyValues(obj: Value) -> impl IntoView {
    let items = obj.as_object().map(|o| {
        o.iter()
            .map(|(k, v)| view! { <dt>{k.replace('_', " ")}</dt><dd>{text(v)}</dd> })
            .collect_view()
    });
    view! { <dl class="kv">{items}</dl> }
}

/// One north-star figure; `id` is the stable id tests look for; `sub` a small line under it.
#[component]
pub fn Figure(
    id: &'static str,
    label: &'static str,
    value: Signal<String>,
    #[prop(optional)] class: Signal<String>,
    #[prop(optional)] sub: Signal<String>,
) -> impl IntoView {
    view! {
        <div class=move || format!("figure {}", class.get())>
            <div class="label">{label}</div>
            <div class="value" id=id>{move || value.get()}</div>
            <div class="sub">{move || sub.get()}</div>
        </div>
    }
}

/// An inline SVG sparkline of the values (scaled to their max).
#[component]
pub fn Sparkline(values: Signal<Vec<f64>>) -> impl IntoView {
    let points = move || {
        let v = values.get();
        let max = v.iter().cloned().fold(1.0_f64, f64::max);
        let n = v.len().max(2) as f64 - 1.0;
        v.iter()
            .enumerate()
            .map(|(i, y)| format!("{:.1},{:.1}", i as f64 * 300.0 / n, 58.0 - y / max * 54.0))
            .collect::<Vec<_>>()
            .join(" ")
    };
    view! {
        <svg class="spark" viewBox="0 0 300 60" preserveAspectRatio="none" role="img" aria-label="payments per second">
            <polyline points=points fill="none" stroke="currentColor" stroke-width="2" />
        </svg>
    }
}

/// A JSON list from `path`, re-read every `every_s` seconds, shown as a table.
#[component]
pub fn PolledTable(
    path: &'static str,
    every_s: u64,
    #[prop(optional)] empty: &'static str,
    #[prop(optional)] id: &'static str,
    #[prop(optional)] hide: &'static [&'static str],
    /// Reshapes the list before it is shown (e.g. picks the figures a screen needs).
    #[prop(optional)]
    shape: Option<fn(Value) -> Value>,
) -> impl IntoView {
    let data = LocalResource::new(move || async move {
        crate::api::get(path)
            .await
            .map(|v| shape.map_or(v.clone(), |f| f(v)))
    });
    if let Ok(h) = set_interval_with_handle(
        move || data.refetch(),
        std::time::Duration::from_secs(every_s),
    ) {
        on_cleanup(move || h.clear());
    }
    view! {
        <div id=id>
            {move || match data.get() {
                None => view! { <p class="empty">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                Some(Ok(v)) => view! { <JsonTable rows=v empty=empty hide=hide /> }.into_any(),
            }}
        </div>
    }
}

/// Alerts as people read them: state, name, summary, since; other labels small. Lists
/// without Alertmanager-style `labels` fall back to a table.
#[component]
pub fn AlertList(alerts: Value) -> impl IntoView {
    let list = alerts.as_array().cloned().unwrap_or_default();
    if !list
        .iter()
        .all(|a| a.get("labels").is_some_and(Value::is_object))
    {
        return view! { <JsonTable rows=alerts empty="No alerts." /> }.into_any();
    }
    let rows = list
        .iter()
        .map(|a| {
            let labels = a["labels"].as_object().cloned().unwrap_or_default();
            let name = labels
                .get("alertname")
                .map(text)
                .unwrap_or_else(|| "alert".into());
            let others = labels
                .iter()
                .filter(|(k, _)| k.as_str() != "alertname")
                .map(|(k, v)| format!("{k}={}", text(v)))
                .collect::<Vec<_>>()
                .join(" ");
            let summary = a
                .pointer("/annotations/summary")
                .map(text)
                .unwrap_or_default();
            let state = a.get("state").cloned().unwrap_or(Value::Null);
            let since = a
                .get("starts_at_us")
                .map(|v| cell("starts_at_us", v))
                .unwrap_or_default();
            view! {
                <tr>
                    <td class=health_class(&state)>{text(&state)}</td>
                    <td><strong>{name}</strong><div class="sub">{others}</div></td>
                    <td>{summary}</td>
                    <td class="sub">{since}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap"><table class="alerts">
            <thead><tr><th>"state"</th><th>"alert"</th><th>"summary"</th><th>"since"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table></div>
    }
    .into_any()
}
