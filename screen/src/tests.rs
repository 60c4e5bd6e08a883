//! The contract's own rules: health thresholds, request checks, and the JSON spellings
//! the browser tests and acceptance checks read.

use super::*;
use serde_json::json;

#[test]
fn health_follows_the_error_ratio() {
    assert_eq!(Health::of_error_ratio(0.0), Health::Green);
    assert_eq!(Health::of_error_ratio(0.0099), Health::Green);
    assert_eq!(Health::of_error_ratio(0.01), Health::Amber);
    assert_eq!(Health::of_error_ratio(0.05), Health::Red);
    assert_eq!(serde_json::to_value(Health::Amber).unwrap(), json!("amber"));
}

#[test]
fn requests_name_the_field_they_break() {
    let silence = |m: &[(&str, &str)], d: u64| SilenceRequest {
        matchers: m
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        duration_s: d,
        comment: String::new(),
    };
    assert!(silence(&[("service", "trade")], 60).validate().is_ok());
    assert!(silence(&[], 60)
        .validate()
        .unwrap_err()
        .0
        .starts_with("matchers"));
    assert!(silence(&[("a", "b")], 0)
        .validate()
        .unwrap_err()
        .0
        .starts_with("duration_s"));
    assert!(silence(&[("a b", "c")], 60)
        .validate()
        .unwrap_err()
        .0
        .starts_with("matchers"));
    let drill = |f: &str, t: Option<&str>| DrillRequest {
        fault: f.into(),
        target: t.map(String::from),
    };
    assert!(drill("bank-outage", Some("bank-b")).validate().is_ok());
    assert!(drill("rm -rf /", None)
        .validate()
        .unwrap_err()
        .0
        .starts_with("fault"));
    assert!(drill("x", Some(""))
        .validate()
        .unwrap_err()
        .0
        .starts_with("target"));
    let long = RejectRequest {
        reason: Some("x".repeat(1001)),
    };
    assert!(long.validate().unwrap_err().0.starts_with("reason"));
    assert!(serde_json::from_value::<DrillRequest>(json!({"fault": "x", "blast": 1})).is_err());
}

#[test]
fn roles_are_ordered_and_spelled_in_lowercase() {
    assert!(Role::Viewer < Role::Commander && Role::Commander < Role::Admin);
    let me: Me =
        serde_json::from_value(json!({"user": "cole", "role": "commander", "csrf": "00"})).unwrap();
    assert_eq!(me.role, Role::Commander);
}

#[test]
fn absent_fields_stay_absent() {
    let entry = TimelineEntry {
        time: "2026-11-27T12:00:01.000000Z".into(),
        at_us: 1_795_780_801_000_000,
        kind: TimelineKind::FirstBadRequest,
        what: "first bad request".into(),
        by: None,
        run: None,
    };
    assert_eq!(
        serde_json::to_value(&entry).unwrap(),
        json!({"time": "2026-11-27T12:00:01.000000Z", "at_us": 1_795_780_801_000_000u64,
               "kind": "first_bad_request", "what": "first bad request"})
    );
    let root = json!({"time": "2026-11-27T12:00:01.000000Z", "trace_id": "4000000000000000000000000000000a",
        "span_id": "0000000000000a01", "kind": "server", "service": "cashier", "operation": "pay",
        "duration_us": 40000, "success": true});
    let span: TraceSpan = serde_json::from_value(root.clone()).unwrap();
    assert_eq!(span.parent_span_id, None);
    assert_eq!(
        serde_json::to_value(&span).unwrap(),
        root,
        "no empty field is written"
    );
    let node: TopologyNode =
        serde_json::from_value(json!({"id": "bank-a", "kind": "bank"})).unwrap();
    assert_eq!(
        (node.health, node.root_cause, node.detail),
        (Health::Green, false, None)
    );
}

#[test]
fn lever_requests_name_the_field_they_break() {
    let run = |p: &str| RunRequest { plan: p.into() }.validate();
    assert!(run("bank-failover").is_ok());
    for bad in ["", "rm -rf", &"p".repeat(65)] {
        assert!(run(bad).unwrap_err().0.starts_with("plan"), "{bad:?}");
    }
    let undo = |a: &str| UndoRequest { action: a.into() }.validate();
    assert!(undo("3.0").is_ok() && undo("12.11").is_ok());
    for bad in ["", "3", "3.", ".0", "a.0", "3.0.1", "-1.0", "3.+1"] {
        assert!(undo(bad).unwrap_err().0.starts_with("action"), "{bad:?}");
    }
    let resolve = |n: &str| ResolveRequest { note: n.into() }.validate();
    assert!(resolve("bank-a answers again").is_ok());
    assert!(resolve(&"x".repeat(MAX_NOTE_BYTES)).is_ok());
    for bad in ["", "  \n", &"x".repeat(MAX_NOTE_BYTES + 1)] {
        assert!(resolve(bad).unwrap_err().0.starts_with("note"), "{bad:?}");
    }
    for body in [
        json!({"plan": "x", "force": true}),
        json!({"action": "1.0", "all": true}),
        json!({"note": "ok", "status": "recovered"}),
    ] {
        let refused = serde_json::from_value::<RunRequest>(body.clone()).is_err()
            && serde_json::from_value::<UndoRequest>(body.clone()).is_err()
            && serde_json::from_value::<ResolveRequest>(body.clone()).is_err();
        assert!(refused, "unknown fields are refused: {body}");
    }
}

#[test]
fn plan_choices_and_runs_are_spelled_as_the_api_documents() {
    let choice = PlanChoice {
        name: "bank-failover".into(),
        description: "route around a bank".into(),
        automatic: true,
        answers_kind: true,
        changes: vec!["channel bank-a weight 0".into()],
        approval: PlanApproval::CommanderOnCore,
    };
    assert_eq!(
        serde_json::to_value(&choice).unwrap(),
        json!({"name": "bank-failover", "description": "route around a bank", "automatic": true,
               "answers_kind": true, "changes": ["channel bank-a weight 0"],
               "approval": "commander_on_core"})
    );
    let run = RunDetail {
        id: 3,
        plan: Some("bank-failover".into()),
        state: PlanStatus::Verifying,
        target: "bank:bank-a".into(),
        approved_by: Some("cole".into()),
        actions: vec![RunAction {
            id: "3.0".into(),
            what: "channel bank-a weight 0".into(),
            undone: false,
        }],
        harm_failed_payments: 0.0,
        harm_aborted: false,
    };
    assert_eq!(
        serde_json::to_value(&run).unwrap(),
        json!({"id": 3, "plan": "bank-failover", "state": "verifying", "target": "bank:bank-a",
               "approved_by": "cole", "actions": [{"id": "3.0", "what": "channel bank-a weight 0",
               "undone": false}], "harm_failed_payments": 0.0, "harm_aborted": false})
    );
    let point = DamagePoint {
        second: 1_795_780_801,
        failed_payments: 12,
        money_at_stake_cents: 23_988,
    };
    assert_eq!(
        serde_json::to_value(point).unwrap(),
        json!({"second": 1_795_780_801u64, "failed_payments": 12, "money_at_stake_cents": 23_988})
    );
}
