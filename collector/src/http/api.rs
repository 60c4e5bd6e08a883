//! Read endpoints: `GET /api/stats`, `GET /api/traces/{trace_id}`,
//! `GET /api/records` and the Prometheus text at `GET /metrics`. Stats and metrics
//! carry the edge's own figures too: requests per source (`auth`) and TLS handshakes.

use super::EdgeState;
use crate::metrics::render;
use crate::store::RecordQuery;
use crate::Pipeline;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use digest::{encode_record, DigestRecord, TraceId};
use std::sync::atomic::Ordering::Relaxed;

pub(crate) async fn stats(State(edge): State<EdgeState>) -> Response {
    let p = &edge.pipeline;
    let g = p.gauges().await;
    let m = p.metrics();
    Json(serde_json::json!({
        "records_stored": g.records_stored,
        "records_rejected": m.rejected_total(),
        "records_accepted": m.records_accepted.load(Relaxed),
        "events_accepted": m.events_accepted.load(Relaxed),
        "records_written": m.records_written.load(Relaxed),
        "duplicates_dropped": m.duplicates_dropped.load(Relaxed),
        "rejected_by_reason": m.rejected_by_reason(),
        "buffer_pending_records": m.pending_records.load(Relaxed),
        "buffer_bytes": g.wal_unconfirmed_bytes,
        "buffer_batches": g.wal_unconfirmed_batches,
        "store": p.store().name(),
        "store_lag_s": m.store_lag_us.load(Relaxed) as f64 / 1e6,
        "store_errors": m.store_errors.load(Relaxed),
        "replayed_records": m.replayed_records.load(Relaxed),
        "late_records": m.late_records.load(Relaxed),
        "outside_retention": m.outside_retention.load(Relaxed),
        "retention": g.retention,
        "rollups_published": m.rollups_published.load(Relaxed),
        "refused_busy": m.refused_busy.load(Relaxed),
        "refused_buffer_full": m.refused_buffer_full.load(Relaxed),
        "refused_too_large": m.refused_too_large.load(Relaxed),
        "refused_inflight": m.refused_inflight.load(Relaxed),
        "bytes_in": m.bytes_in.load(Relaxed),
        "subscribers": g.subscribers,
        "subscriber_missed": g.subscriber_missed,
        "tail": g.tail,
        "auth": edge.access.stats_json(),
        "tls": {
            "enabled": edge.tls,
            "handshakes_failed": edge.tls_handshakes_failed.load(Relaxed),
        },
    }))
    .into_response()
}

/// Records as a JSON array of v1 objects (the same fields as the lines).
fn records_json(records: &[DigestRecord]) -> Response {
    let mut out = Vec::with_capacity(records.len() * 480 + 2);
    out.push(b'[');
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        encode_record(&mut out, r);
        out.pop(); // the newline
    }
    out.push(b']');
    ([(header::CONTENT_TYPE, "application/json")], out).into_response()
}

fn bad_request(msg: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({"error": msg})),
    )
        .into_response()
}

fn store_failed(e: crate::StoreError) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(serde_json::json!({"error": e.to_string()})),
    )
        .into_response()
}

pub(crate) async fn trace(State(p): State<Pipeline>, Path(id): Path<String>) -> Response {
    let id = match TraceId::parse(&id) {
        Ok(t) => t,
        Err(e) => return bad_request(format!("bad trace id {id:?}: {e}")),
    };
    match p.store().trace(id).await {
        Ok(r) => records_json(&r),
        Err(e) => store_failed(e),
    }
}

/// Query string of `GET /api/records`; every field optional.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RecordsParams {
    from_us: Option<u64>,
    to_us: Option<u64>,
    service: Option<String>,
    operation: Option<String>,
    code: Option<String>,
    scene: Option<String>,
    shadow: Option<bool>,
    limit: Option<usize>,
}

pub(crate) async fn records(State(p): State<Pipeline>, Query(x): Query<RecordsParams>) -> Response {
    let q = RecordQuery {
        from_us: x.from_us.unwrap_or(0),
        to_us: x.to_us.unwrap_or(u64::MAX),
        service: x.service,
        operation: x.operation,
        code: x.code,
        scene: x.scene,
        shadow: x.shadow,
        limit: x.limit.unwrap_or(10_000).clamp(1, 10_000),
    };
    match p.store().query(&q).await {
        Ok(r) => records_json(&r),
        Err(e) => store_failed(e),
    }
}

pub(crate) async fn metrics(State(edge): State<EdgeState>) -> Response {
    let g = edge.pipeline.gauges().await;
    let mut text = render(edge.pipeline.metrics(), &g);
    edge.access.render(&mut text);
    if edge.tls {
        use std::fmt::Write;
        let _ = writeln!(
            text,
            "# HELP warroom_collector_tls_handshakes_failed_total TLS handshakes that failed or timed out.\n# TYPE warroom_collector_tls_handshakes_failed_total counter\nwarroom_collector_tls_handshakes_failed_total {}",
            edge.tls_handshakes_failed.load(Relaxed)
        );
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}
