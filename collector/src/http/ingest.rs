//! Ingest handlers: `POST /v1/digest`, `POST /v1/events`, `POST /v1/traces`.
//! Bodies are bounded before and after gzip; errors become 400/413/415/429/503.

use crate::error::IngestError;
use crate::lines::{parse_lines, Accept, BodyError, LineError};
use crate::sources::otlp::{self, OtlpFormat};
use crate::Pipeline;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::io::Read;
use std::sync::atomic::Ordering::Relaxed;

/// Why a body could not be read.
pub(crate) enum BodyRead {
    TooLarge(usize),
    BadGzip(String),
    Unsupported(String),
    Io(String),
}

impl BodyRead {
    fn status(&self) -> StatusCode {
        match self {
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unsupported(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::BadGzip(_) | Self::Io(_) => StatusCode::BAD_REQUEST,
        }
    }
    fn message(&self) -> String {
        match self {
            Self::TooLarge(l) => format!("body larger than {l} bytes"),
            Self::BadGzip(e) => format!("bad gzip body: {e}"),
            Self::Unsupported(e) => {
                format!("unsupported Content-Encoding {e:?} (use gzip or none)")
            }
            Self::Io(e) => format!("cannot read body: {e}"),
        }
    }
}

/// A body buffer that goes back to the pipeline's pool when dropped.
struct Pooled<'a> {
    p: &'a Pipeline,
    buf: Vec<u8>,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        self.p.give_buffer(std::mem::take(&mut self.buf));
    }
}

/// Reads the body within `max` bytes, decompressing gzip (also bounded by `max`).
pub(crate) async fn read_body(
    p: &Pipeline,
    headers: &HeaderMap,
    body: Body,
) -> Result<Vec<u8>, BodyRead> {
    use http_body_util::BodyExt;
    let max = p.config().limits.max_body_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(BodyRead::TooLarge(max));
    }
    let enc = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let gzip = match enc.as_str() {
        "" | "identity" => false,
        "gzip" | "x-gzip" => true,
        other => return Err(BodyRead::Unsupported(other.to_string())),
    };
    let mut raw = p.take_buffer();
    raw.reserve(declared.unwrap_or(0));
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = match frame {
            Ok(f) => f,
            Err(e) => {
                p.give_buffer(raw);
                return Err(BodyRead::Io(e.to_string()));
            }
        };
        if let Ok(data) = frame.into_data() {
            if raw.len() + data.len() > max {
                p.give_buffer(raw);
                return Err(BodyRead::TooLarge(max));
            }
            raw.extend_from_slice(&data);
        }
    }
    p.metrics().bytes_in.fetch_add(raw.len() as u64, Relaxed);
    if !gzip {
        return Ok(raw);
    }
    let mut out = p.take_buffer();
    let r = flate2::read::MultiGzDecoder::new(&raw[..])
        .take(max as u64 + 1)
        .read_to_end(&mut out);
    p.give_buffer(raw);
    match r {
        Err(e) => {
            p.give_buffer(out);
            Err(BodyRead::BadGzip(e.to_string()))
        }
        Ok(_) if out.len() > max => {
            p.give_buffer(out);
            Err(BodyRead::TooLarge(max))
        }
        Ok(_) => Ok(out),
    }
}

