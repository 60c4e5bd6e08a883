//! The contract between the server and the screen (issue 11): every body the dashboard
//! sends reads back into the `screen` type the wasm app deserializes, unchanged — a
//! field renamed, added or retyped on the server side fails here.

mod common;

use common::client::{get, login, post};
use common::*;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// The JSON the server sends reads back into the screen's own type with nothing left
/// over, nothing missing and nothing respelled (re-serialised, it is the same JSON).
fn strict<T: DeserializeOwned + Serialize>(path: &str, v: &Value) -> T {
    let t: T = serde_json::from_value(v.clone())
        .unwrap_or_else(|e| panic!("{path}: not the screen's type: {e}\n{v}"));
    assert_eq!(
        &serde_json::to_value(&t).unwrap(),
        v,
        "{path}: fields the screen type does not know, or spelled differently"
    );
    t
}

/// Drift between the server's JSON and the `screen` types fails here: every read
/// endpoint, with every optional field present and with none, must deserialize into the
/// type the wasm app reads and equal what the backend answered.
#[tokio::test]
async fn every_answer_reaches_the_screen_types_unchanged() {
    let r = start(None).await;
    let l = login(&r, "vera").await;
    for answers in [
        common::fixed::Answers::default(),
        common::sample::full(T0_US),
    ] {
        r.backend.set(|a| *a = answers.clone());
        let read = |path: &'static str| {
            let (r, l) = (&r, &l);
            async move {
                let (s, v) = get(r, l, path).await;
                assert_eq!(s, StatusCode::OK, "{path}: {v}");
                v
            }
        };
        let o: screen::OverviewBody = strict("/api/overview", &read("/api/overview").await);
        assert_eq!(
            (o.overview, o.scenes),
            (answers.overview.clone(), answers.scenes.clone())
        );
        let scenes: Vec<screen::SceneStatus> = strict("/api/scenes", &read("/api/scenes").await);
        assert_eq!(scenes, answers.scenes);
        let t: screen::Topology = strict("/api/topology", &read("/api/topology").await);
        assert_eq!(t, answers.topology);
        let s: Vec<screen::ServiceRow> = strict("/api/services", &read("/api/services").await);
        assert_eq!(s, answers.services);
        let h: Vec<screen::HotSpot> = strict("/api/hotspots", &read("/api/hotspots").await);
        assert_eq!(h, answers.hotspots);
        let i: Vec<screen::IncidentRow> = strict("/api/incidents", &read("/api/incidents").await);
        assert_eq!(i, answers.incidents);
        for d in &answers.details {
            let path = format!("/api/incidents/{}", d.id);
            let (s, v) = get(&r, &l, &path).await;
            assert_eq!(s, StatusCode::OK, "{path}");
            assert_eq!(&strict::<screen::IncidentDetail>(&path, &v), d);
            let path = format!("/api/incidents/{}/plans", d.id);
            let (s, v) = get(&r, &l, &path).await;
            assert_eq!(s, StatusCode::OK, "{path}");
            assert_eq!(strict::<Vec<screen::PlanChoice>>(&path, &v), answers.plans);
        }
        let a: Vec<screen::Alert> = strict("/api/alerts", &read("/api/alerts").await);
        assert_eq!(a, answers.alerts);
        let si: Vec<screen::Silence> = strict("/api/silences", &read("/api/silences").await);
        assert_eq!(si, answers.silences);
        let slo: screen::SloBoard = strict("/api/slo", &read("/api/slo").await);
        assert_eq!(slo, answers.slo);
        let c: Vec<screen::ChangeEvent> = strict("/api/changes", &read("/api/changes").await);
        assert_eq!(c, answers.changes);
        let k: Vec<screen::DrillKind> = strict("/api/drills", &read("/api/drills").await);
        assert_eq!(k, answers.drill_kinds);
        let mut traces: Vec<&str> = answers.spans.iter().map(|s| s.trace_id.as_str()).collect();
        traces.dedup();
        for id in traces {
            let path = format!("/api/traces/{id}");
            let (s, v) = get(&r, &l, &path).await;
            assert_eq!(s, StatusCode::OK, "{path}");
            let spans: Vec<screen::TraceSpan> = strict(&path, &v);
            assert!(spans.iter().all(|s| s.trace_id == id) && !spans.is_empty());
            let want: Vec<&screen::TraceSpan> =
                answers.spans.iter().filter(|s| s.trace_id == id).collect();
            assert_eq!(spans.iter().collect::<Vec<_>>(), want);
        }
    }
    let me: screen::Me = strict("/api/me", &get(&r, &l, "/api/me").await.1);
    assert_eq!((me.user.as_str(), me.role), ("vera", screen::Role::Viewer));
    let refused: screen::ErrorBody = strict(
        "/api/incidents/none",
        &get(&r, &l, "/api/incidents/none").await.1,
    );
    assert!(refused.error.contains("incident none"), "{refused:?}");
    let health = reqwest::get(r.url("/api/health")).await.unwrap();
    let ack: screen::Ack = strict("/api/health", &health.json().await.unwrap());
    assert!(ack.ok);
}

