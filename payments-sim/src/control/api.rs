//! The control plane over HTTP: `/control/*` (GET reads, PUT changes) and
//! Sentinel's command endpoints (`/getRules`, `/setRules`, and the param-flow
//! pair). Every request needs `Authorization: Bearer TOKEN`; without it the
//! answer is 401 and nothing changes. Bodies are capped at [`MAX_BODY`] (413
//! beyond); bad bodies get 400 `{"error","field"}` and change nothing.
//! HTTP stays here: the work is done by [`Steering`]'s methods.

use super::error::{parse_json, ControlError};
use super::rules::RuleType;
use super::steering::Steering;
use crate::faults::{parse_fault, FaultSpec};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// Largest accepted body.
pub const MAX_BODY: usize = 256 * 1024;
/// Header naming who makes a change (the change event's `by`); default `control-api`.
pub(crate) const ACTOR_HEADER: &str = "x-warroom-actor";

#[derive(Clone)]
struct Ctx {
    steering: Arc<Steering>,
    token: Arc<[u8]>,
}

/// Why the router could not be built.
#[derive(Debug, thiserror::Error)]
#[error("the control API needs a non-empty token (--control-token or WARROOM_CONTROL_TOKEN)")]
pub struct NoToken;

/// Why the control API could not be served.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    NoToken(#[from] NoToken),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// Serves the control API on `addr` (e.g. `127.0.0.1:9090`) until the task is
/// aborted; returns the bound address (useful with port 0) and the task.
pub async fn serve(
    steering: Arc<Steering>,
    token: &str,
    addr: &str,
) -> Result<(std::net::SocketAddr, tokio::task::JoinHandle<()>), ServeError> {
    let app = router(steering, token)?;
    let bind = |source| ServeError::Bind {
        addr: addr.to_string(),
        source,
    };
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(bind)?;
    let local = listener.local_addr().map_err(bind)?;
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((local, task))
}

/// The control API for `steering`, guarded by `token`.
pub fn router(steering: Arc<Steering>, token: &str) -> Result<Router, NoToken> {
    if token.trim().is_empty() {
        return Err(NoToken);
    }
    let ctx = Ctx {
        steering,
        token: token.as_bytes().into(),
    };
    Ok(Router::new()
        .route("/control/rules/{kind}", get(get_rules).put(put_rules))
        .route("/control/switches", get(get_switches).put(put_switches))
        .route("/control/risk", get(get_risk).put(put_risk))
        .route("/control/declines", get(get_declines).put(put_declines))
        .route("/control/channels", get(get_channels).put(put_channels))
        .route("/control/zones", get(get_zones).put(put_zones))
        .route("/control/versions", get(get_versions).put(put_versions))
        .route("/control/configs", get(get_configs).put(put_configs))
        .route("/control/ledger", get(get_ledger).put(put_ledger))
        .route("/control/faults", get(get_faults).put(put_faults))
        .route("/control/ground-truth", get(get_ground_truth))
        .route("/control/breakers", get(get_breakers))
        .route("/control/instances", get(get_instances).put(put_instances))
        .route("/control/pools", get(get_pools).put(put_pools))
        .route("/control/ledger-db", get(get_ledger_db).put(put_ledger_db))
        .route("/getRules", get(sentinel_get))
        .route("/setRules", axum::routing::post(sentinel_set))
        .route("/getParamFlowRules", get(sentinel_get_param))
        .route(
            "/setParamFlowRules",
            axum::routing::post(sentinel_set_param),
        )
        .layer(middleware::from_fn_with_state(ctx.clone(), auth))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(ctx))
}

/// Compares without an early exit, so timing does not reveal the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn auth(State(ctx): State<Ctx>, req: Request, next: Next) -> Response {
    let ok = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
        .is_some_and(|t| same(t, &ctx.token));
    if !ok {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            Json(serde_json::json!({"error": "missing or wrong bearer token"})),
        )
            .into_response();
    }
    next.run(req).await
}

fn actor(h: &HeaderMap) -> String {
    h.get(ACTOR_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("control-api")
        .to_string()
}

fn bad(e: ControlError) -> Response {
    let status = match e {
        ControlError::Conflict { .. } => StatusCode::CONFLICT,
        _ => StatusCode::BAD_REQUEST,
    };
    (
        status,
        Json(serde_json::json!({"error": e.to_string(), "field": e.field()})),
    )
        .into_response()
}

fn reply<T: Serialize>(r: Result<T, ControlError>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => bad(e),
    }
}

