//! A small stand-in for payments-sim's control API (same paths, bodies and bearer token;
//! merge semantics for switches/versions/ledger, replace for the rest) plus Sentinel's
//! `getRules`/`setRules`, served on a loopback port, recording every request.

#![allow(dead_code)]

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub const TOKEN: &str = "s3cret";

#[derive(Clone, Default)]
pub struct Control {
    pub state: Arc<Mutex<BTreeMap<String, Value>>>,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Control {
    pub fn get(&self, path: &str) -> Value {
        self.state
            .lock()
            .get(path)
            .cloned()
            .unwrap_or_else(|| default(path))
    }
    pub fn writes(&self) -> usize {
        self.log
            .lock()
            .iter()
            .filter(|l| !l.starts_with("GET"))
            .count()
    }
}

fn default(path: &str) -> Value {
    if path.starts_with("/control/rules/") || path == "/control/channels" {
        json!([])
    } else {
        json!({})
    }
}

fn authed(h: &HeaderMap) -> bool {
    h.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {TOKEN}"))
}

async fn read(
    State(c): State<Control>,
    Path(p): Path<String>,
    h: HeaderMap,
) -> (StatusCode, Json<Value>) {
    if !authed(&h) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "token"})));
    }
    let path = format!("/control/{p}");
    c.log.lock().push(format!("GET {path}"));
    (StatusCode::OK, Json(c.get(&path)))
}

async fn write(
    State(c): State<Control>,
    Path(p): Path<String>,
    h: HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    if !authed(&h) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "token"})));
    }
    let path = format!("/control/{p}");
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "json", "field": "body"})),
        );
    };
    c.log.lock().push(format!("PUT {path} {v}"));
    let merge =
        ["/control/switches", "/control/versions", "/control/ledger"].contains(&path.as_str());
    let mut st = c.state.lock();
    if merge {
        let cur = st.entry(path.clone()).or_insert_with(|| json!({}));
        for (k, val) in v.as_object().cloned().unwrap_or_default() {
            if val.is_null() {
                cur.as_object_mut().unwrap().remove(&k);
            } else {
                cur[&k] = val;
            }
        }
    } else {
        st.insert(path.clone(), v);
    }
    (StatusCode::OK, Json(st[&path].clone()))
}

fn rules_path(ty: &str) -> String {
    format!(
        "/control/rules/{}",
        if ty == "param-flow" { "param" } else { ty }
    )
}

async fn get_rules(
    State(c): State<Control>,
    Query(q): Query<HashMap<String, String>>,
) -> Json<Value> {
    let p = rules_path(q.get("type").map(String::as_str).unwrap_or(""));
    c.log.lock().push(format!("GET {p}"));
    Json(c.get(&p))
}

async fn set_rules(
    State(c): State<Control>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> (StatusCode, String) {
    let form: HashMap<String, String> = serde_urlencoded_lite(&body);
    let Some(v) = form
        .get("data")
        .and_then(|d| serde_json::from_str::<Value>(d).ok())
    else {
        return (StatusCode::BAD_REQUEST, "data".into());
    };
    let p = rules_path(q.get("type").map(String::as_str).unwrap_or(""));
    c.log.lock().push(format!("SET {p} {v}"));
    c.state.lock().insert(p, v);
    (StatusCode::OK, "success".into())
}

async fn get_param_rules(State(c): State<Control>) -> Json<Value> {
    c.log.lock().push("GET /control/rules/param".into());
    Json(c.get("/control/rules/param"))
}

async fn set_param_rules(State(c): State<Control>, body: Bytes) -> (StatusCode, String) {
    let q: HashMap<String, String> = [("type".to_string(), "param-flow".to_string())].into();
    set_rules(State(c), Query(q), body).await
}

/// Decodes `a=b&c=d` with `+` and `%XX`.
fn serde_urlencoded_lite(body: &[u8]) -> HashMap<String, String> {
    let dec = |s: &str| {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < b.len() => {
                    out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'?'));
                    i += 2;
                }
                c => out.push(c),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (dec(k), dec(v)))
        .collect()
}

/// Serves the stand-in; returns its base URL.
pub async fn serve() -> (String, Control) {
    let c = Control::default();
    let app = Router::new()
        .route("/control/{*p}", get(read).put(write))
        .route("/getRules", get(get_rules))
        .route("/setRules", post(set_rules))
        .route("/getParamFlowRules", get(get_param_rules))
        .route("/setParamFlowRules", post(set_param_rules))
        .with_state(c.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}"), c)
}
