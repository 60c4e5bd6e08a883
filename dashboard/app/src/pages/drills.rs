//! Drills (admins): pick a fault and a target, inject it, then watch the overview and
//! the incident room heal it. Shown disabled to other roles (the API refuses them too).

use crate::api::{self, Session};
use crate::components::{text, JsonTable};
use leptos::prelude::*;
use serde_json::{json, Value};

#[component]
pub fn Drills() -> impl IntoView {
    let session = expect_context::<Session>();
    let kinds = LocalResource::new(|| api::get("/api/drills"));
    let fault = RwSignal::new(String::new());
    let target = RwSignal::new(String::new());
    let result = RwSignal::new(String::new());
    let inject = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let t = target.get_untracked();
        let body = json!({"fault": fault.get_untracked().trim(), "target": if t.trim().is_empty() { Value::Null } else { json!(t.trim()) }});
        leptos::task::spawn_local(async move {
            match api::post("/api/drills", &body).await {
                Ok(v) => result.set(format!("injected: {}", text(&v))),
                Err(e) => result.set(e.to_string()),
            }
        });
    };
    let options = move || {
        kinds
            .get()
            .and_then(|r| r.ok())
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .into_iter()
            .map(|k| {
                let name = text(k.get("fault").unwrap_or(&k));
                view! { <option value=name.clone()>{name.clone()}</option> }
            })
            .collect_view()
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
        <section class="panel"><h2>"Faults"</h2>
            {move || kinds.get().and_then(|r| r.ok()).map(|v| view! { <JsonTable rows=v empty="The backend lists no faults." /> })}
        </section>
    }
}
