//! Every change through the control API emits one change event naming what
//! changed and who changed it; faults emit none (they never announce
//! themselves). Issue 3.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::control::{fixture, get, put, TOKEN};
use digest::ChangeKind;
use serde_json::json;
use tower::ServiceExt;

#[tokio::test]
async fn every_control_change_emits_an_event_and_faults_none() {
    let f = fixture();
    let (s, v) = put(
        &f.app,
        "/control/switches",
        json!({"marketing": false, "risk.async": false}),
    )
    .await;
    assert_eq!(
        (s, v),
        (
            StatusCode::OK,
            json!({"marketing": false, "risk.async": false})
        )
    );
    let (s, v) = put(&f.app, "/control/switches", json!({"marketing": null})).await;
    assert_eq!((s, v), (StatusCode::OK, json!({"risk.async": false})));
    let chans = json!([{"bank":"bank-a","weight":20},{"bank":"bank-b","weight":80}]);
    assert_eq!(
        put(&f.app, "/control/channels", chans.clone()).await.1,
        chans
    );
    assert_eq!(
        put(
            &f.app,
            "/control/zones",
            json!({"zone-a": 100, "zone-b": 0})
        )
        .await
        .1,
        json!({"zone-a": 100, "zone-b": 0})
    );
    assert_eq!(
        put(&f.app, "/control/ledger", json!({"m-hot": "buffered"}))
            .await
            .1,
        json!({"m-hot": "buffered"})
    );
    assert_eq!(
        put(&f.app, "/control/versions", json!({"payment": "1.3.0"}))
            .await
            .1,
        json!({"payment": "1.3.0"})
    );
    let ev: Vec<_> = f
        .events
        .lock()
        .iter()
        .map(|e| (e.event, e.service.clone(), e.by.clone()))
        .collect();
    let kinds: Vec<_> = ev.iter().map(|e| e.0).collect();
    assert_eq!(
        kinds,
        [
            ChangeKind::Switch,
            ChangeKind::Switch,
            ChangeKind::Switch,
            ChangeKind::Config,
            ChangeKind::Config,
            ChangeKind::Config,
            ChangeKind::Deploy
        ]
    );
    assert_eq!(ev[0].1, "marketing");
    assert_eq!(ev[1].1, "risk");
    assert!(ev.iter().all(|e| e.2 == "control-api"));
    // Who made the change comes from a header.
    let req = Request::builder()
        .method("PUT")
        .uri("/control/versions")
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("x-warroom-actor", "healer")
        .body(Body::from(json!({"payment": null}).to_string()))
        .unwrap();
    assert_eq!(
        f.app.clone().oneshot(req).await.unwrap().status(),
        StatusCode::OK
    );
    let last = f.events.lock().last().cloned().unwrap();
    assert_eq!(
        (last.event, last.by.as_str()),
        (ChangeKind::Rollback, "healer")
    );
    // Faults: accepted as strings or objects, listed, and never announced.
    let n = f.events.lock().len();
    let (s, v) = put(&f.app, "/control/faults", json!(["bank-outage:bank-b@0+30", {"kind":"latency","target":"payment:pay","delay_ms":250}])).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[0]["kind"], "bank-outage");
    assert_eq!(v[0]["target"], "bank:bank-b");
    assert_eq!(
        get(&f.app, "/control/faults")
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let (s, _) = put(&f.app, "/control/faults", json!([])).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        get(&f.app, "/control/ground-truth")
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(f.events.lock().len(), n, "faults emit no change events");
}