async fn get_rules(State(c): State<Ctx>, Path(kind): Path<String>) -> Response {
    reply(RuleType::parse(&kind).map(|k| c.steering.rules_json(k)))
}

async fn put_rules(
    State(c): State<Ctx>,
    Path(kind): Path<String>,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    reply(RuleType::parse(&kind).and_then(|k| c.steering.put_rules_json(k, &body, &actor(&h))))
}

async fn get_declines(State(c): State<Ctx>) -> Response {
    Json(c.steering.declines()).into_response()
}

async fn put_declines(State(c): State<Ctx>, body: Bytes) -> Response {
    reply(parse_json(&body).and_then(|b| c.steering.put_declines(b)))
}

async fn get_risk(State(c): State<Ctx>) -> Response {
    Json(c.steering.risk()).into_response()
}

async fn put_risk(State(c): State<Ctx>, h: HeaderMap, body: Bytes) -> Response {
    reply(parse_json(&body).and_then(|b| c.steering.put_risk(b, &actor(&h))))
}

async fn get_switches(State(c): State<Ctx>) -> Response {
    Json(c.steering.switches()).into_response()
}

async fn put_switches(State(c): State<Ctx>, h: HeaderMap, body: Bytes) -> Response {
    reply(parse_json(&body).and_then(|b| c.steering.put_switches(b, &actor(&h))))
}

async fn get_channels(State(c): State<Ctx>) -> Response {
    Json(c.steering.channels()).into_response()
}

async fn put_channels(State(c): State<Ctx>, h: HeaderMap, body: Bytes) -> Response {
    reply(parse_json(&body).and_then(|b| c.steering.put_channels(b, &actor(&h))))
}

async fn get_zones(State(c): State<Ctx>) -> Response {
    Json(c.steering.zones()).into_response()
}

async fn put_zones(State(c): State<Ctx>, h: HeaderMap, body: Bytes) -> Response {
    reply(parse_json(&body).and_then(|b| c.steering.put_zones(b, &actor(&h))))
}

async fn get_versions(State(c): State<Ctx>) -> Response {
    Json(c.steering.versions()).into_response()
}

async fn put_versions(State(c): State<Ctx>, h: HeaderMap, body: Bytes) -> Response {
    reply(parse_json(&body).and_then(|b| c.steering.put_versions(b, &actor(&h))))
}

async fn get_configs(State(c): State<Ctx>) -> Response {
    Json(c.steering.configs()).into_response()
}

async fn put_configs(State(c): State<Ctx>, h: HeaderMap, body: Bytes) -> Response {
    reply(parse_json(&body).and_then(|b| c.steering.put_configs(b, &actor(&h))))
}

async fn get_ledger(State(c): State<Ctx>) -> Response {
    Json(c.steering.ledger()).into_response()
}

async fn put_ledger(State(c): State<Ctx>, h: HeaderMap, body: Bytes) -> Response {
    reply(parse_json(&body).and_then(|b| c.steering.put_ledger(b, &actor(&h))))
}

async fn get_instances(State(c): State<Ctx>) -> Response {
    Json(c.steering.instances()).into_response()
}

async fn put_instances(State(c): State<Ctx>, h: HeaderMap, body: Bytes) -> Response {
    reply(parse_json(&body).and_then(|b| c.steering.put_instances(b, &actor(&h))))
}

async fn get_pools(State(c): State<Ctx>) -> Response {
    Json(c.steering.pools()).into_response()
}

async fn put_pools(State(c): State<Ctx>, h: HeaderMap, body: Bytes) -> Response {
    reply(parse_json(&body).and_then(|b| c.steering.put_pools(b, &actor(&h))))
}

async fn get_ledger_db(State(c): State<Ctx>) -> Response {
    Json(c.steering.ledger_db()).into_response()
}

async fn put_ledger_db(State(c): State<Ctx>, h: HeaderMap, body: Bytes) -> Response {
    reply(parse_json(&body).and_then(|b| c.steering.put_ledger_db(b, &actor(&h))))
}

