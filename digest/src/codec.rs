//! The v1 line codec: one JSON object per line, UTF-8, newline-terminated.
//!
//! Encoding is hand-written (no intermediate tree). Decoding is strict about the
//! fields it knows — a wrong type, a bad id or timestamp, or a missing required
//! field is an error that names the field — and ignores fields it does not know,
//! as v1 requires. Nothing here panics on any input.

use crate::ids::{SpanId, TraceId};
use crate::json::{json_str, push_i64, push_u64};
use crate::record::{ChangeEvent, ChangeKind, DigestRecord, Keys, SpanKind};
use crate::time::{parse_rfc3339, write_rfc3339};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// Why a line was refused. `field` names the offending field when there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DecodeError {
    pub field: Option<String>,
    pub reason: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "field `{field}`: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

impl DecodeError {
    fn field(field: &str, reason: impl fmt::Display) -> Self {
        Self {
            field: Some(field.to_string()),
            reason: reason.to_string(),
        }
    }
    /// A short, stable label for counting rejections by reason.
    pub fn label(&self) -> &'static str {
        if self.field.is_none() {
            return "malformed_json";
        }
        if self.reason.starts_with("missing") {
            "missing_field"
        } else {
            "invalid_field"
        }
    }
}

/// One decoded line: a call record or a change event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Record(DigestRecord),
    Event(ChangeEvent),
}

// ---------------------------------------------------------------- encoding

