//! Hot spots: the heavy hitters over business keys (merchant, account, user, bank), refreshed every 2 s.

use crate::components::PolledTable;
use leptos::prelude::*;

#[component]
pub fn Hotspots() -> impl IntoView {
    view! { <section class="panel"><h2>"Hot spots"</h2><PolledTable path="/api/hotspots" every_s=2 id="hotspots" empty="No hot keys." /></section> }
}