async fn get_faults(State(c): State<Ctx>) -> Response {
    Json(c.steering.faults()).into_response()
}

/// A JSON array whose items are fault objects or CLI strings.
pub(crate) fn parse_fault_list(body: &[u8]) -> Result<Vec<FaultSpec>, ControlError> {
    let items: Vec<serde_json::Value> = parse_json(body)?;
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            serde_json::Value::String(s) => parse_fault(&s)
                .map_err(|e| ControlError::invalid(format!("[{i}].{}", e.field), e.to_string())),
            other => {
                let spec: FaultSpec = serde_path_to_error::deserialize(other).map_err(|e| {
                    let p = e.path().to_string();
                    let field = if p == "." {
                        format!("[{i}]")
                    } else {
                        format!("[{i}].{p}")
                    };
                    ControlError::invalid(field, e.into_inner().to_string())
                })?;
                spec.resolve()
                    .map_err(|e| ControlError::invalid(format!("[{i}].{}", e.field), e.reason))?;
                Ok(spec)
            }
        })
        .collect()
}

async fn put_faults(State(c): State<Ctx>, body: Bytes) -> Response {
    reply(parse_fault_list(&body).and_then(|specs| c.steering.put_faults(specs)))
}

async fn get_ground_truth(State(c): State<Ctx>) -> Response {
    Json(c.steering.ground_truth()).into_response()
}

async fn get_breakers(State(c): State<Ctx>) -> Response {
    let m: Vec<_> = c
        .steering
        .breaker_states()
        .into_iter()
        .map(|(resource, state)| serde_json::json!({"resource": resource, "state": state}))
        .collect();
    Json(m).into_response()
}

fn query(raw: Option<String>) -> HashMap<String, String> {
    raw.and_then(|q| serde_urlencoded::from_str(&q).ok())
        .unwrap_or_default()
}

fn rule_type(
    q: &HashMap<String, String>,
    fixed: Option<RuleType>,
) -> Result<RuleType, ControlError> {
    match (fixed, q.get("type")) {
        (Some(t), _) => Ok(t),
        (None, Some(t)) => RuleType::parse(t),
        (None, None) => Err(ControlError::invalid(
            "type",
            "missing (flow, degrade or param-flow)",
        )),
    }
}

fn sentinel_read(c: &Ctx, raw: Option<String>, fixed: Option<RuleType>) -> Response {
    match rule_type(&query(raw), fixed) {
        Ok(t) => Json(c.steering.rules_json(t)).into_response(),
        Err(e) => bad(e),
    }
}

/// `POST /setRules?type=T&data=JSON`, or the same as a form body, or a JSON
/// body that is the rule array itself. Answers `success`, as Sentinel does.
fn sentinel_write(
    c: &Ctx,
    raw: Option<String>,
    h: &HeaderMap,
    body: &[u8],
    fixed: Option<RuleType>,
) -> Response {
    let mut params = query(raw);
    let is_json = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let data: Vec<u8> = if is_json {
        body.to_vec()
    } else {
        if !body.is_empty() {
            match serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) {
                Ok(form) => params.extend(form),
                Err(e) => {
                    return bad(ControlError::invalid(
                        "body",
                        format!("not a form body: {e}"),
                    ))
                }
            }
        }
        match params.get("data") {
            Some(d) => d.clone().into_bytes(),
            None => {
                return bad(ControlError::invalid(
                    "data",
                    "missing (the rules as a JSON array)",
                ))
            }
        }
    };
    let result =
        rule_type(&params, fixed).and_then(|t| c.steering.put_rules_json(t, &data, &actor(h)));
    match result {
        Ok(_) => (StatusCode::OK, "success").into_response(),
        Err(e) => bad(e),
    }
}

async fn sentinel_get(State(c): State<Ctx>, RawQuery(q): RawQuery) -> Response {
    sentinel_read(&c, q, None)
}

async fn sentinel_get_param(State(c): State<Ctx>, RawQuery(q): RawQuery) -> Response {
    sentinel_read(&c, q, Some(RuleType::Param))
}

async fn sentinel_set(
    State(c): State<Ctx>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    sentinel_write(&c, q, &h, &body, None)
}

async fn sentinel_set_param(
    State(c): State<Ctx>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    sentinel_write(&c, q, &h, &body, Some(RuleType::Param))
}
