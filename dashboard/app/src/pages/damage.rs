//! The incident room's damage chart: failed payments per second and money at stake per
//! second over the incident's life (inline SVG, each line scaled to its own peak), with a
//! mark at every plan action and undo, so a commander sees whether an action helped.
//! Drawn from the incident's cumulative `damage` series and its timeline.

use crate::components::{money, num};
use leptos::prelude::*;
use screen::{DamagePoint, TimelineEntry, TimelineKind};

const W: f64 = 300.0;
const H: f64 = 100.0;

/// Per-second rates between consecutive points, at the later point's second:
/// `(second, failed payments/s, cents at stake/s)`.
fn rates(points: &[DamagePoint]) -> Vec<(u64, f64, f64)> {
    points
        .windows(2)
        .map(|w| {
            let dt = w[1].second.saturating_sub(w[0].second).max(1) as f64;
            let failed = w[1].failed_payments.saturating_sub(w[0].failed_payments) as f64;
            let cents = (w[1].money_at_stake_cents - w[0].money_at_stake_cents).max(0) as f64;
            (w[1].second, failed / dt, cents / dt)
        })
        .collect()
}

/// The polyline of `ys` at `xs`, scaled to the highest value (a flat line at 0 when all
/// are 0).
fn line(xs: &[f64], ys: &[f64]) -> String {
    let max = ys.iter().cloned().fold(0.0_f64, f64::max);
    xs.iter()
        .zip(ys)
        .map(|(x, y)| {
            let y = if max > 0.0 { y / max } else { 0.0 };
            format!("{x:.1},{:.1}", H - 2.0 - y * (H - 8.0))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[component]
pub fn DamageChart(points: Vec<DamagePoint>, timeline: Vec<TimelineEntry>) -> impl IntoView {
    let r = rates(&points);
    if r.len() < 2 {
        return view! {
            <section id="damage" class="panel"><h2>"Damage"</h2>
                <p class="empty">"Not enough seconds yet to draw the rates."</p>
            </section>
        }
        .into_any();
    }
    let (first, last) = (r[0].0, r[r.len() - 1].0);
    let span = (last - first).max(1) as f64;
    let x = |second: u64| (second.saturating_sub(first)) as f64 / span * W;
    let xs: Vec<f64> = r.iter().map(|p| x(p.0)).collect();
    let failed: Vec<f64> = r.iter().map(|p| p.1).collect();
    let cents: Vec<f64> = r.iter().map(|p| p.2).collect();
    let peak = |v: &[f64]| v.iter().cloned().fold(0.0_f64, f64::max);
    let marks = timeline
        .iter()
        .filter(|e| matches!(e.kind, TimelineKind::Action | TimelineKind::Undone))
        .filter(|e| (first..=last).contains(&(e.at_us / 1_000_000)))
        .map(|e| {
            let at = x(e.at_us / 1_000_000);
            let class = if e.kind == TimelineKind::Action {
                "mark action"
            } else {
                "mark undone"
            };
            view! {
                <line class=class x1=at x2=at y1="0" y2=H vector-effect="non-scaling-stroke">
                    <title>{e.what.clone()}</title>
                </line>
            }
        })
        .collect_view();
    let now_failed = failed[failed.len() - 1];
    let now_cents = cents[cents.len() - 1];
    view! {
        <section id="damage" class="panel"><h2>"Damage"</h2>
            <svg id="damage-chart" data-seconds=r.len() viewBox=format!("0 0 {W} {H}")
                preserveAspectRatio="none" role="img"
                aria-label="failed payments per second and money at stake per second">
                {marks}
                <polyline class="money" points=line(&xs, &cents) fill="none"
                    vector-effect="non-scaling-stroke" />
                <polyline class="failed" points=line(&xs, &failed) fill="none"
                    vector-effect="non-scaling-stroke" />
            </svg>
            <p class="legend">
                <span class="failed">"failed payments/s: "
                    <strong id="damage-failed-now">{num(now_failed)}</strong>
                    {format!(" now, peak {}", num(peak(&failed)))}</span>
                <span class="money">"money at stake/s: "
                    <strong id="damage-money-now">{money(now_cents.round() as i64)}</strong>
                    {format!(" now, peak {}", money(peak(&cents).round() as i64))}</span>
                <span class="sub">{format!("over {} s; marks: plan actions, dashed: undone", last - first)}</span>
            </p>
        </section>
    }
    .into_any()
}
