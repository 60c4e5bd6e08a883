//! The server side of the HTTP run mode: each service on its own loopback
//! listener (axum, `POST /rpc/<operation>`). The listener rebuilds the call
//! context from the headers and calls the same [`serve`] as an in-process call.

use crate::ctx::CallCtx;
use crate::error::SimError;
use crate::msg::{Op, PayRequest, Reply, Service};
use crate::world::{serve, World};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::task::JoinHandle;

type AppState = (Arc<World>, Service);

async fn rpc(
    State((w, svc)): State<AppState>,
    Path(op): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Reply>, (StatusCode, String)> {
    let op = Op::from_name(&op).filter(|o| o.service() == svc).ok_or((
        StatusCode::NOT_FOUND,
        format!("{} serves no operation {op:?}", svc.name()),
    ))?;
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let tp = h("traceparent");
    if tp.is_empty() {
        return Err((
            StatusCode::BAD_REQUEST,
            "header `traceparent`: missing".into(),
        ));
    }
    let ctx = CallCtx::from_headers(tp, h("baggage"))
        .map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()))?;
    let req: PayRequest = serde_json::from_slice(&body)
        .map_err(|e| (StatusCode::BAD_REQUEST, format!("body: {e}")))?;
    let caller = match h("x-caller") {
        "" => "unknown".to_string(),
        c => c.to_string(),
    };
    Ok(Json(serve(&w, svc, &caller, ctx, op, &req).await))
}

/// The router of one service.
pub(crate) fn router(w: Arc<World>, svc: Service) -> Router {
    Router::new()
        .route("/rpc/{op}", post(rpc))
        .route("/health", get(|| async { "ok" }))
        .with_state((w, svc))
}

/// Binds each of `services` on its own loopback port and serves it.
pub(crate) async fn bind_all(
    w: &Arc<World>,
    services: &[Service],
) -> Result<(Vec<SocketAddr>, Vec<JoinHandle<()>>), SimError> {
    let mut addrs = Vec::new();
    let mut tasks = Vec::new();
    for &svc in services {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|source| SimError::Bind {
                what: svc.name().to_string(),
                source,
            })?;
        addrs.push(l.local_addr().map_err(|source| SimError::Bind {
            what: svc.name().to_string(),
            source,
        })?);
        let app = router(w.clone(), svc);
        tasks.push(tokio::spawn(async move {
            let _ = axum::serve(l, app).await;
        }));
    }
    Ok((addrs, tasks))
}
