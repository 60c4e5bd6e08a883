//! Drills (admins): pick a fault and a target, inject it, then watch the overview and
//! the incident room heal it. Shown disabled to other roles (the API refuses them too).

use crate::api::{self, Session};
use crate::components::Table;
use leptos::prelude::*;
use screen::{DrillInjected, DrillKind, DrillRequest};

#[component]
pub fn Drills() -> impl IntoView {
    let session = expect_context::<Session>();
    let kinds = LocalResource::new(|| api::get::<Vec<DrillKind>>("/api/drills"));
    let fault = RwSignal::new(String::new());
    let target = RwSignal::new(String::new());
    let result = RwSignal::new(String::new());
    let inject = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let t = target.get_untracked().trim().to_string();
        let body = DrillRequest {
            fault: fault.get_untracked().trim().to_string(),
            target: (!t.is_empty()).then_some(t),
        };
        leptos::task::spawn_local(async move {
            match api::post::<DrillInjected>("/api/drills", &body).await {
                Ok(v) => result.set(format!("injected: {}", v.injected)),
                Err(e) => result.set(e.to_string()),
            }
        });
    };
    let known = move || kinds.get().and_then(|r| r.ok()).unwrap_or_default();
    let options = move || {
        known()
            .into_iter()
            .map(|k| view! { <option value=k.fault.clone()>{k.fault.clone()}</option> })
            .collect_view()
    };
    let table = move || {
        kinds.get().and_then(|r| r.ok()).map(|list| {
            let rows = list
                .into_iter()
                .map(|k| vec![k.fault, k.targets.join(", ")])
                .collect();
            view! { <Table head=&["fault", "targets"] rows=rows empty="The backend lists no faults." /> }
        })
    };
    view! {
        <section class="panel">
            <h2>"Inject a fault"</h2>
            {move || (!session.is_admin()).then(|| view! { <p class="sub" id="drill-role-note">"Drills need the admin role."</p> })}
            <form class="inline" on:submit=inject>
                <label>"Fault" <input id="drill-fault" list="drill-kinds" bind:value=fault /></label>
                <datalist id="drill-kinds">{options}</datalist>
                <label>"Target" <input id="drill-target" placeholder="optional" bind:value=target /></label>
                <button id="drill-inject" type="submit" disabled=move || !session.is_admin()>"Inject"</button>
            </form>
            <p id="drill-result">{move || result.get()}</p>
        </section>
        <section class="panel"><h2>"Faults"</h2>{table}</section>
    }
}
