//! The HTTP edge (axum): one router with the ingest endpoints, the stats and
//! trace API and `/metrics`. Handlers only read bodies, call the pipeline and map
//! its typed errors to status codes. [`serve`] is what `warroom up` and
//! `warroom collect` run.

mod api;
mod ingest;

use crate::Pipeline;
use axum::routing::{get, post};
use axum::Router;
use std::future::Future;

/// The collector's routes.
fn router(p: Pipeline) -> Router {
    Router::new()
        .route("/v1/digest", post(ingest::post_digest))
        .route("/v1/events", post(ingest::post_events))
        .route("/v1/traces", post(ingest::post_traces))
        .route("/api/stats", get(api::stats))
        .route("/api/traces/{trace_id}", get(api::trace))
        .route("/api/records", get(api::records))
        .route("/metrics", get(api::metrics))
        .with_state(p)
}

/// Serves the collector's routes (ingest, the stats and trace API, `/metrics`)
/// on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    p: Pipeline,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(p))
        .with_graceful_shutdown(shutdown)
        .await
}
