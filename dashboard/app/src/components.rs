//! Small pieces every screen uses: number, time and money formatting, a table whose
//! rows the screen builds from the fields of its types, key/value lists, a big
//! north-star figure, an inline SVG sparkline, a typed list re-read on a timer, and the
//! alert list. No external assets.

use leptos::prelude::*;
use screen::Alert;
use serde::de::DeserializeOwned;

/// A number as short text: whole numbers bare, others to 3 decimals (1 from 100 up),
/// trailing zeros dropped.
pub fn num(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return format!("{f:.0}");
    }
    let t = if f.abs() >= 100.0 {
        format!("{f:.1}")
    } else {
        format!("{f:.3}")
    };
    t.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// µs since the epoch as RFC 3339 (milliseconds); empty for 0 (not yet).
pub fn time_of_us(us: u64) -> String {
    if us == 0 {
        return String::new();
    }
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(us as f64 / 1000.0))
        .to_iso_string()
        .as_string()
        .unwrap_or_default()
}

/// An RFC 3339 time as the time of day (UTC, to the millisecond): `12:00:01.400Z`.
pub fn time_of_day(t: &str) -> String {
    t.get(11..23)
        .filter(|_| t.len() > 23)
        .map(|hms| format!("{hms}Z"))
        .unwrap_or_else(|| t.to_string())
}

/// Cents as currency units with thousands separators: `73963` → `739.63`.
pub fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    let units = (c / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped}.{:02}", c % 100)
}

pub fn pct(v: Option<f64>) -> String {
    v.map(|f| format!("{:.2}%", f * 100.0))
        .unwrap_or_else(|| "—".into())
}

pub fn secs(v: Option<f64>) -> String {
    v.map(|f| format!("{f:.1} s")).unwrap_or_else(|| "—".into())
}

pub fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

/// The CSS class for a status word.
pub fn status_class(word: &str) -> &'static str {
    match word {
        "red" | "firing" | "open" | "critical" => "red",
        "amber" | "pending" | "warning" | "awaiting_approval" => "amber",
        "" => "",
        _ => "green",
    }
}

/// A table of `rows` under `head`; columns empty in every row are left out.
#[component]
pub fn Table(
    head: &'static [&'static str],
    rows: Vec<Vec<String>>,
    #[prop(optional)] empty: &'static str,
) -> impl IntoView {
    if rows.is_empty() {
        let msg = if empty.is_empty() {
            "Nothing to show."
        } else {
            empty
        };
        return view! { <p class="empty">{msg}</p> }.into_any();
    }
    let shown: Vec<usize> = (0..head.len())
        .filter(|&c| rows.iter().any(|r| r.get(c).is_some_and(|x| !x.is_empty())))
        .collect();
    let th = shown
        .iter()
        .map(|&c| view! { <th>{head[c]}</th> })
        .collect_view();
    let body = rows
        .into_iter()
        .map(|r| {
            let cells = shown
                .iter()
                .map(|&c| {
                    view! { <td>{r.get(c).cloned().unwrap_or_default()}</td> }
                })
                .collect_view();
            view! { <tr>{cells}</tr> }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>
        </div>
    }
    .into_any()
}

/// Labelled values as a definition list.
#[component]
pub fn KeyValues(pairs: Vec<(&'static str, String)>) -> impl IntoView {
    let items = pairs
        .into_iter()
        .map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> })
        .collect_view();
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

/// A `T` from `path`, re-read every `every_s` seconds, drawn by `draw` inside `<div id=id>`.
pub fn polled<T>(
    path: &'static str,
    every_s: u64,
    id: &'static str,
    draw: fn(T) -> AnyView,
) -> impl IntoView
where
    T: DeserializeOwned + Clone + 'static,
{
    let data = LocalResource::new(move || crate::api::get::<T>(path));
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
                Some(Ok(v)) => draw(v),
            }}
        </div>
    }
}

/// Alerts as people read them: state, name, summary, since; other labels small.
#[component]
pub fn AlertList(alerts: Vec<Alert>) -> impl IntoView {
    if alerts.is_empty() {
        return view! { <p class="empty">"No alerts."</p> }.into_any();
    }
    let rows = alerts
        .iter()
        .map(|a| {
            let name = a
                .labels
                .get("alertname")
                .cloned()
                .unwrap_or_else(|| "alert".into());
            let others = a
                .labels
                .iter()
                .filter(|(k, _)| k.as_str() != "alertname")
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ");
            let summary = a.annotations.get("summary").cloned().unwrap_or_default();
            let state = a.state.as_str();
            view! {
                <tr>
                    <td class=status_class(state)>{state}</td>
                    <td><strong>{name}</strong><div class="sub">{others}</div></td>
                    <td>{summary}</td>
                    <td class="sub">{time_of_us(a.starts_at_us)}</td>
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