fn write_key(out: &mut Vec<u8>, first: &mut bool, key: &str) {
    if !*first {
        out.push(b',');
    }
    *first = false;
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

/// Appends `rec` as one JSON line, newline included. Empty optional strings are omitted.
pub fn encode_record(out: &mut Vec<u8>, rec: &DigestRecord) {
    let mut first = true;
    out.push(b'{');
    write_key(out, &mut first, "time");
    out.push(b'"');
    write_rfc3339(out, rec.time_us);
    out.push(b'"');
    write_key(out, &mut first, "trace_id");
    out.push(b'"');
    rec.trace_id.write_hex(out);
    out.push(b'"');
    write_key(out, &mut first, "span_id");
    out.push(b'"');
    rec.span_id.write_hex(out);
    out.push(b'"');
    if let Some(p) = rec.parent_span_id {
        write_key(out, &mut first, "parent_span_id");
        out.push(b'"');
        p.write_hex(out);
        out.push(b'"');
    }
    write_key(out, &mut first, "kind");
    json_str(out, rec.kind.as_str());
    for (k, v) in [
        ("service", &rec.service),
        ("instance", &rec.instance),
        ("zone", &rec.zone),
        ("operation", &rec.operation),
        ("peer", &rec.peer),
    ] {
        if !v.is_empty() || k == "service" || k == "operation" {
            write_key(out, &mut first, k);
            json_str(out, v);
        }
    }
    write_key(out, &mut first, "duration_us");
    push_u64(out, rec.duration_us);
    write_key(out, &mut first, "success");
    out.extend_from_slice(if rec.success { b"true" } else { b"false" });
    if !rec.code.is_empty() {
        write_key(out, &mut first, "code");
        json_str(out, &rec.code);
    }
    if let Some(e) = &rec.error {
        write_key(out, &mut first, "error");
        json_str(out, e);
    }
    for (k, v) in [("scene", &rec.scene), ("channel", &rec.channel)] {
        if !v.is_empty() {
            write_key(out, &mut first, k);
            json_str(out, v);
        }
    }
    if rec.shadow {
        write_key(out, &mut first, "shadow");
        out.extend_from_slice(b"true");
    }
    if !rec.version.is_empty() {
        write_key(out, &mut first, "version");
        json_str(out, &rec.version);
    }
    if !rec.keys.is_empty() {
        write_key(out, &mut first, "keys");
        out.push(b'{');
        let mut kf = true;
        for (k, v) in &rec.keys {
            if !kf {
                out.push(b',');
            }
            kf = false;
            json_str(out, k);
            out.push(b':');
            json_str(out, v);
        }
        out.push(b'}');
    }
    if let Some(a) = rec.amount_cents {
        write_key(out, &mut first, "amount_cents");
        push_i64(out, a);
    }
    if let Some(n) = rec.sql_count {
        write_key(out, &mut first, "sql_count");
        push_u64(out, n as u64);
    }
    out.extend_from_slice(b"}\n");
}

/// Appends `ev` as one JSON line, newline included.
pub fn encode_event(out: &mut Vec<u8>, ev: &ChangeEvent) {
    let mut first = true;
    out.push(b'{');
    write_key(out, &mut first, "time");
    out.push(b'"');
    write_rfc3339(out, ev.time_us);
    out.push(b'"');
    write_key(out, &mut first, "event");
    json_str(out, ev.event.as_str());
    for (k, v) in [
        ("service", &ev.service),
        ("version", &ev.version),
        ("detail", &ev.detail),
        ("by", &ev.by),
    ] {
        write_key(out, &mut first, k);
        json_str(out, v);
    }
    out.extend_from_slice(b"}\n");
}

/// `rec` as a JSON line (with its newline).
pub fn record_to_line(rec: &DigestRecord) -> String {
    let mut v = Vec::with_capacity(512);
    encode_record(&mut v, rec);
    String::from_utf8(v).expect("encoder writes UTF-8")
}

/// `ev` as a JSON line (with its newline).
pub fn event_to_line(ev: &ChangeEvent) -> String {
    let mut v = Vec::with_capacity(160);
    encode_event(&mut v, ev);
    String::from_utf8(v).expect("encoder writes UTF-8")
}

// ---------------------------------------------------------------- decoding

/// Decodes one line (trailing `\n`/`\r\n` allowed) into a record or, when it has an
/// `event` field, a change event.
pub fn decode_line(line: &[u8]) -> Result<Line, DecodeError> {
    let line = trim_eol(line);
    let mut de = serde_json::Deserializer::from_slice(line);
    let parsed = de.deserialize_map(LineVisitor).map_err(|e| {
        // Errors raised by the visitor carry their field as "field `x`: reason".
        let msg = e.to_string();
        match parse_field_error(&msg) {
            Some((f, r)) => DecodeError::field(f, r),
            None => DecodeError {
                field: None,
                reason: msg,
            },
        }
    })?;
    de.end().map_err(|e| DecodeError {
        field: None,
        reason: format!("trailing data: {e}"),
    })?;
    parsed
}

/// Decodes a line that must be a call record.
pub fn decode_record(line: &[u8]) -> Result<DigestRecord, DecodeError> {
    match decode_line(line)? {
        Line::Record(r) => Ok(r),
        Line::Event(_) => Err(DecodeError::field(
            "event",
            "a change event where a digest record was expected",
        )),
    }
}

/// Decodes a line that must be a change event.
pub fn decode_event(line: &[u8]) -> Result<ChangeEvent, DecodeError> {
    match decode_line(line)? {
        Line::Event(e) => Ok(e),
        Line::Record(_) => Err(DecodeError::field("event", "missing field")),
    }
}

fn trim_eol(mut line: &[u8]) -> &[u8] {
    if let Some(rest) = line.strip_suffix(b"\n") {
        line = rest;
    }
    if let Some(rest) = line.strip_suffix(b"\r") {
        line = rest;
    }
    line
}

const FIELD_TAG: &str = "field `";

fn parse_field_error(msg: &str) -> Option<(&str, &str)> {
    let rest = msg.strip_prefix(FIELD_TAG)?;
    let end = rest.find("`: ")?;
    let reason = &rest[end + 3..];
    // serde_json appends " at line L column C"; keep the reason readable.
    let reason = reason.rsplit_once(" at line ").map_or(reason, |(r, _)| r);
    Some((&rest[..end], reason))
}

fn field_err<E: de::Error>(field: &str, reason: impl fmt::Display) -> E {
    E::custom(format_args!("{FIELD_TAG}{field}`: {reason}"))
}

fn next<'de, A: MapAccess<'de>, T: de::Deserialize<'de>>(
    map: &mut A,
    field: &str,
) -> Result<T, A::Error> {
    map.next_value::<T>().map_err(|e| {
        let msg = e.to_string();
        let msg = msg
            .rsplit_once(" at line ")
            .map_or(msg.as_str(), |(r, _)| r)
            .to_string();
        field_err(field, msg)
    })
}

struct LineVisitor;

#[derive(Default)]
struct Fields<'a> {
    time: Option<u64>,
    trace_id: Option<TraceId>,
    span_id: Option<SpanId>,
    parent_span_id: Option<SpanId>,
    kind: Option<SpanKind>,
    service: Option<Cow<'a, str>>,
    instance: Option<Cow<'a, str>>,
    zone: Option<Cow<'a, str>>,
    operation: Option<Cow<'a, str>>,
    peer: Option<Cow<'a, str>>,
    duration_us: Option<u64>,
    success: Option<bool>,
    code: Option<Cow<'a, str>>,
    error: Option<Cow<'a, str>>,
    scene: Option<Cow<'a, str>>,
    channel: Option<Cow<'a, str>>,
    shadow: Option<bool>,
    version: Option<Cow<'a, str>>,
    keys: Option<Keys>,
    amount_cents: Option<i64>,
    sql_count: Option<u32>,
    event: Option<ChangeKind>,
    detail: Option<Cow<'a, str>>,
    by: Option<Cow<'a, str>>,
}

