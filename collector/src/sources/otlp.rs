//! OpenTelemetry OTLP/HTTP traces (`POST /v1/traces`) onto digest records.
//!
//! Pure functions, no HTTP types: [`decode_otlp`] turns a request body
//! (protobuf or JSON) into an [`OtlpBatch`] of records plus the count of spans it
//! refused, and [`export_response`] / [`OtlpError::response`] /
//! [`throttled_response`] build the answer OTLP/HTTP prescribes (status code,
//! content type, `ExportTraceServiceResponse` or `google.rpc.Status` body). The
//! HTTP edge only copies them onto the wire. The attribute mapping is documented
//! in the README section "collector: OTLP, SOFATracer, tailing, ClickHouse".

use super::otlp_json;
use super::otlp_map::{map_groups, Group};
pub use super::otlp_map::{OtlpBatch, OtlpOptions};
use super::otlp_proto::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse, RpcStatus,
};
use digest::{DigestRecord, SpanKind};
use prost::Message;
use std::collections::HashSet;

/// The body encoding, chosen from the request's `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpFormat {
    /// `application/x-protobuf`
    Protobuf,
    /// `application/json`
    Json,
}

impl OtlpFormat {
    /// Picks the format from a `Content-Type` header value (parameters such as
    /// `; charset=utf-8` are ignored). Anything else is a 415.
    pub fn from_content_type(ct: &str) -> Result<Self, OtlpError> {
        let base = ct.split(';').next().unwrap_or("").trim();
        if base.eq_ignore_ascii_case("application/x-protobuf") {
            Ok(Self::Protobuf)
        } else if base.eq_ignore_ascii_case("application/json") {
            Ok(Self::Json)
        } else {
            Err(OtlpError::UnsupportedMediaType(base.to_string()))
        }
    }
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Protobuf => "application/x-protobuf",
            Self::Json => "application/json",
        }
    }
}

/// Why a whole OTLP request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OtlpError {
    /// The body cannot be decoded as an `ExportTraceServiceRequest` (HTTP 400).
    #[error("cannot decode the OTLP request: {0}")]
    Malformed(String),
    /// The `Content-Type` is neither protobuf nor JSON (HTTP 415).
    #[error(
        "unsupported content type {0:?} (expected application/x-protobuf or application/json)"
    )]
    UnsupportedMediaType(String),
}

impl OtlpError {
    /// The HTTP status OTLP/HTTP prescribes: 400 for bad data (never retried),
    /// 415 for an unsupported content type.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Malformed(_) => 400,
            Self::UnsupportedMediaType(_) => 415,
        }
    }
    /// The full answer: status and a `google.rpc.Status` body in `format`.
    pub fn response(&self, format: OtlpFormat) -> OtlpResponse {
        // gRPC codes in Status.code: 3 INVALID_ARGUMENT.
        status_response(self.http_status(), 3, &self.to_string(), format, None)
    }
}

/// An answer for the HTTP edge to send as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpResponse {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// Seconds for a `Retry-After` header (throttling answers only).
    pub retry_after_s: Option<u32>,
}

/// The services seen serving calls (server records from any source), shared
/// between requests so that a client span to a platform service whose spans
/// came in an earlier batch is still a `client`, not an `integrator`.
/// Bounded: at most [`KnownServices::MAX`] names are kept.
#[derive(Debug, Clone, Default)]
pub struct KnownServices(std::sync::Arc<parking_lot::RwLock<HashSet<String>>>);

impl KnownServices {
    pub const MAX: usize = 10_000;

    /// Learns the services of the server and internal records in `records`.
    pub fn observe(&self, records: &[DigestRecord]) {
        self.observe_names(
            records
                .iter()
                .filter(|r| matches!(r.kind, SpanKind::Server | SpanKind::Internal))
                .map(|r| r.service.as_str()),
        );
    }

