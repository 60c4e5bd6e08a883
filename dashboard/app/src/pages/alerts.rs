//! Alerts and silences: the live alert list, current silences, and a form to silence
//! (commanders): matchers `name=value, …`, a duration, a comment.

use crate::api::{self, Live, Session};
use crate::components::{polled, time_of_us, AlertList, Table};
use leptos::prelude::*;
use screen::{Silence, SilenceRequest};

fn silences(list: Vec<Silence>) -> AnyView {
    let rows = list
        .into_iter()
        .map(|s| {
            let matchers = s
                .matchers
                .iter()
                .map(|m| format!("{}{}{}", m.name, m.op.as_str(), m.value))
                .collect::<Vec<_>>()
                .join(", ");
            vec![
                s.id,
                matchers,
                time_of_us(s.starts_at_us),
                time_of_us(s.ends_at_us),
                s.created_by,
                s.comment,
            ]
        })
        .collect();
    let head = &["id", "matchers", "starts", "ends", "created by", "comment"];
    view! { <Table head=head rows=rows empty="No silences." /> }.into_any()
}

#[component]
pub fn Alerts() -> impl IntoView {
    let live = expect_context::<Live>();
    let session = expect_context::<Session>();
    let matchers = RwSignal::new(String::new());
    let minutes = RwSignal::new("60".to_string());
    let comment = RwSignal::new(String::new());
    let result = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let matchers = matchers
            .get_untracked()
            .split(',')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let Ok(mins) = minutes.get_untracked().trim().parse::<u64>() else {
            result.set("duration: minutes as a whole number".into());
            return;
        };
        let body = SilenceRequest {
            matchers,
            duration_s: mins * 60,
            comment: comment.get_untracked(),
        };
        leptos::task::spawn_local(async move {
            match api::post::<Silence>("/api/silences", &body).await {
                Ok(_) => result.set("silence created".into()),
                Err(e) => result.set(e.to_string()),
            }
        });
    };
    view! {
        <section class="panel"><h2>"Alerts"</h2>{move || view! { <AlertList alerts=live.alerts.get() /> }}</section>
        <section class="panel"><h2>"Silences"</h2>{polled("/api/silences", 3, "silences", silences)}</section>
        <section class="panel">
            <h2>"New silence"</h2>
            <form class="inline" on:submit=submit>
                <label>"Matchers" <input id="silence-matchers" placeholder="service=trade, alert=error_ratio" bind:value=matchers /></label>
                <label>"Minutes" <input id="silence-minutes" bind:value=minutes /></label>
                <label>"Comment" <input id="silence-comment" bind:value=comment /></label>
                <button id="silence-submit" type="submit" disabled=move || !session.is_commander()>"Silence"</button>
            </form>
            <p id="silence-result">{move || result.get()}</p>
        </section>
    }
}
