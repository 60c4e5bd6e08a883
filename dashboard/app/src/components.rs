//! Small pieces every screen uses: number formatting, a table for JSON lists whose
//! columns come from the data, key/value lists, a big north-star figure, and an inline
//! SVG sparkline. No external assets.

use leptos::prelude::*;
use serde_json::Value;

/// A JSON value as short text: numbers rounded, strings bare, objects compact.
pub fn text(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() != 0.0 => format!("{:.3}", f).trim_end_matches('0').to_string(),
            _ => n.to_string(),
        },
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(", "),
        Value::Object(_) => v.to_string(),
    }
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
pub fn JsonTable(rows: Value, #[prop(optional)] empty: &'static str) -> impl IntoView {
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
                if !cols.contains(k) {
                    cols.push(k.clone());
                }
            }
        }
    }
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
                    let shown = match v.as_f64() {
                        Some(us) if c.ends_with("_us") && us > 1e15 => time_of_us(us),
                        _ => text(&v),
                    };
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
) -> impl IntoView {
    let data = LocalResource::new(move || crate::api::get(path));
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
                Some(Ok(v)) => view! { <JsonTable rows=v empty=empty /> }.into_any(),
            }}
        </div>
    }
}