fn error_reply(status: StatusCode, message: String, retry_after: Option<u64>) -> Response {
    let mut r = (
        status,
        Json(serde_json::json!({"error": message, "retry_after_s": retry_after})),
    )
        .into_response();
    if let Some(s) = retry_after {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    r
}

/// The edge's mapping of a refused batch to HTTP.
pub(crate) fn ingest_error_reply(e: &IngestError) -> Response {
    let status = match e {
        IngestError::Busy { .. } => StatusCode::TOO_MANY_REQUESTS,
        IngestError::LinesMismatch { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    error_reply(status, e.to_string(), e.retry_after_s())
}

#[derive(serde::Serialize)]
struct Reply {
    accepted: usize,
    rejected: u64,
    errors: Vec<LineError>,
    /// Accepted records older than the retention (acknowledged, not stored).
    #[serde(skip_serializing_if = "is_zero")]
    outside_retention: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// 503 when too many bodies are being read already (bounds memory).
fn too_many_requests(p: &Pipeline) -> Response {
    p.metrics().refused_inflight.fetch_add(1, Relaxed);
    error_reply(
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "too many ingest requests in flight (limit {})",
            p.config().limits.max_inflight_requests
        ),
        Some(1),
    )
}

async fn lines_endpoint(p: Pipeline, headers: HeaderMap, body: Body, accept: Accept) -> Response {
    p.metrics().requests.fetch_add(1, Relaxed);
    let Some(_slot) = p.try_request_slot() else {
        return too_many_requests(&p);
    };
    let bytes = match read_body(&p, &headers, body).await {
        Ok(buf) => Pooled { p: &p, buf },
        Err(e) => {
            if matches!(e, BodyRead::TooLarge(_)) {
                p.metrics().refused_too_large.fetch_add(1, Relaxed);
            }
            return error_reply(e.status(), e.message(), None);
        }
    };
    let parsed = match parse_lines(&bytes, &p.config().limits, accept) {
        Ok(x) => x,
        Err(e @ BodyError::TooManyLines { .. }) => {
            p.metrics().refused_too_large.fetch_add(1, Relaxed);
            return error_reply(StatusCode::PAYLOAD_TOO_LARGE, e.to_string(), None);
        }
    };
    let accepted = parsed.views.len() + parsed.events.len();
    let mut outside_retention = 0;
    if !parsed.views.is_empty() {
        let payload: &[u8] = if parsed.whole_body {
            &bytes
        } else {
            &parsed.record_lines
        };
        match parsed.with_views(|v| p.ingest_views(payload, v)) {
            Ok(r) => outside_retention = r.outside_retention,
            Err(e) => return ingest_error_reply(&e),
        }
    }
    if !parsed.events.is_empty() {
        // Records (if any) are already acknowledged; a refusal here is reported
        // for the events alone, which the client resends.
        if let Err(e) = p.ingest_events(parsed.events).await {
            return ingest_error_reply(&e);
        }
    }
    for (reason, n) in &parsed.rejected_by_reason {
        p.metrics().reject(reason, *n);
    }
    let status = if accepted == 0 && parsed.rejected > 0 {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    (
        status,
        Json(Reply {
            accepted,
            rejected: parsed.rejected,
            errors: parsed.errors,
            outside_retention,
        }),
    )
        .into_response()
}

pub(crate) async fn post_digest(
    State(p): State<Pipeline>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    lines_endpoint(p, headers, body, Accept::Digest).await
}

pub(crate) async fn post_events(
    State(p): State<Pipeline>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    lines_endpoint(p, headers, body, Accept::Events).await
}

fn otlp_reply(r: otlp::OtlpResponse) -> Response {
    let mut resp = Response::new(Body::from(r.body));
    *resp.status_mut() =
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(r.content_type),
    );
    if let Some(s) = r.retry_after_s {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    resp
}

/// OTLP/HTTP traces, protobuf or JSON, decoded by `sources::otlp`.
pub(crate) async fn post_traces(
    State(p): State<Pipeline>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    p.metrics().requests.fetch_add(1, Relaxed);
    let Some(_slot) = p.try_request_slot() else {
        return too_many_requests(&p);
    };
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let format = match OtlpFormat::from_content_type(ct) {
        Ok(f) => f,
        Err(e) => return otlp_reply(e.response(OtlpFormat::Json)),
    };
    let bytes = match read_body(&p, &headers, body).await {
        Ok(buf) => Pooled { p: &p, buf },
        Err(e) => {
            let code = if matches!(e, BodyRead::TooLarge(_)) {
                8
            } else {
                3
            };
            return otlp_reply(otlp::status_response(
                e.status().as_u16(),
                code,
                &e.message(),
                format,
                None,
            ));
        }
    };
    // Client spans to platform services seen in earlier batches (from any
    // source) stay `client`, not `integrator`.
    let options = p.known_services().options();
    let mut batch = match otlp::decode_otlp_with(&bytes, format, &options) {
        Ok(b) => b,
        Err(e) => {
            p.metrics().reject("otlp_malformed", 1);
            return otlp_reply(e.response(format));
        }
    };
    if !batch.records.is_empty() {
        let records = std::mem::take(&mut batch.records);
        if let Err(e) = p.ingest_records(records).await {
            let status = if matches!(e, IngestError::Busy { .. }) {
                429
            } else {
                503
            };
            let after = e.retry_after_s().unwrap_or(1) as u32;
            return otlp_reply(otlp::throttled_response(
                status,
                after,
                &e.to_string(),
                format,
            ));
        }
    }
    for (reason, n) in &batch.rejected_by_reason {
        p.metrics().reject(reason, *n);
    }
    otlp_reply(otlp::export_response(&batch, format))
}
