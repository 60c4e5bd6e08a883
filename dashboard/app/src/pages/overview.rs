//! Command overview: the north-star figures (`#tps`, `#success-rate`, `#mttr`,
//! `#incidents`, `#error-budget`), a payments/s sparkline, the scene board and the
//! alert feed — all from the live stream.

use crate::api::Live;
use crate::components::{pct, secs, text, AlertList, Figure, Sparkline};
use leptos::prelude::*;
use serde_json::Value;

#[component]
pub fn Overview() -> impl IntoView {
    let live = expect_context::<Live>();
    let num = move |p: &'static str| live.overview.with(|v| v.pointer(p).and_then(Value::as_f64));
    let tps = Signal::derive(move || {
        num("/overview/payments_per_s")
            .map(|x| format!("{x:.0}"))
            .unwrap_or("—".into())
    });
    let success = Signal::derive(move || pct(num("/overview/success_rate")));
    let success_class = Signal::derive(move || match num("/overview/success_rate") {
        Some(s) if s < 0.95 => "red".into(),
        Some(s) if s < 0.99 => "amber".into(),
        _ => String::new(),
    });
    let mttr = Signal::derive(move || secs(num("/overview/mttr_last_s")));
    let mttr_avg = Signal::derive(move || format!("average {}", secs(num("/overview/mttr_avg_s"))));
    let open = Signal::derive(move || {
        num("/overview/open_incidents")
            .map(|x| format!("{x:.0}"))
            .unwrap_or("—".into())
    });
    let open_class = Signal::derive(move || {
        if num("/overview/open_incidents").unwrap_or(0.0) > 0.0 {
            "red".into()
        } else {
            String::new()
        }
    });
    let budget = Signal::derive(move || pct(num("/overview/error_budget_left")));
    let budget_class = Signal::derive(move || match num("/overview/error_budget_left") {
        Some(b) if b < 0.1 => "red".into(),
        Some(b) if b < 0.5 => "amber".into(),
        _ => String::new(),
    });
    let scenes = move || {
        live.overview.with(|v| v.get("scenes").and_then(Value::as_array).cloned().unwrap_or_default())
            .into_iter()
            .map(|s| {
                let cls = format!("scene {}", s.get("health").and_then(Value::as_str).unwrap_or("green"));
                view! {
                    <div class=cls>
                        <div class="name">{text(s.get("scene").unwrap_or(&Value::Null))}</div>
                        <div class="sub">{format!("{}/s · {}", text(s.get("rate").unwrap_or(&Value::Null)),
                            pct(s.get("success_rate").and_then(Value::as_f64)))}</div>
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
