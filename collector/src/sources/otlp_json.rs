//! OTLP/JSON (the proto3 JSON mapping with OTLP's deviations) read into the
//! protobuf structs of [`super::otlp_proto`]: lowerCamelCase keys, trace and span
//! ids as case-insensitive hex, enums as integers (enum names are tolerated),
//! 64-bit integers as decimal strings or numbers, unknown fields ignored.
//!
//! A structural error above the span level (the body is not JSON, `resourceSpans`
//! is not an array, a resource is not an object) fails the whole body; an error
//! inside one span rejects that span only, with a reason.

use super::otlp_proto::{any_value, AnyValue, ArrayValue, KeyValue, KeyValueList, Span, Status};
use serde_json::{Map, Value};

/// One `ResourceSpans` as read from JSON: the resource attributes and each span
/// either decoded or refused with a reason.
pub(crate) struct JsonResourceSpans {
    pub resource: Vec<KeyValue>,
    pub spans: Vec<Result<Span, String>>,
}

/// Reads an `ExportTraceServiceRequest` in JSON. `Err` means the body as a whole
/// cannot be decoded (answer 400).
pub(crate) fn read_request(body: &[u8]) -> Result<Vec<JsonResourceSpans>, String> {
    let root: Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    let root = root
        .as_object()
        .ok_or("the body must be a JSON object (ExportTraceServiceRequest)")?;
    let mut out = Vec::new();
    let Some(rs) = root.get("resourceSpans") else {
        return Ok(out);
    };
    let rs = as_array(rs, "resourceSpans")?;
    for (i, r) in rs.iter().enumerate() {
        let r = r
            .as_object()
            .ok_or_else(|| format!("resourceSpans[{i}] must be an object"))?;
        let resource = match r.get("resource") {
            None | Some(Value::Null) => Vec::new(),
            Some(v) => {
                let obj = v
                    .as_object()
                    .ok_or_else(|| format!("resourceSpans[{i}].resource must be an object"))?;
                attributes(obj).map_err(|e| format!("resourceSpans[{i}].resource: {e}"))?
            }
        };
        let mut spans = Vec::new();
        if let Some(ss) = r.get("scopeSpans") {
            let ss = as_array(ss, "scopeSpans")?;
            for (j, s) in ss.iter().enumerate() {
                let s = s.as_object().ok_or_else(|| {
                    format!("resourceSpans[{i}].scopeSpans[{j}] must be an object")
                })?;
                if let Some(list) = s.get("spans") {
                    for sp in as_array(list, "spans")? {
                        spans.push(span(sp));
                    }
                }
            }
        }
        out.push(JsonResourceSpans { resource, spans });
    }
    Ok(out)
}

fn as_array<'a>(v: &'a Value, what: &str) -> Result<&'a Vec<Value>, String> {
    match v {
        Value::Array(a) => Ok(a),
        _ => Err(format!("`{what}` must be an array")),
    }
}

fn span(v: &Value) -> Result<Span, String> {
    let o = v.as_object().ok_or("a span must be an object")?;
    Ok(Span {
        trace_id: hex_field(o, "traceId")?,
        span_id: hex_field(o, "spanId")?,
        parent_span_id: hex_field(o, "parentSpanId")?,
        name: str_field(o, "name")?,
        kind: enum_field(o, "kind", &KIND_NAMES)?,
        start_time_unix_nano: u64_field(o, "startTimeUnixNano")?,
        end_time_unix_nano: u64_field(o, "endTimeUnixNano")?,
        attributes: attributes(o)?,
        status: match o.get("status") {
            None | Some(Value::Null) => None,
            Some(Value::Object(s)) => Some(Status {
                message: str_field(s, "message")?,
                code: enum_field(s, "code", &STATUS_NAMES)?,
            }),
            Some(_) => return Err("`status` must be an object".into()),
        },
    })
}

const KIND_NAMES: [&str; 6] = [
    "SPAN_KIND_UNSPECIFIED",
    "SPAN_KIND_INTERNAL",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER",
];
const STATUS_NAMES: [&str; 3] = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];