    /// Learns service names (of server or internal records) seen elsewhere,
    /// e.g. on the digest hot path.
    pub fn observe_names<'a>(&self, names: impl IntoIterator<Item = &'a str>) {
        let fresh: Vec<&str> = {
            let known = self.0.read();
            names
                .into_iter()
                .filter(|s| !s.is_empty() && !known.contains(*s))
                .collect()
        };
        if fresh.is_empty() {
            return;
        }
        let mut known = self.0.write();
        for s in fresh {
            if known.len() >= Self::MAX {
                break;
            }
            known.insert(s.to_string());
        }
    }

    /// Options for [`decode_otlp_with`] naming every service learnt so far.
    pub fn options(&self) -> OtlpOptions {
        OtlpOptions {
            platform_services: self.0.read().clone(),
        }
    }

    pub fn len(&self) -> usize {
        self.0.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Decodes an OTLP/HTTP traces body with default options. See [`decode_otlp_with`].
pub fn decode_otlp(body: &[u8], format: OtlpFormat) -> Result<OtlpBatch, OtlpError> {
    decode_otlp_with(body, format, &OtlpOptions::default())
}

/// Decodes an OTLP/HTTP traces body into digest records. `Err` only when the body
/// as a whole cannot be decoded; a bad span is counted in `rejected_spans` and
/// the others are kept. An empty request is a success with no records.
pub fn decode_otlp_with(
    body: &[u8],
    format: OtlpFormat,
    opts: &OtlpOptions,
) -> Result<OtlpBatch, OtlpError> {
    let groups: Vec<Group> = match format {
        OtlpFormat::Protobuf => {
            let req = ExportTraceServiceRequest::decode(body)
                .map_err(|e| OtlpError::Malformed(format!("invalid protobuf: {e}")))?;
            req.resource_spans
                .into_iter()
                .map(|rs| {
                    let attrs = rs.resource.map(|r| r.attributes).unwrap_or_default();
                    let spans = rs
                        .scope_spans
                        .into_iter()
                        .flat_map(|s| s.spans)
                        .map(Ok)
                        .collect();
                    (attrs, spans)
                })
                .collect()
        }
        OtlpFormat::Json => otlp_json::read_request(body)
            .map_err(OtlpError::Malformed)?
            .into_iter()
            .map(|g| (g.resource, g.spans))
            .collect(),
    };
    Ok(map_groups(groups, opts))
}

/// The 200 answer for a decoded request: an `ExportTraceServiceResponse`, with
/// `partialSuccess {rejectedSpans, errorMessage}` set only when spans were refused.
pub fn export_response(batch: &OtlpBatch, format: OtlpFormat) -> OtlpResponse {
    let partial = (batch.rejected_spans > 0).then(|| ExportTracePartialSuccess {
        rejected_spans: batch.rejected_spans.min(i64::MAX as u64) as i64,
        error_message: batch.error_message.clone(),
    });
    let body = match format {
        OtlpFormat::Protobuf => ExportTraceServiceResponse {
            partial_success: partial,
        }
        .encode_to_vec(),
        OtlpFormat::Json => {
            let v = match partial {
                None => serde_json::json!({}),
                Some(p) => serde_json::json!({"partialSuccess": {
                    "rejectedSpans": p.rejected_spans.to_string(),
                    "errorMessage": p.error_message,
                }}),
            };
            v.to_string().into_bytes()
        }
    };
    OtlpResponse {
        status: 200,
        content_type: format.content_type(),
        body,
        retry_after_s: None,
    }
}

/// A throttling answer (OTLP: retryable): `status` must be 429 or 503; the
/// client waits `retry_after_s` seconds before retrying.
pub fn throttled_response(
    status: u16,
    retry_after_s: u32,
    message: &str,
    format: OtlpFormat,
) -> OtlpResponse {
    let status = if status == 429 { 429 } else { 503 };
    // gRPC codes: 8 RESOURCE_EXHAUSTED, 14 UNAVAILABLE.
    let code = if status == 429 { 8 } else { 14 };
    status_response(status, code, message, format, Some(retry_after_s))
}

/// A failure answer with a `google.rpc.Status` body (e.g. 413 for a body over the limit).
pub fn status_response(
    status: u16,
    grpc_code: i32,
    message: &str,
    format: OtlpFormat,
    retry_after_s: Option<u32>,
) -> OtlpResponse {
    let body = match format {
        OtlpFormat::Protobuf => RpcStatus {
            code: grpc_code,
            message: message.to_string(),
        }
        .encode_to_vec(),
        OtlpFormat::Json => serde_json::json!({"code": grpc_code, "message": message})
            .to_string()
            .into_bytes(),
    };
    OtlpResponse {
        status,
        content_type: format.content_type(),
        body,
        retry_after_s,
    }
}