/// The actions' answers read back into the screen's types too.
#[tokio::test]
async fn an_approval_answers_the_screens_type() {
    let r = start_wrapped(None, Duration::from_millis(100), |f| {
        Arc::new(common::scripted::ScriptedIncident::new(f))
    })
    .await;
    let l = login(&r, "cole").await;
    let (s, v) = post(&r, &l, "/api/incidents/inc-1/approve", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let a: screen::Approved = strict("approve", &v);
    assert_eq!((a.ok, a.approved_by.as_str()), (true, "cole"));
    let (_, d) = get(&r, &l, "/api/incidents/inc-1").await;
    let d: screen::IncidentDetail = strict("/api/incidents/inc-1", &d);
    assert_eq!(
        d.plan.map(|p| p.status),
        Some(screen::PlanStatus::Recovered)
    );
    let (s, v) = post(&r, &l, "/api/incidents/inc-1/approve", json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "approved once only: {v}");
    strict::<screen::ErrorBody>("approve again", &v);
}

/// The levers' answers (run, undo, resolve) and their refusals read back into the
/// screen's types, and the incident room shows what they did.
#[tokio::test]
async fn the_levers_answer_the_screens_types() {
    let r = start_wrapped(None, Duration::from_millis(100), |f| {
        Arc::new(common::scripted::ScriptedIncident::new(f))
    })
    .await;
    let l = login(&r, "cole").await;
    let lever = |verb: &'static str, body: Value| {
        let (r, l) = (&r, &l);
        async move { post(r, l, &format!("/api/incidents/inc-1/{verb}"), body).await }
    };
    let room = || async {
        strict::<screen::IncidentDetail>("room", &get(&r, &l, "/api/incidents/inc-1").await.1)
    };
    let (s, v) = get(&r, &l, "/api/incidents/inc-1/plans").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let plans: Vec<screen::PlanChoice> = strict("plans", &v);
    assert_eq!(plans, common::scripted::plan_choices());
    assert_eq!(lever("reject", json!({})).await.0, StatusCode::OK);

    let (s, v) = lever("run", json!({"plan": "bank-failover"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let started: screen::RunStarted = strict("run", &v);
    assert_eq!((started.run, started.plan.as_str()), (2, "bank-failover"));
    assert_eq!(started.approved_by, "cole");
    let d = room().await;
    let run = d.runs.last().unwrap();
    assert_eq!((run.id, run.actions[0].id.as_str()), (2, "2.0"));
    assert_eq!(d.plan.unwrap().name.as_deref(), Some("bank-failover"));
    assert!(!d.damage.is_empty());

    let (s, v) = lever("undo", json!({"action": "2.0"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let undone: screen::Undone = strict("undo", &v);
    assert_eq!(
        (undone.action.as_str(), undone.undone_by.as_str()),
        ("2.0", "cole")
    );
    let (s, v) = lever("undo", json!({"action": "2.0"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    strict::<screen::ErrorBody>("undo again", &v);

    let (s, v) = lever("resolve", json!({"note": "bank_icbc answers again"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let resolved: screen::Resolved = strict("resolve", &v);
    assert_eq!(resolved.resolved_by, "cole");
    assert_eq!(room().await.status, screen::IncidentStatus::Resolved);
}
