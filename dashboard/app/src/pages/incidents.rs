//! Incidents: the live list, and the incident room — timeline, impact, the plan's
//! steps with Approve / Reject (commanders; shown disabled to viewers), reconciliation.

use crate::api::{self, Live, Session};
use crate::components::{health_class, text, JsonTable, KeyValues};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use serde_json::{json, Value};

/// A field of an incident, accepting the healer's own names too (`state` for `status`,
/// `trigger` for `root_cause`, the plan name for `title`).
fn field(i: &Value, k: &str) -> Value {
    let alt: &[&str] = match k {
        "status" => &["status", "state"],
        "root_cause" => &["root_cause", "trigger"],
        "title" => &["title", "plan"],
        _ => &[],
    };
    std::iter::once(k)
        .chain(alt.iter().copied())
        .find_map(|name| i.get(name).filter(|v| !v.is_null()).cloned())
        .unwrap_or(Value::Null)
}

/// Timeline rows in time order (RFC 3339 `time` or `at_us`), stable for equal times.
fn by_time(mut v: Value) -> Value {
    if let Some(rows) = v.as_array_mut() {
        rows.sort_by(|a, b| {
            let key = |r: &Value| match (
                r.get("time").and_then(Value::as_str),
                r.get("at_us").and_then(Value::as_f64),
            ) {
                (Some(t), _) => t.to_string(),
                (None, Some(us)) => format!("{us:020.0}"),
                _ => String::new(),
            };
            key(a).cmp(&key(b))
        });
    }
    v
}

/// Timeline rows for people: the clock time of day (UTC, to the millisecond) and what
/// happened, with who did it ("Approved: approved by cole").
fn readable(v: Value) -> Value {
    let rows = v.as_array().cloned().unwrap_or_default();
    let rows = rows
        .into_iter()
        .map(|r| {
            let time = r.get("time").and_then(Value::as_str).map(|t| {
                t.get(11..23)
                    .filter(|_| t.len() > 23)
                    .map(|hms| format!("{hms}Z"))
                    .unwrap_or_else(|| t.to_string())
            });
            let what = text(r.get("what").unwrap_or(&Value::Null));
            let what = match r.get("by").and_then(Value::as_str) {
                Some(by) if !by.is_empty() => format!("{what} by {by}"),
                _ => what,
            };
            json!({"time": time, "what": what})
        })
        .collect();
    Value::Array(rows)
}

/// Impact as people read it: money in currency units with thousands separators.
fn impact(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        if let Some(c) = o.get("money_at_stake_cents").and_then(Value::as_u64) {
            o.remove("money_at_stake_cents");
            let units = (c / 100).to_string();
            let mut grouped = String::new();
            for (i, ch) in units.chars().enumerate() {
                if i > 0 && (units.len() - i) % 3 == 0 {
                    grouped.push(',');
                }
                grouped.push(ch);
            }
            o.insert(
                "money_at_stake".into(),
                json!(format!("{grouped}.{:02}", c % 100)),
            );
        }
    }
    v
}

#[component]
pub fn IncidentList() -> impl IntoView {
    let live = expect_context::<Live>();
    let rows = move || {
        let list = live.incidents.get().as_array().cloned().unwrap_or_default();
        if list.is_empty() {
            return view! { <p class="empty">"No incidents."</p> }.into_any();
        }
        list.into_iter()
            .map(|i| {
                let id = text(&field(&i, "id"));
                let status = field(&i, "status");
                view! {
                    <li class=format!("incident {}", health_class(&status))>
                        <A href=format!("/incidents/{id}")>{format!("{id} · {}", text(&field(&i, "title")))}</A>
                        <span class="status">{text(&status)}</span>
                        <span class="sub">{text(&field(&i, "root_cause"))}</span>
                    </li>
                }
            })
            .collect_view()
            .into_any()
    };
    view! { <section class="panel"><h2>"Incidents"</h2><ul id="incident-list" class="incidents">{rows}</ul></section> }
}