fn str_field(o: &Map<String, Value>, key: &str) -> Result<String, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!("`{key}` must be a string")),
    }
}

fn hex_field(o: &Map<String, Value>, key: &str) -> Result<Vec<u8>, String> {
    let s = str_field(o, key)?;
    decode_hex(&s).ok_or_else(|| format!("`{key}` is not hex: {:?}", truncate(&s)))
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Case-insensitive hex to bytes; `None` for odd length or a non-hex digit.
pub(crate) fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if b.len() % 2 != 0 {
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

fn enum_field(o: &Map<String, Value>, key: &str, names: &[&str]) -> Result<i32, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|v| i32::try_from(v).ok())
            .ok_or_else(|| format!("`{key}` must be an integer enum value")),
        Some(Value::String(s)) => names
            .iter()
            .position(|n| n == s)
            .map(|p| p as i32)
            .ok_or_else(|| format!("`{key}`: unknown enum name {:?}", truncate(s))),
        Some(_) => Err(format!("`{key}` must be an integer enum value")),
    }
}

fn u64_field(o: &Map<String, Value>, key: &str) -> Result<u64, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| format!("`{key}` must be an unsigned 64-bit integer")),
        Some(Value::String(s)) => s
            .parse::<u64>()
            .map_err(|_| format!("`{key}` must be an unsigned 64-bit integer")),
        Some(_) => Err(format!("`{key}` must be an unsigned 64-bit integer")),
    }
}

fn attributes(o: &Map<String, Value>) -> Result<Vec<KeyValue>, String> {
    match o.get("attributes") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a.iter().map(key_value).collect(),
        Some(_) => Err("`attributes` must be an array".into()),
    }
}

fn key_value(v: &Value) -> Result<KeyValue, String> {
    let o = v.as_object().ok_or("an attribute must be an object")?;
    let key = str_field(o, "key")?;
    let value = match o.get("value") {
        None | Some(Value::Null) => None,
        Some(v) => Some(any_value(v).map_err(|e| format!("attribute {:?}: {e}", truncate(&key)))?),
    };
    Ok(KeyValue { key, value })
}

fn any_value(v: &Value) -> Result<AnyValue, String> {
    use any_value::Value as V;
    let o = v.as_object().ok_or("an AnyValue must be an object")?;
    let mut out = None;
    for (k, v) in o {
        let val = match (k.as_str(), v) {
            ("stringValue", Value::String(s)) => V::StringValue(s.clone()),
            ("boolValue", Value::Bool(b)) => V::BoolValue(*b),
            ("intValue", Value::Number(n)) => {
                V::IntValue(n.as_i64().ok_or("intValue out of range")?)
            }
            ("intValue", Value::String(s)) => {
                V::IntValue(s.parse().map_err(|_| "intValue must be a 64-bit integer")?)
            }
            ("doubleValue", Value::Number(n)) => V::DoubleValue(n.as_f64().unwrap_or(0.0)),
            ("doubleValue", Value::String(s)) => {
                V::DoubleValue(s.parse().map_err(|_| "doubleValue must be a number")?)
            }
            ("arrayValue", Value::Object(a)) => V::ArrayValue(ArrayValue {
                values: match a.get("values") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(items)) => {
                        items.iter().map(any_value).collect::<Result<_, _>>()?
                    }
                    Some(_) => return Err("arrayValue.values must be an array".into()),
                },
            }),
            ("kvlistValue", Value::Object(a)) => V::KvlistValue(KeyValueList {
                values: match a.get("values") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(items)) => {
                        items.iter().map(key_value).collect::<Result<_, _>>()?
                    }
                    Some(_) => return Err("kvlistValue.values must be an array".into()),
                },
            }),
            // Bytes are base64 in JSON; war-room does not read byte attributes.
            ("bytesValue", Value::String(_)) => V::BytesValue(Vec::new()),
            (
                "stringValue" | "boolValue" | "intValue" | "doubleValue" | "arrayValue"
                | "kvlistValue" | "bytesValue",
                _,
            ) => return Err(format!("`{k}` has the wrong JSON type")),
            _ => continue,
        };
        out = Some(val);
    }
    Ok(AnyValue { value: out })
}
