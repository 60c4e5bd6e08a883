//! The control API over HTTP (axum `oneshot`, no socket): auth, Sentinel's
//! command endpoints read back what was pushed, bad bodies change nothing, every
//! change emits a change event and faults emit none. Issue 3.

mod common;

use axum::body::Body;
use axum::http::StatusCode;
use common::control::{fixture, get, put, send, TOKEN};
use digest::ChangeKind;
use payments_sim::control::api;
use serde_json::{json, Value};

#[tokio::test]
async fn no_token_or_wrong_token_is_401_and_changes_nothing() {
    let f = fixture();
    let body = json!({"marketing": false}).to_string();
    for token in [None, Some("wrong"), Some("")] {
        let (s, b) = send(
            &f.app,
            "PUT",
            "/control/switches",
            token,
            "application/json",
            body.clone(),
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{token:?}");
        assert!(!b.contains(TOKEN));
        let data = format!(
            "type=flow&data={}",
            "%5B%7B%22resource%22%3A%22a%22%2C%22count%22%3A1%7D%5D"
        );
        let (s, _) = send(
            &f.app,
            "POST",
            "/setRules",
            token,
            "application/x-www-form-urlencoded",
            data,
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let (s, _) = send(
            &f.app,
            "GET",
            "/getRules?type=flow",
            token,
            "",
            Body::empty(),
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(get(&f.app, "/control/switches").await, json!({}));
    assert_eq!(get(&f.app, "/getRules?type=flow").await, json!([]));
    assert!(f.events.lock().is_empty());
    assert!(
        api::router(f.steering.clone(), " ").is_err(),
        "an empty token is refused"
    );
}

#[tokio::test]
async fn sentinel_rules_read_back_identically_form_and_json() {
    let f = fixture();
    let flow = json!([
        {"resource":"payment:pay","limitApp":"default","grade":1,"count":200,"strategy":0,"controlBehavior":0,"clusterMode":false},
        {"resource":"cashier","count":1500.5}
    ]);
    let degrade = json!([
        {"resource":"bank:bank-b","grade":1,"count":0.5,"timeWindow":10,"minRequestAmount":20,"statIntervalMs":1000},
        {"resource":"payment-engine:charge","grade":0,"count":300,"slowRatioThreshold":0.6,"timeWindow":5}
    ]);
    let param = json!([
        {"resource":"trade:create","paramIdx":1,"count":50,"durationInSec":1,"burstCount":0,
         "paramFlowItemList":[{"object":"m-vip","classType":"java.lang.String","count":500}]}
    ]);
    // Form body, as Sentinel's dashboard sends it.
    let form =
        serde_urlencoded::to_string([("type", "flow"), ("data", &flow.to_string())]).unwrap();
    let (s, b) = send(
        &f.app,
        "POST",
        "/setRules",
        Some(TOKEN),
        "application/x-www-form-urlencoded",
        form,
    )
    .await;
    assert_eq!((s, b.as_str()), (StatusCode::OK, "success"));
    assert_eq!(get(&f.app, "/getRules?type=flow").await, flow);
    // Query-string data.
    let q =
        serde_urlencoded::to_string([("type", "degrade"), ("data", &degrade.to_string())]).unwrap();
    let (s, _) = send(
        &f.app,
        "POST",
        &format!("/setRules?{q}"),
        Some(TOKEN),
        "text/plain",
        Body::empty(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(get(&f.app, "/getRules?type=degrade").await, degrade);
    // JSON body.
    let (s, _) = send(
        &f.app,
        "POST",
        "/setRules?type=param-flow",
        Some(TOKEN),
        "application/json",
        param.to_string(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(get(&f.app, "/getRules?type=param-flow").await, param);
    assert_eq!(get(&f.app, "/getParamFlowRules").await, param);
    // The same rules through our own paths.
    assert_eq!(get(&f.app, "/control/rules/flow").await, flow);
    assert_eq!(get(&f.app, "/control/rules/degrade").await, degrade);
    assert_eq!(get(&f.app, "/control/rules/param").await, param);
    let breakers = get(&f.app, "/control/breakers").await;
    assert_eq!(
        breakers[0],
        json!({"resource":"bank:bank-b","state":"CLOSED"})
    );
    // One rule event per service touched.
    let ev = f.events.lock();
    assert!(ev.iter().all(|e| e.event == ChangeKind::Rule));
    let services: Vec<_> = ev.iter().map(|e| e.service.as_str()).collect();
    for s in [
        "payment",
        "cashier",
        "bank-gateway",
        "payment-engine",
        "trade",
    ] {
        assert!(services.contains(&s), "{s} in {services:?}");
    }
}

#[tokio::test]
async fn malformed_rules_get_400_naming_the_field_and_change_nothing() {
    let f = fixture();
    let good = json!([{"resource":"payment","count":10}]);
    let (s, _) = put(&f.app, "/control/rules/flow", good.clone()).await;
    assert_eq!(s, StatusCode::OK);
    let n_events = f.events.lock().len();
    let cases = [
        ("flow", json!([{"resource":"a","count":"ten"}]), "[0].count"),
        (
            "flow",
            json!([{"resource":"a","count":1},{"resource":"b","count":1,"speed":3}]),
            "speed",
        ),
        ("flow", json!([{"resource":"a","count":-1}]), "[0].count"),
        ("flow", json!([{"resource":"","count":1}]), "[0].resource"),
        (
            "flow",
            json!([{"resource":"a","count":1,"grade":7}]),
            "[0].grade",
        ),
        (
            "flow",
            json!([{"resource":"a","count":1,"controlBehavior":1}]),
            "[0].controlBehavior",
        ),
        ("flow", json!([{"count":1}]), "resource"),
        ("flow", json!({"resource":"a"}), "body"),
        (
            "degrade",
            json!([{"resource":"a","grade":1,"count":2,"timeWindow":1}]),
            "[0].count",
        ),
        (
            "degrade",
            json!([{"resource":"a","count":100,"timeWindow":0}]),
            "[0].timeWindow",
        ),
        (
            "degrade",
            json!([{"resource":"a","count":100,"timeWindow":1,"slowRatioThreshold":1.5}]),
            "[0].slowRatioThreshold",
        ),
        (
            "param-flow",
            json!([{"resource":"a","paramIdx":9,"count":1}]),
            "[0].paramIdx",
        ),
        (
            "param-flow",
            json!([{"resource":"a","paramIdx":1,"count":1,"paramFlowItemList":[{"object":"x","count":"y"}]}]),
            "[0].paramFlowItemList[0].count",
        ),
    ];
    for (ty, body, field) in cases {
        let (s, b) = send(
            &f.app,
            "POST",
            &format!("/setRules?type={ty}"),
            Some(TOKEN),
            "application/json",
            body.to_string(),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {b}");
        assert!(b.contains(field), "{body}: error {b} should name {field}");
    }
    let (s, b) = send(
        &f.app,
        "POST",
        "/setRules?type=system",
        Some(TOKEN),
        "application/json",
        "[]",
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(b.contains("type"), "{b}");
    let (s, b) = send(
        &f.app,
        "POST",
        "/setRules?type=flow",
        Some(TOKEN),
        "application/x-www-form-urlencoded",
        "nodata=1",
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(b.contains("data"), "{b}");
    assert_eq!(get(&f.app, "/getRules?type=flow").await, good);
    assert_eq!(get(&f.app, "/getRules?type=degrade").await, json!([]));
    assert_eq!(
        f.events.lock().len(),
        n_events,
        "refused requests emit nothing"
    );
}

#[tokio::test]
async fn bad_bodies_are_400_huge_bodies_413() {
    let f = fixture();
    let cases = [
        (
            "/control/switches",
            json!({"marketing": "off"}),
            "marketing",
        ),
        (
            "/control/channels",
            json!([{"bank":"bank-a","weight":1,"region":"x"}]),
            "region",
        ),
        (
            "/control/channels",
            json!([{"bank":"bank-a","weight":-1}]),
            "[0].weight",
        ),
        (
            "/control/channels",
            json!([{"bank":"bank-a","weight":0}]),
            "[0].weight",
        ),
        (
            "/control/zones",
            json!({"zone-a": 60, "zone-b": 60}),
            "body",
        ),
        ("/control/zones", json!({"zone-a": "all"}), "zone-a"),
        ("/control/versions", json!({"payment": 3}), "payment"),
        ("/control/ledger", json!({"m-1": "sharded"}), "m-1"),
        (
            "/control/faults",
            json!([{"kind":"latency","target":"payment","delay":3}]),
            "delay",
        ),
        ("/control/faults", json!(["latency:payment@soon"]), "start"),
        ("/control/faults", json!([{"kind":"meteor"}]), "[0].kind"),
        (
            "/control/faults",
            json!([{"kind":"errors","rate":2}]),
            "[0].rate",
        ),
    ];
    for (uri, body, field) in cases {
        let (s, b) = put(&f.app, uri, body.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{uri} {body}: {b}");
        assert!(
            b.to_string().contains(field),
            "{uri} {body}: {b} should name {field}"
        );
    }
    let huge = format!("{{\"x\":\"{}\"}}", "a".repeat(api::MAX_BODY + 10));
    let (s, _) = send(
        &f.app,
        "PUT",
        "/control/switches",
        Some(TOKEN),
        "application/json",
        huge,
    )
    .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(f.events.lock().is_empty());
    assert_eq!(get(&f.app, "/control/switches").await, json!({}));
    assert!(f.steering.faults().is_empty());
}

#[tokio::test]
async fn served_on_a_real_socket() {
    let f = fixture();
    let (addr, task) = api::serve(f.steering.clone(), TOKEN, "127.0.0.1:0")
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let url = format!("http://{addr}/control/switches");
    let r = http
        .put(&url)
        .body(r#"{"marketing":false}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = http
        .put(&url)
        .bearer_auth(TOKEN)
        .body(r#"{"marketing":false}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let form = [
        ("type", "flow"),
        ("data", r#"[{"resource":"cashier","count":5}]"#),
    ];
    let r = http
        .post(format!("http://{addr}/setRules"))
        .bearer_auth(TOKEN)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "success");
    let rules: Value = http
        .get(format!("http://{addr}/getRules?type=flow"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rules, json!([{"resource":"cashier","count":5}]));
    assert!(api::serve(f.steering.clone(), "", "127.0.0.1:0")
        .await
        .is_err());
    assert!(api::serve(f.steering.clone(), TOKEN, "256.0.0.1:1")
        .await
        .is_err());
    task.abort();
}
