//! Trace search: a trace id → every digest record of the call tree as a waterfall
//! (SVG bars placed by start and duration, indented by depth, red when failed) with
//! service, operation, code and duration.

use crate::api;
use leptos::prelude::*;
use screen::TraceSpan;
use std::collections::HashMap;

/// RFC 3339 with microseconds → µs within the day (enough to order spans of one trace).
fn micros_of_day(t: &str) -> f64 {
    let Some(clock) = t.get(11..) else { return 0.0 };
    let clock = clock.trim_end_matches('Z');
    let mut parts = clock.split(':');
    let h: f64 = parts.next().and_then(|x| x.parse().ok()).unwrap_or(0.0);
    let m: f64 = parts.next().and_then(|x| x.parse().ok()).unwrap_or(0.0);
    let sec: f64 = parts.next().and_then(|x| x.parse().ok()).unwrap_or(0.0);
    ((h * 60.0 + m) * 60.0 + sec) * 1e6
}

#[component]
pub fn TraceSearch() -> impl IntoView {
    let id = RwSignal::new(String::new());
    let spans = RwSignal::new(None::<Result<Vec<TraceSpan>, String>>);
    let search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let tid = id.get_untracked().trim().to_lowercase();
        leptos::task::spawn_local(async move {
            spans.set(Some(
                api::get::<Vec<TraceSpan>>(&format!("/api/traces/{tid}"))
                    .await
                    .map_err(|e| e.to_string()),
            ));
        });
    };
    let waterfall = move || match spans.get() {
        None => view! { <p class="empty">"Enter a trace id (32 hex digits)."</p> }.into_any(),
        Some(Err(e)) => view! { <p class="error">{e}</p> }.into_any(),
        Some(Ok(list)) => {
            let starts: Vec<f64> = list.iter().map(|r| micros_of_day(&r.time)).collect();
            let t0 = starts.iter().cloned().fold(f64::MAX, f64::min);
            let t1 = list
                .iter()
                .zip(&starts)
                .map(|(r, st)| st + r.duration_us as f64)
                .fold(t0 + 1.0, f64::max);
            let parent: HashMap<&str, &str> = list
                .iter()
                .filter_map(|r| Some((r.span_id.as_str(), r.parent_span_id.as_deref()?)))
                .collect();
            let depth = |sid: &str| {
                let (mut d, mut cur) = (0, sid);
                while let Some(p) = parent
                    .get(cur)
                    .copied()
                    .filter(|p| !p.is_empty() && *p != cur)
                {
                    d += 1;
                    cur = p;
                    if d > 32 {
                        break;
                    }
                }
                d
            };
            let row_h = 26.0;
            let h = list.len() as f64 * row_h + 10.0;
            let rows = list
                .iter()
                .zip(&starts)
                .enumerate()
                .map(|(i, (r, st))| {
                    let x = 420.0 + (st - t0) / (t1 - t0) * 380.0;
                    let w = (r.duration_us as f64 / (t1 - t0) * 380.0).max(2.0);
                    let y = 5.0 + i as f64 * row_h;
                    let ok = r.success;
                    let indent = 4.0 + 10.0 * depth(&r.span_id).min(12) as f64;
                    let label = format!("{} {} · {}", r.service, r.operation, r.kind.as_str());
                    let right = format!("{} · {:.1} ms", r.code, r.duration_us as f64 / 1000.0);
                    view! {
                        <g class=if ok { "span ok" } else { "span failed" }>
                            <text x=indent y=y + 17.0>{label}</text>
                            <rect x=x y=y + 4.0 width=w height=row_h - 8.0 rx="3" />
                            <text x="995" y=y + 17.0 text-anchor="end" class="sub">{right}</text>
                        </g>
                    }
                })
                .collect_view();
            view! { <svg id="waterfall" viewBox=format!("0 0 1000 {h}")>{rows}</svg> }.into_any()
        }
    };
    view! {
        <section class="panel">
            <h2>"Trace search"</h2>
            <form class="inline" on:submit=search>
                <label>"Trace id" <input id="trace-id" size="34" bind:value=id /></label>
                <button id="trace-search" type="submit">"Search"</button>
            </form>
            {waterfall}
        </section>
    }
}
