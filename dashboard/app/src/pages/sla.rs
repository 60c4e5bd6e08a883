//! SLA board: objectives, error budgets and burn rates, and each service's live figures.

use crate::components::{num, pct, polled, yes_no, Table};
use leptos::prelude::*;
use screen::{ServiceRow, SloBoard};

/// Each service's figures over the last 10 s (errors over the last minute).
fn services(list: Vec<ServiceRow>) -> AnyView {
    let rows = list
        .into_iter()
        .map(|r| {
            let w = &r.last_10s;
            let codes = r
                .last_1m
                .error_codes
                .iter()
                .map(|(code, n)| format!("{code} {n}"))
                .collect::<Vec<_>>()
                .join(" · ");
            vec![
                r.service.clone(),
                yes_no(r.healthy),
                num(w.rate_per_s),
                num(w.error_ratio),
                num(w.p50_ms),
                num(w.p99_ms),
                num(w.p999_ms),
                r.last_1m.errors.to_string(),
                codes,
            ]
        })
        .collect();
    let head = &[
        "service",
        "healthy",
        "rate per s",
        "error ratio",
        "p50 ms",
        "p99 ms",
        "p999 ms",
        "errors 1m",
        "error codes 1m",
    ];
    view! { <Table head=head rows=rows /> }.into_any()
}

/// One row per objective and SLI: target, actual, budget left, the 1 h burn rate and
/// the policies firing.
fn objectives(board: SloBoard) -> AnyView {
    let rows = board
        .objectives
        .iter()
        .flat_map(|o| {
            o.slis.iter().map(move |s| {
                let burn_1h = s
                    .burn
                    .iter()
                    .find(|b| b.long == "1h")
                    .map(|b| format!("{:.2}×", b.burn_long))
                    .unwrap_or_default();
                let firing: Vec<&str> = s
                    .burn
                    .iter()
                    .filter(|b| b.firing)
                    .map(|b| b.policy.as_str())
                    .collect();
                vec![
                    o.id.clone(),
                    String::from(s.sli.as_str()),
                    pct(Some(s.period.target)),
                    pct(Some(s.period.ratio)),
                    pct(Some(s.period.budget_remaining)),
                    burn_1h,
                    firing.join(", "),
                ]
            })
        })
        .collect();
    let head = &[
        "objective",
        "indicator",
        "target",
        "actual",
        "budget left",
        "burn 1h",
        "firing",
    ];
    view! { <Table head=head rows=rows empty="No objectives configured." /> }.into_any()
}

#[component]
pub fn SlaBoard() -> impl IntoView {
    view! {
        <section class="panel"><h2>"Objectives"</h2>{polled("/api/slo", 2, "slo", objectives)}</section>
        <section class="panel"><h2>"Services"</h2>{polled("/api/services", 2, "services", services)}</section>
    }
}
