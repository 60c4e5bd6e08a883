//! The HTTP run mode: each service on its own loopback listener (axum), calls
//! between them as real HTTP requests (`POST /rpc/<operation>`, JSON body,
//! `traceparent`, `baggage` and `x-caller` headers). Handlers are the same as in
//! process: the listener rebuilds the call context and calls [`serve`].

use crate::ctx::CallCtx;
use crate::error::SimError;
use crate::msg::{Op, PayRequest, Reply, Service};
use crate::world::{serve, World};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// The HTTP client side: one pooled client, one base URL per service.
pub(crate) struct HttpTransport {
    client: reqwest::Client,
    urls: Vec<String>,
}

impl HttpTransport {
    /// `urls[i]` (`http://host:port`) serves `Service::ALL[i]`.
    pub(crate) fn new(urls: Vec<String>) -> HttpTransport {
        HttpTransport {
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .expect("a plain-HTTP client always builds"),
            urls,
        }
    }

    pub(crate) async fn call(
        &self,
        to: Service,
        caller: &str,
        ctx: &CallCtx,
        op: Op,
        req: &PayRequest,
    ) -> Reply {
        let span = ctx.parent.expect("a call has a client span");
        let url = format!("{}/rpc/{}", self.urls[to as usize], op.name());
        let resp = self
            .client
            .post(url)
            .header("traceparent", ctx.traceparent(span))
            .header("baggage", ctx.baggage())
            .header("x-caller", caller)
            .json(req)
            .send()
            .await;
        match resp {
            Ok(r) if r.status().is_success() => match r.json::<Reply>().await {
                Ok(reply) => reply,
                Err(_) => Reply::fail("RPC_BAD_RESPONSE", Some("Transport")),
            },
            Ok(r) => Reply {
                code: Cow::Owned(format!("RPC_HTTP_{}", r.status().as_u16())),
                error: Some(Cow::Borrowed("Transport")),
                virtual_us: 0,
                bank: None,
            },
            Err(_) => Reply::fail("RPC_UNREACHABLE", Some("Transport")),
        }
    }
}

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
