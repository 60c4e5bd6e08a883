//! Incidents: the live list, and the incident room — the damage chart, the latest plan
//! with Approve / Reject, the commander's levers (`levers.rs`: runs and their actions with
//! Undo, the plans with Run, Resolve), timeline, impact, candidates, reconciliation. The
//! buttons are for commanders; viewers see them disabled. The room re-reads the incident
//! when the live list changes and every 2 s.

use super::damage::DamageChart;
use super::levers::Levers;
use crate::api::{self, Live, Session};
use crate::components::{money, num, status_class, time_of_day, KeyValues, Table};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use screen::{
    Approved, IncidentDetail, PlanStatus, Reconciliation, RejectRequest, Rejected, TimelineEntry,
};
use std::time::Duration;

/// Timeline rows in time order (stable for equal times), for people: the time of day
/// and what happened, with who did it ("Approved: approved by cole").
fn timeline_rows(entries: &[TimelineEntry]) -> Vec<Vec<String>> {
    let mut sorted: Vec<&TimelineEntry> = entries.iter().collect();
    sorted.sort_by_key(|e| e.at_us);
    sorted
        .into_iter()
        .map(|e| {
            let what = match e.by.as_deref() {
                Some(by) if !by.is_empty() => format!("{} by {by}", e.what),
                _ => e.what.clone(),
            };
            vec![time_of_day(&e.time), what]
        })
        .collect()
}

fn reconciliation(r: &Reconciliation) -> Vec<(&'static str, String)> {
    let mut v = vec![
        ("orders", r.orders.to_string()),
        ("ledger entries", r.ledger_entries.to_string()),
        ("bank records", r.bank_records.to_string()),
        ("mismatches", r.mismatches.to_string()),
    ];
    if !r.detail.is_empty() {
        v.push(("detail", r.detail.join(", ")));
    }
    v
}