#[component]
pub fn IncidentRoom() -> impl IntoView {
    let live = expect_context::<Live>();
    let session = expect_context::<Session>();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    // Re-read whenever the live incident list changes.
    let data = LocalResource::new(move || {
        live.incidents.track();
        let id = id();
        async move { api::get(&format!("/api/incidents/{id}")).await }
    });
    let message = RwSignal::new(String::new());
    let act = move |verb: &'static str| {
        let id = id();
        leptos::task::spawn_local(async move {
            let body = if verb == "reject" {
                json!({"reason": "rejected from the incident room"})
            } else {
                json!({})
            };
            match api::post(&format!("/api/incidents/{id}/{verb}"), &body).await {
                Ok(_) => message.set(format!("{verb}: done")),
                Err(e) => message.set(format!("{verb}: {e}")),
            }
            data.refetch();
        });
    };
    let room = move || match data.get() {
        None => view! { <p class="empty">"Loading…"</p> }.into_any(),
        Some(Err(e)) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
        Some(Ok(i)) => {
            let get = |k: &str| field(&i, k);
            let plan = get("plan");
            let steps = plan.get("steps").cloned().unwrap_or_else(|| get("actions"));
            let awaiting = plan.get("status").and_then(Value::as_str) == Some("awaiting_approval");
            let commander = session.is_commander();
            let can = commander && awaiting;
            let why_not = if !commander {
                Some("Approving needs the commander role.".to_string())
            } else if !awaiting && !plan.is_null() {
                Some(format!(
                    "Nothing to approve: the plan is {}.",
                    text(plan.get("status").unwrap_or(&Value::Null))
                ))
            } else {
                None
            };
            view! {
                <section class="panel">
                    <h2 id="incident-title">{format!("{} · {}", text(&get("id")), text(&get("title")))}</h2>
                    <p id="incident-status" class=format!("status {}", health_class(&get("status")))>{text(&get("status"))}</p>
                    <p>"Root cause: " <strong id="root-cause">{text(&get("root_cause"))}</strong></p>
                </section>
                <section id="timeline" class="panel"><h2>"Timeline"</h2><JsonTable rows=readable(by_time(get("timeline"))) /></section>
                <section class="panel"><h2>"Impact"</h2><KeyValues obj=impact(get("impact")) /></section>
                {(!get("candidates").is_null()).then(|| view! {
                    <section class="panel"><h2>"Candidates"</h2><JsonTable rows=get("candidates") /></section>
                })}
                <section class="panel">
                    <h2>"Plan " <span id="plan-name">{text(plan.get("name").unwrap_or(&plan))}</span></h2>
                    <p>"approval: " <span id="plan-approval">{text(plan.get("approval").unwrap_or(&Value::Null))}</span>
                        " · status: " <strong id="plan-status">{text(plan.get("status").unwrap_or(&Value::Null))}</strong></p>
                    <JsonTable rows=steps empty=if plan.is_null() { "No plan matched." } else { "No action taken yet." } />
                    <div class="actions">
                        <button id="approve" disabled=!can on:click=move |_| act("approve")>"Approve"</button>
                        <button id="reject" class="secondary" disabled=!can on:click=move |_| act("reject")>"Reject"</button>
                        {why_not.map(|w| view! { <span id="approve-note" class="sub">{w}</span> })}
                    </div>
                    <p id="action-result">{move || message.get()}</p>
                </section>
                <section class="panel"><h2>"Reconciliation"</h2>{
                    if get("reconciliation").is_null() {
                        view! { <p class="empty">"Checked after recovery."</p> }.into_any()
                    } else {
                        view! { <KeyValues obj=get("reconciliation") /> }.into_any()
                    }
                }</section>
            }
            .into_any()
        }
    };
    view! { <div id="incident-room">{room}</div> }
}
