//! Command overview: the north-star figures (`#tps`, `#success-rate`, `#mttr`,
//! `#incidents`, `#error-budget`), a payments/s sparkline, the scene board and the
//! alert feed — all from the live stream.

use crate::api::Live;
use crate::components::{num, pct, secs, AlertList, Figure, Sparkline};
use leptos::prelude::*;
use screen::Overview;

#[component]
pub fn Overview() -> impl IntoView {
    let live = expect_context::<Live>();
    let fig = move |f: fn(&Overview) -> Option<f64>| {
        live.overview
            .with(|v| v.as_ref().and_then(|b| f(&b.overview)))
    };
    let tps = Signal::derive(move || {
        fig(|o| Some(o.payments_per_s))
            .map(|x| format!("{x:.0}"))
            .unwrap_or("—".into())
    });
    let success = Signal::derive(move || pct(fig(|o| o.success_rate)));
    let success_class = Signal::derive(move || match fig(|o| o.success_rate) {
        Some(s) if s < 0.95 => "red".into(),
        Some(s) if s < 0.99 => "amber".into(),
        _ => String::new(),
    });
    let mttr = Signal::derive(move || secs(fig(|o| o.mttr_last_s)));
    let mttr_avg = Signal::derive(move || format!("average {}", secs(fig(|o| o.mttr_avg_s))));
    let open_n = move || fig(|o| Some(o.open_incidents as f64));
    let open = Signal::derive(move || open_n().map(|x| format!("{x:.0}")).unwrap_or("—".into()));
    let open_class = Signal::derive(move || {
        if open_n().unwrap_or(0.0) > 0.0 {
            "red".into()
        } else {
            String::new()
        }
    });
    let budget = Signal::derive(move || pct(fig(|o| o.error_budget_left)));
    let budget_class = Signal::derive(move || match fig(|o| o.error_budget_left) {
        Some(b) if b < 0.1 => "red".into(),
        Some(b) if b < 0.5 => "amber".into(),
        _ => String::new(),
    });
    let scenes = move || {
        live.overview
            .with(|v| v.as_ref().map(|b| b.scenes.clone()).unwrap_or_default())
            .into_iter()
            .map(|s| {
                view! {
                    <div class=format!("scene {}", s.health.as_str())>
                        <div class="name">{s.scene.clone()}</div>
                        <div class="sub">{format!("{}/s · {}", num(s.rate), pct(s.success_rate))}</div>
                    </div>
                }
            })
            .collect_view()
    };
    view! {
        <section class="figures">
            <Figure id="tps" label="payments / s" value=tps />
            <Figure id="success-rate" label="success rate" value=success class=success_class />
            <Figure id="mttr" label="MTTR (last incident)" value=mttr sub=mttr_avg />
            <Figure id="incidents" label="open incidents" value=open class=open_class />
            <Figure id="error-budget" label="error budget left" value=budget class=budget_class />
        </section>
        <section class="panel">
            <h2>"Payments per second"</h2>
            <Sparkline values=Signal::derive(move || live.tps_history.get()) />
        </section>
        <section class="panel">
            <h2>"Scenes"</h2>
            <div id="scenes" class="scenes">{scenes}</div>
        </section>
        <section class="panel">
            <h2>"Alert feed"</h2>
            {move || view! { <AlertList alerts=live.alerts.get() /> }}
        </section>
    }
}
