//! OTLP/JSON (the proto3 JSON mapping with OTLP's deviations) read straight into
//! the protobuf structs of [`super::otlp_proto`], without an intermediate JSON
//! tree: lowerCamelCase keys, trace and span ids as case-insensitive hex, enums
//! as integers (enum names tolerated), 64-bit integers as decimal strings or
//! numbers, unknown fields ignored.
//!
//! A structural error above the span level (the body is not JSON, `resourceSpans`
//! is not an array, a resource attribute is malformed) fails the whole body; an
//! error inside one span (a wrong type, bad hex, a malformed attribute) rejects
//! that span only, with a reason: the span's value is still consumed, so its
//! neighbours decode normally.

use super::otlp_json_attrs::{LAttrs, StrictKv};
use super::otlp_json_lenient::{truncate, Got, KindEnum, LStr, StatusEnum, LU64};
use super::otlp_proto::{KeyValue, Span, Status};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;

/// One `ResourceSpans` as read from JSON: the resource attributes and each span
/// either decoded or refused with a reason.
pub(crate) struct JsonResourceSpans {
    pub resource: Vec<KeyValue>,
    pub spans: Vec<Result<Span, String>>,
}

#[derive(Deserialize)]
struct JReq {
    #[serde(rename = "resourceSpans", default)]
    resource_spans: Option<Vec<JResourceSpans>>,
}

#[derive(Deserialize)]
struct JResourceSpans {
    #[serde(default)]
    resource: Option<JResource>,
    #[serde(rename = "scopeSpans", default)]
    scope_spans: Option<Vec<JScopeSpans>>,
}

#[derive(Deserialize)]
struct JResource {
    #[serde(default)]
    attributes: Option<Vec<StrictKv>>,
}

#[derive(Deserialize)]
struct JScopeSpans {
    #[serde(default)]
    spans: Option<Vec<LenientSpan>>,
}

/// Reads an `ExportTraceServiceRequest` in JSON. `Err` means the body as a whole
/// cannot be decoded (answer 400).
pub(crate) fn read_request(body: &[u8]) -> Result<Vec<JsonResourceSpans>, String> {
    let req: JReq = serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    Ok(req
        .resource_spans
        .unwrap_or_default()
        .into_iter()
        .map(|rs| JsonResourceSpans {
            resource: rs
                .resource
                .and_then(|r| r.attributes)
                .unwrap_or_default()
                .into_iter()
                .map(|kv| kv.0)
                .collect(),
            spans: rs
                .scope_spans
                .unwrap_or_default()
                .into_iter()
                .flat_map(|s| s.spans.unwrap_or_default())
                .map(|s| s.0)
                .collect(),
        })
        .collect())
}

/// Case-insensitive hex to bytes; `None` for odd length or a non-hex digit.
fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    let nib = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    b.chunks(2)
        .map(|p| Some(nib(p[0])? << 4 | nib(p[1])?))
        .collect()
}

// ------------------------------------------------------------ spans

/// A span, or why it was refused.
struct LenientSpan(Result<Span, String>);

impl<'de> Deserialize<'de> for LenientSpan {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Got<Span>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a span object")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Err("a span must be an object".into()))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Err("a span must be an object".into()))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Err("a span must be an object".into()))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Err("a span must be an object".into()))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Err("a span must be an object".into()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Err("a span must be an object".into()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Err("a span must be an object".into()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut span = Span::default();
                let mut first_err: Option<String> = None;
                let mut note = |field: &str, r: Result<(), String>| {
                    if let (Err(e), None) = (r, &first_err) {
                        first_err = Some(format!("`{field}`: {e}"));
                    }
                };
                while let Some(key) = map.next_key::<SpanField>()? {
                    match key {
                        SpanField::TraceId => {
                            let v = map.next_value::<LStr>()?.0.and_then(hex);
                            note("traceId", v.map(|b| span.trace_id = b));
                        }
                        SpanField::SpanId => {
                            let v = map.next_value::<LStr>()?.0.and_then(hex);
                            note("spanId", v.map(|b| span.span_id = b));
                        }
                        SpanField::ParentSpanId => {
                            let v = map.next_value::<LStr>()?.0.and_then(hex);
                            note("parentSpanId", v.map(|b| span.parent_span_id = b));
                        }
                        SpanField::Name => {
                            let v = map.next_value::<LStr>()?.0;
                            note("name", v.map(|n| span.name = n));
                        }
                        SpanField::Kind => {
                            let v = map.next_value::<KindEnum>()?.0 .0;
                            note("kind", v.map(|k| span.kind = k));
                        }
                        SpanField::Start => {
                            let v = map.next_value::<LU64>()?.0;
                            note(
                                "startTimeUnixNano",
                                v.map(|t| span.start_time_unix_nano = t),
                            );
                        }
                        SpanField::End => {
                            let v = map.next_value::<LU64>()?.0;
                            note("endTimeUnixNano", v.map(|t| span.end_time_unix_nano = t));
                        }
                        SpanField::Attributes => {
                            let v = map.next_value::<LAttrs>()?.0;
                            note("attributes", v.map(|a| span.attributes = a));
                        }
                        SpanField::Status => {
                            let v = map.next_value::<LStatus>()?.0;
                            note("status", v.map(|s| span.status = s));
                        }
                        SpanField::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(match first_err {
                    Some(e) => Err(e),
                    None => Ok(span),
                })
            }
        }
        d.deserialize_any(V).map(LenientSpan)
    }
}

fn hex(s: String) -> Result<Vec<u8>, String> {
    decode_hex(&s).ok_or_else(|| format!("not hex: {:?}", truncate(&s)))
}

enum SpanField {
    TraceId,
    SpanId,
    ParentSpanId,
    Name,
    Kind,
    Start,
    End,
    Attributes,
    Status,
    Other,
}

impl<'de> Deserialize<'de> for SpanField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SpanField;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a span field name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SpanField, E> {
                Ok(match v {
                    "traceId" => SpanField::TraceId,
                    "spanId" => SpanField::SpanId,
                    "parentSpanId" => SpanField::ParentSpanId,
                    "name" => SpanField::Name,
                    "kind" => SpanField::Kind,
                    "startTimeUnixNano" => SpanField::Start,
                    "endTimeUnixNano" => SpanField::End,
                    "attributes" => SpanField::Attributes,
                    "status" => SpanField::Status,
                    _ => SpanField::Other,
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

/// `status`: an object with `message` and `code` (null → absent).
struct LStatus(Got<Option<Status>>);
impl<'de> Deserialize<'de> for LStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Got<Option<Status>>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a status object")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Ok(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Err("must be an object".into()))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Err("must be an object".into()))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Err("must be an object".into()))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Err("must be an object".into()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Err("must be an object".into()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Err("must be an object".into()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut st = Status::default();
                let mut err = None;
                while let Some(k) = map.next_key::<String>()? {
                    let r = match k.as_str() {
                        "message" => map.next_value::<LStr>()?.0.map(|m| st.message = m),
                        "code" => map.next_value::<StatusEnum>()?.0 .0.map(|c| st.code = c),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            Ok(())
                        }
                    };
                    if let (Err(e), None) = (r, &err) {
                        err = Some(format!("`{k}`: {e}"));
                    }
                }
                Ok(match err {
                    Some(e) => Err(e),
                    None => Ok(Some(st)),
                })
            }
        }
        d.deserialize_any(V).map(LStatus)
    }
}
