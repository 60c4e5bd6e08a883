//! Changes: deploys, config and rule changes, plan actions, newest first.

use crate::components::{polled, time_of_day, Table};
use leptos::prelude::*;
use screen::ChangeEvent;

fn changes(list: Vec<ChangeEvent>) -> AnyView {
    let rows = list
        .into_iter()
        .map(|c| {
            vec![
                time_of_day(&c.time),
                String::from(c.event.as_str()),
                c.service,
                c.version,
                c.detail,
                c.by,
            ]
        })
        .collect();
    let head = &["time", "event", "service", "version", "detail", "by"];
    view! { <Table head=head rows=rows empty="No changes recorded." /> }.into_any()
}

#[component]
pub fn Changes() -> impl IntoView {
    view! { <section class="panel"><h2>"Changes"</h2>{polled("/api/changes", 3, "changes", changes)}</section> }
}