#[component]
pub fn IncidentList() -> impl IntoView {
    let live = expect_context::<Live>();
    let rows = move || {
        let list = live.incidents.get();
        if list.is_empty() {
            return view! { <p class="empty">"No incidents."</p> }.into_any();
        }
        list.into_iter()
            .map(|i| {
                let status = i.status.as_str();
                view! {
                    <li class=format!("incident {}", status_class(status))>
                        <A href=format!("/incidents/{}", i.id)>{format!("{} · {}", i.id, i.title)}</A>
                        <span class="status">{status}</span>
                        <span class="sub">{i.root_cause.clone()}</span>
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
    let incident = Signal::derive(move || params.with(|p| p.get("id").unwrap_or_default()));
    let id = move || incident.get();
    // Re-read whenever the live incident list changes, and every 2 s for the chart.
    let data = LocalResource::new(move || {
        live.incidents.track();
        let id = id();
        async move { api::get::<IncidentDetail>(&format!("/api/incidents/{id}")).await }
    });
    if let Ok(h) = set_interval_with_handle(move || data.refetch(), Duration::from_secs(2)) {
        on_cleanup(move || h.clear());
    }
    let message = RwSignal::new(String::new());
    let act = move |verb: &'static str| {
        let id = id();
        leptos::task::spawn_local(async move {
            let path = format!("/api/incidents/{id}/{verb}");
            let done = if verb == "reject" {
                let why = RejectRequest {
                    reason: Some("rejected from the incident room".into()),
                };
                api::post::<Rejected>(&path, &why).await.map(|_| ())
            } else {
                api::post_empty::<Approved>(&path).await.map(|_| ())
            };
            match done {
                Ok(()) => message.set(format!("{verb}: done")),
                Err(e) => message.set(format!("{verb}: {e}")),
            }
            data.refetch();
        });
    };
    let top = move || match data.get() {
        None => view! { <p class="empty">"Loading…"</p> }.into_any(),
        Some(Err(e)) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
        Some(Ok(i)) => {
            let plan = i.plan.clone();
            let awaiting = plan
                .as_ref()
                .is_some_and(|p| p.status == PlanStatus::AwaitingApproval);
            let commander = session.is_commander();
            let can = commander && awaiting;
            let why_not = match &plan {
                _ if !commander => Some("Approving needs the commander role.".to_string()),
                Some(p) if !awaiting => Some(format!(
                    "Nothing to approve: the plan is {}.",
                    p.status.as_str()
                )),
                _ => None,
            };
            let plan_name = plan
                .as_ref()
                .and_then(|p| p.name.clone())
                .unwrap_or_else(|| "—".into());
            let approval = plan
                .as_ref()
                .map(|p| p.approval.clone())
                .unwrap_or_else(|| "—".into());
            let plan_status = plan.as_ref().map_or("—", |p| p.status.as_str());
            let steps = plan.as_ref().map(|p| p.steps.clone()).unwrap_or_default();
            let no_steps = if plan.is_none() {
                "No plan matched."
            } else {
                "No action taken yet."
            };
            let status = i.status.as_str();
            view! {
                <section class="panel">
                    <h2 id="incident-title">{format!("{} · {}", i.id, i.title)}</h2>
                    <p id="incident-status" class=format!("status {}", status_class(status))>{status}</p>
                    <p>"Root cause: " <strong id="root-cause">{i.root_cause.clone()}</strong></p>
                </section>
                <DamageChart points=i.damage.clone() timeline=i.timeline.clone() />
                <section class="panel">
                    <h2>"Plan " <span id="plan-name">{plan_name}</span></h2>
                    <p>"approval: " <span id="plan-approval">{approval}</span>
                        " · status: " <strong id="plan-status">{plan_status}</strong></p>
                    {if steps.is_empty() {
                        view! { <p class="empty">{no_steps}</p> }.into_any()
                    } else {
                        let items = steps.into_iter().map(|s| view! { <li>{s}</li> }).collect_view();
                        view! { <ol class="plain">{items}</ol> }.into_any()
                    }}
                    <div class="actions">
                        <button id="approve" disabled=!can on:click=move |_| act("approve")>"Approve"</button>
                        <button id="reject" class="secondary" disabled=!can on:click=move |_| act("reject")>"Reject"</button>
                        {why_not.map(|w| view! { <span id="approve-note" class="sub">{w}</span> })}
                    </div>
                    <p id="action-result">{move || message.get()}</p>
                </section>
            }
            .into_any()
        }
    };
    let bottom = move || {
        let Some(Ok(i)) = data.get() else {
            return ().into_any();
        };
        let impact = vec![
            ("users", i.impact.users.to_string()),
            ("scenes", i.impact.scenes.join(", ")),
            ("failed payments", i.impact.failed_payments.to_string()),
            ("money at stake", money(i.impact.money_at_stake_cents)),
        ];
        let candidates: Vec<Vec<String>> = i
            .candidates
            .iter()
            .map(|c| {
                vec![
                    c.root_cause.clone(),
                    num(c.confidence),
                    c.evidence.join("; "),
                ]
            })
            .collect();
        view! {
            <section id="timeline" class="panel"><h2>"Timeline"</h2>
                <Table head=&["time", "what"] rows=timeline_rows(&i.timeline) />
            </section>
            <section class="panel"><h2>"Impact"</h2><KeyValues pairs=impact /></section>
            {(!candidates.is_empty()).then(|| view! {
                <section class="panel"><h2>"Candidates"</h2>
                    <Table head=&["root cause", "confidence", "evidence"] rows=candidates />
                </section>
            })}
            <section class="panel"><h2>"Reconciliation"</h2>{
                match &i.reconciliation {
                    None => view! { <p class="empty">"Checked after recovery."</p> }.into_any(),
                    Some(r) => view! { <KeyValues pairs=reconciliation(r) /> }.into_any(),
                }
            }</section>
        }
        .into_any()
    };
    view! {
        <div id="incident-room">
            {top}
            <Levers incident=incident data=data />
            {bottom}
        </div>
    }
}
