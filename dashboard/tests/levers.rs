//! The commander's levers over a real loopback socket (issue 12): the plans of an incident
//! (any role), Run, Undo and Resolve (commander) against a scripted incident that follows
//! the command loop's rules. Every refusal the contract names — unknown incident, plan or
//! action 404; a plan that does not fit, two runs at once, an action undone already, a
//! closed incident 409; a viewer 403; bad bodies 400 naming the field — changes nothing,
//! and every attempt is in the audit log with its outcome.

mod common;

use common::client::{get, login, post, Login};
use common::scripted::{ScriptedIncident, ZONE_PLAN};
use common::*;
use reqwest::header::{COOKIE, ORIGIN};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

async fn scripted() -> Running {
    start_wrapped(None, Duration::from_millis(100), |f| {
        Arc::new(ScriptedIncident::new(f))
    })
    .await
}

fn audit_lines(r: &Running) -> Vec<Value> {
    r.audit_text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The audit lines of `action`, as `(user, target, outcome)`.
fn audited(r: &Running, action: &str) -> Vec<(String, String, String)> {
    audit_lines(r)
        .iter()
        .filter(|l| l["action"] == action)
        .map(|l| {
            let s = |k: &str| l[k].as_str().unwrap_or("").to_string();
            (s("user"), s("target"), s("outcome"))
        })
        .collect()
}

async fn detail(r: &Running, l: &Login) -> screen::IncidentDetail {
    let (s, v) = get(r, l, "/api/incidents/inc-1").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    serde_json::from_value(v).unwrap()
}

/// POSTs `body` to `path` and expects `status`; the refusal is an `ErrorBody`, and the
/// incident is as it was.
async fn refused(
    r: &Running,
    l: &Login,
    path: &str,
    body: Value,
    status: StatusCode,
) -> screen::ErrorBody {
    let before = detail(r, &login(r, "vera").await).await;
    let (s, v) = post(r, l, path, body.clone()).await;
    assert_eq!(s, status, "{path} {body}: {v}");
    let after = detail(r, &login(r, "vera").await).await;
    assert_eq!(before, after, "{path} {body} changed the incident");
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
async fn viewers_read_the_plans_and_every_lever_is_403_audited() {
    let r = scripted().await;
    let viewer = login(&r, "vera").await;
    let (s, v) = get(&r, &viewer, "/api/incidents/inc-1/plans").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let plans: Vec<screen::PlanChoice> = serde_json::from_value(v).unwrap();
    assert_eq!(plans[0].name, "bank-failover");
    assert!(plans[0].automatic && !plans[1].automatic);
    for (path, body) in [
        ("/api/incidents/inc-1/run", json!({"plan": "bank-failover"})),
        ("/api/incidents/inc-1/undo", json!({"action": "1.0"})),
        ("/api/incidents/inc-1/resolve", json!({"note": "over"})),
    ] {
        let e = refused(&r, &viewer, path, body, StatusCode::FORBIDDEN).await;
        assert!(e.error.contains("commander role"), "{e:?}");
    }
    for action in ["run", "undo", "resolve"] {
        assert_eq!(
            audited(&r, action),
            [("vera".into(), "inc-1".into(), "denied".into())],
            "{action}"
        );
    }
}

#[tokio::test]
async fn unknown_incidents_plans_and_actions_are_404_audited() {
    let r = scripted().await;
    let cole = login(&r, "cole").await;
    let (s, v) = get(&r, &cole, "/api/incidents/inc-9/plans").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let nf = StatusCode::NOT_FOUND;
    let e = refused(
        &r,
        &cole,
        "/api/incidents/inc-9/run",
        json!({"plan": "bank-failover"}),
        nf,
    )
    .await;
    assert!(e.error.contains("incident inc-9"), "{e:?}");
    let e = refused(
        &r,
        &cole,
        "/api/incidents/inc-1/run",
        json!({"plan": "no-such-plan"}),
        nf,
    )
    .await;
    assert!(e.error.contains("no-such-plan"), "{e:?}");
    for action in ["1.0", "9.0"] {
        let e = refused(
            &r,
            &cole,
            "/api/incidents/inc-1/undo",
            json!({ "action": action }),
            nf,
        )
        .await;
        assert!(e.error.contains(action), "{e:?}");
    }
    refused(
        &r,
        &cole,
        "/api/incidents/inc-9/undo",
        json!({"action": "1.0"}),
        nf,
    )
    .await;
    refused(
        &r,
        &cole,
        "/api/incidents/inc-9/resolve",
        json!({"note": "over"}),
        nf,
    )
    .await;
    let runs = audited(&r, "run");
    assert_eq!(runs.len(), 4, "intent and outcome of each: {runs:?}");
    assert_eq!(
        runs[0],
        (
            "cole".into(),
            "inc-9/bank-failover".into(),
            "requested".into()
        )
    );
    assert!(runs[1].2.starts_with("failed: not found"), "{runs:?}");
    assert_eq!(runs[2].1, "inc-1/no-such-plan");
    let undos = audited(&r, "undo");
    assert_eq!(undos.len(), 6, "{undos:?}");
    assert_eq!(undos[3].1, "inc-1/9.0");
    assert!(undos
        .iter()
        .skip(1)
        .step_by(2)
        .all(|u| u.2.starts_with("failed: not found")));
    assert_eq!(audited(&r, "resolve")[1].1, "inc-9");
}

#[tokio::test]
async fn conflicts_are_409_change_nothing_and_are_audited() {
    let r = scripted().await;
    let cole = login(&r, "cole").await;
    let run = "/api/incidents/inc-1/run";
    let c = StatusCode::CONFLICT;
    // The healer's own plan waits on the target: a second run at once is refused.
    let e = refused(&r, &cole, run, json!({"plan": "bank-limit"}), c).await;
    assert!(e.error.contains("already working on"), "{e:?}");
    let e = refused(&r, &cole, run, json!({ "plan": ZONE_PLAN }), c).await;
    assert!(e.error.contains("does not fit"), "{e:?}");
    assert_eq!(
        post(&r, &cole, "/api/incidents/inc-1/reject", json!({}))
            .await
            .0,
        StatusCode::OK
    );
    let (s, v) = post(&r, &cole, run, json!({"plan": "bank-limit"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let started: screen::RunStarted = serde_json::from_value(v).unwrap();
    let d = detail(&r, &cole).await;
    let mine = d.runs.iter().find(|x| x.id == started.run).unwrap();
    assert_eq!(
        mine.approved_by.as_deref(),
        Some("cole"),
        "approved by who ran it"
    );
    let ids: Vec<&str> = mine.actions.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["2.0", "2.1"]);
    refused(&r, &cole, run, json!({"plan": "bank-failover"}), c).await;
    let undo = "/api/incidents/inc-1/undo";
    assert_eq!(
        post(&r, &cole, undo, json!({"action": "2.1"})).await.0,
        StatusCode::OK
    );
    let d = detail(&r, &cole).await;
    assert!(d.runs[1].actions[1].undone && !d.runs[1].actions[0].undone);
    let e = refused(&r, &cole, undo, json!({"action": "2.1"}), c).await;
    assert!(e.error.contains("undone already"), "{e:?}");
    let resolve = "/api/incidents/inc-1/resolve";
    assert_eq!(
        post(&r, &cole, resolve, json!({"note": "bank_icbc is back"}))
            .await
            .0,
        StatusCode::OK
    );
    let d = detail(&r, &cole).await;
    assert_eq!(d.status, screen::IncidentStatus::Resolved);
    let last = d.timeline.last().unwrap();
    assert_eq!(
        (last.kind, last.by.as_deref()),
        (screen::TimelineKind::Resolved, Some("cole"))
    );
    assert!(last.what.contains("bank_icbc is back"));
    let e = refused(&r, &cole, resolve, json!({"note": "again"}), c).await;
    assert!(e.error.contains("closed"), "{e:?}");
    refused(&r, &cole, run, json!({"plan": "bank-failover"}), c).await;

    let runs = audited(&r, "run");
    let outcomes: Vec<&str> = runs.iter().map(|x| x.2.as_str()).collect();
    assert_eq!(
        outcomes.iter().filter(|o| **o == "requested").count(),
        5,
        "{runs:?}"
    );
    assert_eq!(
        outcomes.iter().filter(|o| **o == "ok").count(),
        1,
        "{runs:?}"
    );
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| o.starts_with("failed: conflict"))
            .count(),
        4,
        "{runs:?}"
    );
    let undos = audited(&r, "undo");
    assert_eq!(undos[1], ("cole".into(), "inc-1/2.1".into(), "ok".into()));
    assert!(undos[3].2.starts_with("failed: conflict"), "{undos:?}");
    let resolves = audited(&r, "resolve");
    assert_eq!(resolves[1], ("cole".into(), "inc-1".into(), "ok".into()));
    assert!(
        resolves[3].2.starts_with("failed: conflict"),
        "{resolves:?}"
    );
}

#[tokio::test]
async fn bad_bodies_are_400_naming_the_field_audited_and_change_nothing() {
    let r = scripted().await;
    let cole = login(&r, "cole").await;
    let long = "x".repeat(screen::MAX_NOTE_BYTES + 1);
    let cases = [
        ("/api/incidents/inc-1/run", json!({}), "plan"),
        ("/api/incidents/inc-1/run", json!({"plan": "a b"}), "plan"),
        ("/api/incidents/inc-1/run", json!({"plan": ""}), "plan"),
        (
            "/api/incidents/inc-1/run",
            json!({"plan": "x", "force": true}),
            "unknown field",
        ),
        ("/api/incidents/inc-1/undo", json!({}), "action"),
        (
            "/api/incidents/inc-1/undo",
            json!({"action": "first"}),
            "action",
        ),
        (
            "/api/incidents/inc-1/undo",
            json!({"action": 1}),
            "invalid type",
        ),
        ("/api/incidents/inc-1/resolve", json!({"note": ""}), "note"),
        ("/api/incidents/inc-1/resolve", json!({"note": " "}), "note"),
        (
            "/api/incidents/inc-1/resolve",
            json!({ "note": long }),
            "note",
        ),
        (
            "/api/incidents/inc-1/resolve",
            json!({"note": "ok", "status": "x"}),
            "unknown field",
        ),
        (
            "/api/incidents/a%20b/resolve",
            json!({"note": "ok"}),
            "incident id",
        ),
    ];
    for (path, body, word) in &cases {
        let e = refused(&r, &cole, path, body.clone(), StatusCode::BAD_REQUEST).await;
        assert!(e.error.contains(word), "{path} {body}: {e:?}");
    }
    let lines = audit_lines(&r);
    let levers: Vec<&Value> = lines
        .iter()
        .filter(|l| ["run", "undo", "resolve"].contains(&l["action"].as_str().unwrap()))
        .collect();
    assert_eq!(
        levers.len(),
        cases.len(),
        "one line per attempt: {levers:?}"
    );
    assert!(
        levers
            .iter()
            .all(|l| l["outcome"].as_str().unwrap().starts_with("refused: ")),
        "{levers:?}"
    );
    assert!(levers[1]["outcome"].as_str().unwrap().contains("plan"));
}

#[tokio::test]
async fn levers_need_the_session_the_token_and_the_own_origin() {
    let r = scripted().await;
    let cole = login(&r, "cole").await;
    let c = reqwest::Client::new();
    let path = r.url("/api/incidents/inc-1/resolve");
    let body = json!({"note": "forged"});
    let anonymous = c.post(&path).json(&body).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let no_token = c
        .post(&path)
        .header(COOKIE, &cole.cookie)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    let evil = c
        .post(&path)
        .header(COOKIE, &cole.cookie)
        .header("x-csrf-token", &cole.csrf)
        .header(ORIGIN, "http://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    assert_eq!(detail(&r, &cole).await.status, screen::IncidentStatus::Open);
    let outcomes: Vec<String> = audited(&r, "resolve").into_iter().map(|x| x.2).collect();
    assert_eq!(
        outcomes,
        [
            "denied: missing or wrong X-CSRF-Token",
            "denied: cross-site request refused"
        ],
        "refused before the action, audited; the anonymous call names nobody"
    );
}

#[tokio::test]
async fn a_run_and_its_undo_are_audited_before_and_after() {
    let r = scripted().await;
    let cole = login(&r, "cole").await;
    post(&r, &cole, "/api/incidents/inc-1/reject", json!({})).await;
    let (s, v) = post(
        &r,
        &cole,
        "/api/incidents/inc-1/run",
        json!({"plan": "bank-failover"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = post(
        &r,
        &cole,
        "/api/incidents/inc-1/undo",
        json!({"action": "2.0"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let d = detail(&r, &cole).await;
    assert_eq!(
        d.runs[1].state,
        screen::PlanStatus::RolledBack,
        "its one action undone"
    );
    let want = |target: &str| {
        vec![
            (
                "cole".to_string(),
                target.to_string(),
                "requested".to_string(),
            ),
            ("cole".to_string(), target.to_string(), "ok".to_string()),
        ]
    };
    assert_eq!(audited(&r, "run"), want("inc-1/bank-failover"));
    assert_eq!(audited(&r, "undo"), want("inc-1/2.0"));
    let lines = audit_lines(&r);
    assert!(lines
        .iter()
        .filter(|l| l["action"] == "run")
        .all(|l| l["role"] == "commander"));
}
