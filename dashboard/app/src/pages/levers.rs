//! The commander's levers in the incident room: every plan run with its applied actions
//! and an Undo button each (`#runs`), the plans that can answer the incident with what
//! each will change and a Run button (`#plans`), and Resolve with a note (`#resolve`).
//! Commanders only; viewers see the same panels with the buttons disabled and a note
//! saying why. Each lever reports in its own line (`#undo-result`, `#run-result`,
//! `#resolve-result`) and re-reads the incident.

use crate::api::{self, ApiErr, Session};
use leptos::prelude::*;
use screen::{
    IncidentDetail, IncidentStatus, PlanApproval, PlanChoice, PlanStatus, ResolveRequest, Resolved,
    RunDetail, RunRequest, RunStarted, UndoRequest, Undone,
};

const NEEDS_COMMANDER: &str = "The levers need the commander role.";

/// Who lets the plan act when the healer picks it, for people.
fn approval_words(a: PlanApproval) -> &'static str {
    match a {
        PlanApproval::Auto => "acts at once",
        PlanApproval::Commander => "waits for a commander",
        PlanApproval::CommanderOnCore => "a commander on core services",
    }
}

/// The run still deciding or acting on the incident's target (a second one is refused).
fn acting(i: &IncidentDetail) -> Option<u64> {
    i.runs
        .iter()
        .find(|r| {
            matches!(
                r.state,
                PlanStatus::AwaitingApproval | PlanStatus::Running | PlanStatus::Verifying
            )
        })
        .map(|r| r.id)
}

fn run_line(r: &RunDetail) -> String {
    let mut parts = vec![
        format!("run {}", r.id),
        r.plan.clone().unwrap_or_else(|| "no plan".into()),
        r.state.as_str().to_string(),
        r.target.clone(),
    ];
    if let Some(by) = &r.approved_by {
        parts.push(format!("approved by {by}"));
    }
    if r.harm_aborted || r.harm_failed_payments > 0.0 {
        parts.push(format!(
            "harm: {:.0} failed payments{}",
            r.harm_failed_payments,
            if r.harm_aborted {
                ", undone by the no-harm check"
            } else {
                ""
            }
        ));
    }
    parts.join(" · ")
}