fn own(c: Option<Cow<'_, str>>) -> String {
    c.map(Cow::into_owned).unwrap_or_default()
}

fn required<T>(v: Option<T>, field: &str) -> Result<T, DecodeError> {
    v.ok_or_else(|| DecodeError::field(field, "missing field"))
}

/// A string that may arrive as a JSON string (borrowed when unescaped).
struct Text<'a>(Cow<'a, str>);
impl<'de> de::Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Parses a string field with `f`, reporting failures against `field`.
fn text_with<'de, A: MapAccess<'de>, T, F>(map: &mut A, field: &str, f: F) -> Result<T, A::Error>
where
    F: FnOnce(&str) -> Result<T, String>,
{
    let Text(s) = next::<A, Text>(map, field)?;
    f(&s).map_err(|e| field_err(field, e))
}

impl<'de> Visitor<'de> for LineVisitor {
    type Value = Result<Line, DecodeError>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut x = Fields::default();
        while let Some(Text(key)) = map.next_key::<Text>()? {
            let k = key.as_ref();
            match k {
                "time" => {
                    x.time = Some(text_with(&mut map, k, |s| {
                        parse_rfc3339(s).map_err(|e| e.to_string())
                    })?)
                }
                "trace_id" => {
                    x.trace_id = Some(text_with(&mut map, k, |s| {
                        TraceId::parse(s).map_err(|e| e.to_string())
                    })?)
                }
                "span_id" => {
                    x.span_id = Some(text_with(&mut map, k, |s| {
                        SpanId::parse(s).map_err(|e| e.to_string())
                    })?)
                }
                "parent_span_id" => {
                    let v: Option<Text> = next(&mut map, k)?;
                    x.parent_span_id = match v {
                        Some(Text(s)) if !s.is_empty() => {
                            Some(SpanId::parse(&s).map_err(|e| field_err::<A::Error>(k, e))?)
                        }
                        _ => None,
                    }
                }
                "kind" => x.kind = Some(text_with(&mut map, k, |s| s.parse())?),
                "event" => x.event = Some(text_with(&mut map, k, |s| s.parse())?),
                "service" => x.service = Some(next::<A, Text>(&mut map, k)?.0),
                "instance" => x.instance = Some(next::<A, Text>(&mut map, k)?.0),
                "zone" => x.zone = Some(next::<A, Text>(&mut map, k)?.0),
                "operation" => x.operation = Some(next::<A, Text>(&mut map, k)?.0),
                "peer" => x.peer = Some(next::<A, Text>(&mut map, k)?.0),
                "code" => x.code = Some(next::<A, Text>(&mut map, k)?.0),
                "error" => x.error = next::<A, Option<Text>>(&mut map, k)?.map(|t| t.0),
                "scene" => x.scene = Some(next::<A, Text>(&mut map, k)?.0),
                "channel" => x.channel = Some(next::<A, Text>(&mut map, k)?.0),
                "version" => x.version = Some(next::<A, Text>(&mut map, k)?.0),
                "detail" => x.detail = Some(next::<A, Text>(&mut map, k)?.0),
                "by" => x.by = Some(next::<A, Text>(&mut map, k)?.0),
                "duration_us" => x.duration_us = Some(next(&mut map, k)?),
                "success" => x.success = Some(next(&mut map, k)?),
                "shadow" => x.shadow = Some(next(&mut map, k)?),
                "keys" => x.keys = Some(next(&mut map, k)?),
                "amount_cents" => x.amount_cents = next(&mut map, k)?,
                "sql_count" => x.sql_count = next(&mut map, k)?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(finish(x))
    }
}

fn finish(x: Fields<'_>) -> Result<Line, DecodeError> {
    let time_us = required(x.time, "time")?;
    if let Some(event) = x.event {
        return Ok(Line::Event(ChangeEvent {
            time_us,
            event,
            service: own(x.service),
            version: own(x.version),
            detail: own(x.detail),
            by: own(x.by),
        }));
    }
    let service = own(Some(required(x.service, "service")?));
    if service.is_empty() {
        return Err(DecodeError::field("service", "must not be empty"));
    }
    Ok(Line::Record(DigestRecord {
        time_us,
        trace_id: required(x.trace_id, "trace_id")?,
        span_id: required(x.span_id, "span_id")?,
        parent_span_id: x.parent_span_id,
        kind: required(x.kind, "kind")?,
        service,
        instance: own(x.instance),
        zone: own(x.zone),
        operation: own(Some(required(x.operation, "operation")?)),
        peer: own(x.peer),
        duration_us: required(x.duration_us, "duration_us")?,
        success: required(x.success, "success")?,
        code: own(x.code),
        error: x.error.map(Cow::into_owned),
        scene: own(x.scene),
        channel: own(x.channel),
        shadow: x.shadow.unwrap_or(false),
        version: own(x.version),
        keys: x.keys.unwrap_or_default(),
        amount_cents: x.amount_cents,
        sql_count: x.sql_count,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> DigestRecord {
        let mut keys = Keys::new();
        keys.insert("user".into(), "u42".into());
        keys.insert("merchant".into(), "m\"7".into());
        DigestRecord {
            time_us: 1_795_784_497_123_456,
            trace_id: TraceId(0x4bf92f3577b34da6a3ce929d0e0e4736),
            span_id: SpanId(0x00f067aa0ba902b7),
            parent_span_id: Some(SpanId(7)),
            kind: SpanKind::Integrator,
            service: "bank-gateway".into(),
            instance: "bank-gateway-1".into(),
            zone: "gz-a".into(),
            operation: "BankChannel.debit".into(),
            peer: "icbc".into(),
            duration_us: 5123,
            success: false,
            code: "BANK_TIMEOUT".into(),
            error: Some("Timeout".into()),
            scene: "quick_pay".into(),
            channel: "SDK".into(),
            shadow: true,
            version: "1.4.2".into(),
            keys,
            amount_cents: Some(-1999),
            sql_count: Some(3),
        }
    }

    #[test]
    fn record_round_trip() {
        let r = sample();
        let line = record_to_line(&r);
        assert!(line.ends_with('\n'));
        assert_eq!(decode_record(line.as_bytes()).unwrap(), r);
        // serde_json agrees it is valid JSON.
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(v["keys"]["merchant"], "m\"7");
    }

    #[test]
    fn event_round_trip() {
        let e = ChangeEvent {
            time_us: 1_795_784_497_000_000,
            event: ChangeKind::Deploy,
            service: "trade".into(),
            version: "2.3".into(),
            detail: "canary\tall".into(),
            by: "ci".into(),
        };
        let line = event_to_line(&e);
        assert_eq!(
            decode_line(line.as_bytes()).unwrap(),
            Line::Event(e.clone())
        );
        assert_eq!(decode_event(line.as_bytes()).unwrap(), e);
        assert!(decode_record(line.as_bytes()).is_err());
    }

    #[test]
    fn unknown_fields_ignored_and_optional_absent() {
        let line = br#"{"time":"2026-11-27T13:01:37.000000Z","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","kind":"server","service":"trade","operation":"pay","duration_us":10,"success":true,"extra":{"a":[1,2]},"parent_span_id":null}"#;
        let r = decode_record(line).unwrap();
        assert_eq!(r.service, "trade");
        assert_eq!(r.parent_span_id, None);
        assert!(r.keys.is_empty());
    }

    #[test]
    fn bad_lines_name_the_field() {
        let good = record_to_line(&sample());
        let cases: Vec<(String, Option<&str>)> = vec![
            (
                good.replace("\"kind\":\"integrator\"", "\"kind\":\"server2\""),
                Some("kind"),
            ),
            (
                good.replace("\"duration_us\":5123", "\"duration_us\":\"5\""),
                Some("duration_us"),
            ),
            (
                good.replace("\"duration_us\":5123", "\"duration_us\":-5"),
                Some("duration_us"),
            ),
            (good.replace("00f067aa0ba902b7", "xyz"), Some("span_id")),
            (
                good.replace("2026-11-27T13:01:37.123456Z", "yesterday"),
                Some("time"),
            ),
            (
                good.replace("\"success\":false", "\"success\":\"no\""),
                Some("success"),
            ),
            (
                good.replace("\"service\":\"bank-gateway\",", ""),
                Some("service"),
            ),
            (
                good.replace("\"keys\":{", "\"keys\":{\"n\":1,"),
                Some("keys"),
            ),
            ("{\"time\":".to_string(), Some("time")),
            ("[1,2,3]".to_string(), None),
            ("".to_string(), None),
            (format!("{} trailing", good.trim_end()), None),
        ];
        for (line, field) in cases {
            let err = decode_line(line.as_bytes()).unwrap_err();
            assert_eq!(err.field.as_deref(), field, "{line} -> {err}");
            assert!(!err.reason.is_empty());
        }
    }

    #[test]
    fn never_panics_on_prefixes_and_bytes() {
        let good = record_to_line(&sample());
        let b = good.as_bytes();
        for i in 0..b.len() {
            let _ = decode_line(&b[..i]);
            let mut m = b.to_vec();
            m[i] = m[i].wrapping_add(1);
            let _ = decode_line(&m);
            m[i] = 0xff;
            let _ = decode_line(&m);
        }
    }
}
