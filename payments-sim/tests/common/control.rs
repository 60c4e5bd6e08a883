//! The control API alone, over a `Steering` on a manual clock (axum `oneshot`,
//! no socket), its change events in a Vec: the fixture of `control_api.rs`
//! and `control_events.rs`.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use digest::{ChangeEvent, ManualClock};
use http_body_util::BodyExt;
use parking_lot::Mutex;
use payments_sim::control::{api, Steering};
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

pub const TOKEN: &str = "s3cret-token";

pub struct Fixture {
    pub app: axum::Router,
    pub steering: Arc<Steering>,
    pub events: Arc<Mutex<Vec<ChangeEvent>>>,
}

pub fn fixture() -> Fixture {
    let events = Arc::new(Mutex::new(Vec::new()));
    let ev = events.clone();
    let clock = ManualClock::new(1_800_000_000_000_000);
    let steering = Arc::new(Steering::new(
        Arc::new(clock),
        Arc::new(move |e| ev.lock().push(e)),
    ));
    let app = api::router(steering.clone(), TOKEN).unwrap();
    Fixture {
        app,
        steering,
        events,
    }
}

pub async fn send(
    app: &axum::Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    ctype: &str,
    body: impl Into<Body>,
) -> (StatusCode, String) {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", ctype);
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    let resp = app
        .clone()
        .oneshot(b.body(body.into()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

pub async fn get(app: &axum::Router, uri: &str) -> Value {
    let (s, b) = send(
        app,
        "GET",
        uri,
        Some(TOKEN),
        "application/json",
        Body::empty(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{uri}: {b}");
    serde_json::from_str(&b).unwrap()
}

pub async fn put(app: &axum::Router, uri: &str, body: Value) -> (StatusCode, Value) {
    let (s, b) = send(
        app,
        "PUT",
        uri,
        Some(TOKEN),
        "application/json",
        body.to_string(),
    )
    .await;
    (s, serde_json::from_str(&b).unwrap_or(Value::String(b)))
}