#[component]
pub fn Levers(
    incident: Signal<String>,
    data: LocalResource<Result<IncidentDetail, ApiErr>>,
) -> impl IntoView {
    let session = expect_context::<Session>();
    let detail = move || data.get().and_then(|r| r.ok());
    // The plans fit the incident's target: re-read when the diagnosis moves it.
    let cause = Memo::new(move |_| detail().map(|i| i.root_cause));
    let plans = LocalResource::new(move || {
        let id = incident.get();
        cause.track();
        async move { api::get::<Vec<PlanChoice>>(&format!("/api/incidents/{id}/plans")).await }
    });
    let open = move || detail().is_some_and(|i| i.status == IncidentStatus::Open);
    let (undo_result, run_result, resolve_result) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let note = RwSignal::new(String::new());
    let undo = move |action: String| {
        let id = incident.get_untracked();
        leptos::task::spawn_local(async move {
            let body = UndoRequest {
                action: action.clone(),
            };
            let path = format!("/api/incidents/{id}/undo");
            undo_result.set(match api::post::<Undone>(&path, &body).await {
                Ok(u) => format!("undo {}: done", u.action),
                Err(e) => format!("undo {action}: {e}"),
            });
            data.refetch();
        });
    };
    let run = move |plan: String| {
        let id = incident.get_untracked();
        leptos::task::spawn_local(async move {
            let body = RunRequest { plan: plan.clone() };
            let path = format!("/api/incidents/{id}/run");
            run_result.set(match api::post::<RunStarted>(&path, &body).await {
                Ok(s) => format!("run {}: started as run {}", s.plan, s.run),
                Err(e) => format!("run {plan}: {e}"),
            });
            data.refetch();
            plans.refetch();
        });
    };
    let resolve = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let id = incident.get_untracked();
        let body = ResolveRequest {
            note: note.get_untracked().trim().to_string(),
        };
        leptos::task::spawn_local(async move {
            let path = format!("/api/incidents/{id}/resolve");
            resolve_result.set(match api::post::<Resolved>(&path, &body).await {
                Ok(_) => "resolve: done".into(),
                Err(e) => format!("resolve: {e}"),
            });
            data.refetch();
        });
    };

    let runs = move || {
        let Some(i) = detail() else {
            return view! { <p class="empty">"Loading…"</p> }.into_any();
        };
        if i.runs.is_empty() {
            return view! { <p class="empty">"No plan has run."</p> }.into_any();
        }
        let commander = session.is_commander();
        i.runs
            .iter()
            .rev()
            .map(|r| {
                let actions = if r.actions.is_empty() {
                    view! { <p class="empty">"No action applied."</p> }.into_any()
                } else {
                    r.actions
                        .iter()
                        .map(|a| {
                            let id = a.id.clone();
                            view! {
                                <li class="lever" data-action=a.id.clone()>
                                    <span class="what">{format!("{} · {}", a.id, a.what)}</span>
                                    {a.undone.then(|| view! { <span class="tag">"undone"</span> })}
                                    <button class="undo secondary" disabled=!commander || a.undone
                                        on:click=move |_| undo(id.clone())>"Undo"</button>
                                </li>
                            }
                        })
                        .collect_view()
                        .into_any()
                };
                view! {
                    <div class="run-group" data-run=r.id>
                        <p class="sub">{run_line(r)}</p>
                        <ul class="levers">{actions}</ul>
                    </div>
                }
            })
            .collect_view()
            .into_any()
    };

    let choices = move || match plans.get() {
        None => view! { <p class="empty">"Loading…"</p> }.into_any(),
        Some(Err(e)) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
        Some(Ok(list)) if list.is_empty() => {
            view! { <p class="empty">"No plan fits this incident's target."</p> }.into_any()
        }
        Some(Ok(list)) => {
            let can =
                session.is_commander() && open() && detail().and_then(|i| acting(&i)).is_none();
            list.into_iter()
                .map(|p| {
                    let name = p.name.clone();
                    let tags = [
                        p.automatic.then_some("the healer's pick"),
                        Some(if p.answers_kind { "answers this fault" } else { "fits the target" }),
                        Some(approval_words(p.approval)),
                    ];
                    let tags = tags
                        .into_iter()
                        .flatten()
                        .map(|t| view! { <span class="tag">{t}</span> })
                        .collect_view();
                    let changes = p
                        .changes
                        .iter()
                        .map(|c| view! { <li>{c.clone()}</li> })
                        .collect_view();
                    view! {
                        <li class="choice" data-plan=p.name.clone()>
                            <div><strong>{p.name.clone()}</strong> " " {tags}</div>
                            <p class="sub">{p.description.clone()}</p>
                            <ol class="plain changes">{changes}</ol>
                            <button class="run" disabled=!can on:click=move |_| run(name.clone())>"Run"</button>
                        </li>
                    }
                })
                .collect_view()
                .into_any()
        }
    };

    let why_not = move || {
        if !session.is_commander() {
            Some(NEEDS_COMMANDER.to_string())
        } else if detail().is_some() && !open() {
            Some("The incident is closed.".to_string())
        } else {
            detail().and_then(|i| acting(&i)).map(|run| {
                format!("Run {run} is deciding or acting on this target: approve, reject or undo it first.")
            })
        }
    };
    let note_problem = move || {
        let n = note.get();
        ResolveRequest {
            note: n.trim().to_string(),
        }
        .validate()
        .err()
        .map(|e| e.0)
    };
    let can_resolve = move || session.is_commander() && open() && note_problem().is_none();
    view! {
        <section id="runs" class="panel"><h2>"Runs and applied actions"</h2>
            {runs}
            <p id="undo-result">{move || undo_result.get()}</p>
        </section>
        <section id="plans" class="panel"><h2>"Plans"</h2>
            {move || why_not().map(|w| view! { <p class="sub" id="levers-note">{w}</p> })}
            <ul class="choices">{choices}</ul>
            <p id="run-result">{move || run_result.get()}</p>
        </section>
        <section id="resolve" class="panel"><h2>"Resolve"</h2>
            <form on:submit=resolve>
                <label>"Note (why it is over)"
                    <textarea id="resolve-note" rows="2" maxlength="1000" bind:value=note></textarea>
                </label>
                <div class="actions">
                    <button id="resolve-submit" type="submit" disabled=move || !can_resolve()>"Resolve"</button>
                </div>
            </form>
            <p id="resolve-result">{move || resolve_result.get()}</p>
        </section>
    }
}
