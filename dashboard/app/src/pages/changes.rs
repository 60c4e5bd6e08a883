//! Changes: deploys, config and rule changes, plan actions, newest first.

use crate::components::PolledTable;
use leptos::prelude::*;

#[component]
pub fn Changes() -> impl IntoView {
    view! { <section class="panel"><h2>"Changes"</h2><PolledTable path="/api/changes" every_s=3 id="changes" empty="No changes recorded." /></section> }
}
