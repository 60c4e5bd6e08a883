//! SLA board: objectives, error budgets and burn rates, and each service's live figures.

use crate::components::PolledTable;
use leptos::prelude::*;

#[component]
pub fn SlaBoard() -> impl IntoView {
    view! {
        <section class="panel"><h2>"Objectives"</h2><PolledTable path="/api/slo" every_s=2 id="slo" empty="No objectives configured." /></section>
        <section class="panel"><h2>"Services"</h2><PolledTable path="/api/services" every_s=2 id="services" /></section>
    }
}
