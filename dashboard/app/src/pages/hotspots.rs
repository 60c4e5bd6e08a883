//! Hot spots: the heavy hitters over business keys (merchant, account, user, bank), refreshed every 2 s.

use crate::components::{num, pct, polled, Table};
use leptos::prelude::*;
use screen::HotSpot;

fn hot(list: Vec<HotSpot>) -> AnyView {
    let rows = list
        .into_iter()
        .map(|k| {
            vec![
                format!("{}:{}", k.key, k.value),
                format!("{} {}", k.scope.as_str(), k.within),
                k.count.to_string(),
                pct(Some(k.share)),
                pct(Some(k.baseline_share)),
                k.errors.to_string(),
                pct(Some(k.error_share)),
                num(k.mean_latency_ms),
                num(k.scope_mean_latency_ms),
            ]
        })
        .collect();
    let head = &[
        "key",
        "within",
        "calls",
        "share",
        "baseline share",
        "errors",
        "error share",
        "mean ms",
        "scope mean ms",
    ];
    view! { <Table head=head rows=rows empty="No hot keys." /> }.into_any()
}

#[component]
pub fn Hotspots() -> impl IntoView {
    view! { <section class="panel"><h2>"Hot spots"</h2>{polled("/api/hotspots", 2, "hotspots", hot)}</section> }
}
