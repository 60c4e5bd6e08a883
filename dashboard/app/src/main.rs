//! The war-room screen (Leptos, client-side rendered, compiled to wasm32): the shell —
//! session check, login gate, navigation, live stream — and the routes to one page per
//! screen under `pages/`. All server access lives in `api.rs`.

mod api;
mod components;
mod pages;

use api::{Live, Session};
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let session = Session {
        me: RwSignal::new(None),
        checked: RwSignal::new(false),
    };
    provide_context(session);
    let live = Live::new();
    provide_context(live);
    leptos::task::spawn_local(async move {
        if let Ok(me) = api::me().await {
            session.me.set(Some(me));
        }
        session.checked.set(true);
    });
    // Open the live stream once logged in.
    Effect::new(move |opened: Option<bool>| {
        let opened = opened.unwrap_or(false);
        if !opened && session.me.get().is_some() {
            std::mem::forget(live.connect());
            return true;
        }
        opened
    });
    view! {
        <Router>
            <Show
                when=move || session.me.get().is_some()
                fallback=move || view! {
                    <Show when=move || session.checked.get() fallback=|| view! { <p class="loading">"Loading…"</p> }>
                        <pages::login::Login />
                    </Show>
                }
            >
                <Nav />
                <main>
                    <Routes fallback=|| view! { <p class="empty">"No such screen."</p> }>
                        <Route path=path!("/") view=pages::overview::Overview />
                        <Route path=path!("/topology") view=pages::topology::TopologyPage />
                        <Route path=path!("/incidents") view=pages::incidents::IncidentList />
                        <Route path=path!("/incidents/:id") view=pages::incidents::IncidentRoom />
                        <Route path=path!("/hotspots") view=pages::hotspots::Hotspots />
                        <Route path=path!("/sla") view=pages::sla::SlaBoard />
                        <Route path=path!("/alerts") view=pages::alerts::Alerts />
                        <Route path=path!("/changes") view=pages::changes::Changes />
                        <Route path=path!("/trace") view=pages::trace::TraceSearch />
                        <Route path=path!("/drills") view=pages::drills::Drills />
                    </Routes>
                </main>
            </Show>
        </Router>
    }
}

#[component]
fn Nav() -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    // The drills screen only where there is something to inject into (not under
    // `warroom serve`, whose `/api/drills` lists no fault kind).
    let drills = RwSignal::new(false);
    leptos::task::spawn_local(async move {
        if let Ok(kinds) = api::get::<Vec<screen::DrillKind>>("/api/drills").await {
            drills.set(!kinds.is_empty());
        }
    });
    let logout = move |_| {
        leptos::task::spawn_local(async move {
            let _ = api::logout().await;
            let _ = window().location().set_href("/");
        });
    };
    view! {
        <header class="top">
            <span class="brand">"war-room"</span>
            <nav>
                <A href="/">"Overview"</A>
                <A href="/topology">"Topology"</A>
                <A href="/incidents">"Incidents"</A>
                <A href="/hotspots">"Hot spots"</A>
                <A href="/sla">"SLA"</A>
                <A href="/alerts">"Alerts"</A>
                <A href="/changes">"Changes"</A>
                <A href="/trace">"Trace"</A>
                <Show when=move || drills.get()>
                    <A href="/drills">"Drills"</A>
                </Show>
            </nav>
            <span class="who">
                <span class=move || if live.connected.get() { "dot green" } else { "dot red" }
                    title=move || if live.connected.get() { "live" } else { "reconnecting" }></span>
                {move || session.me.get().map(|m| format!("{} ({})", m.user, m.role.as_str()))}
                <button id="logout" on:click=logout>"Log out"</button>
            </span>
        </header>
    }
}
