//! Reading v1 lines: one pass of `serde_json` over the object, each known key
//! dispatched through the field tables of [`crate::fields`] (strings borrowed
//! when unescaped), then the required fields checked by name.

use super::{DecodeError, Line};
use crate::fields::{EventField, RecordField as F};
use crate::ids::{SpanId, TraceId};
use crate::record::{ChangeEvent, ChangeKind, DigestRecord, Keys, SpanKind};
use crate::time::parse_rfc3339;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

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
            EventField::Event.name(),
            "a change event where a digest record was expected",
        )),
    }
}

/// Decodes a line that must be a change event.
pub fn decode_event(line: &[u8]) -> Result<ChangeEvent, DecodeError> {
    match decode_line(line)? {
        Line::Event(e) => Ok(e),
        Line::Record(_) => Err(DecodeError::field(
            EventField::Event.name(),
            "missing field",
        )),
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

/// What one line has shown so far: every record field and every event field.
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

fn text<'de, A: MapAccess<'de>>(map: &mut A, field: &str) -> Result<Cow<'de, str>, A::Error> {
    Ok(next::<A, Text>(map, field)?.0)
}

impl<'de> Fields<'de> {
    /// Reads the value of record field `f` from `map`.
    fn read_record_field<A: MapAccess<'de>>(&mut self, f: F, map: &mut A) -> Result<(), A::Error> {
        let k = f.name();
        match f {
            F::Time => {
                self.time = Some(text_with(map, k, |s| {
                    parse_rfc3339(s).map_err(|e| e.to_string())
                })?)
            }
            F::TraceId => {
                self.trace_id = Some(text_with(map, k, |s| {
                    TraceId::parse(s).map_err(|e| e.to_string())
                })?)
            }
            F::SpanId => {
                self.span_id = Some(text_with(map, k, |s| {
                    SpanId::parse(s).map_err(|e| e.to_string())
                })?)
            }
            F::ParentSpanId => {
                let v: Option<Text> = next(map, k)?;
                self.parent_span_id = match v {
                    Some(Text(s)) if !s.is_empty() => {
                        Some(SpanId::parse(&s).map_err(|e| field_err::<A::Error>(k, e))?)
                    }
                    _ => None,
                }
            }
            F::Kind => self.kind = Some(text_with(map, k, |s| s.parse())?),
            F::Service => self.service = Some(text(map, k)?),
            F::Instance => self.instance = Some(text(map, k)?),
            F::Zone => self.zone = Some(text(map, k)?),
            F::Operation => self.operation = Some(text(map, k)?),
            F::Peer => self.peer = Some(text(map, k)?),
            F::DurationUs => self.duration_us = Some(next(map, k)?),
            F::Success => self.success = Some(next(map, k)?),
            F::Code => self.code = Some(text(map, k)?),
            F::Error => self.error = next::<A, Option<Text>>(map, k)?.map(|t| t.0),
            F::Scene => self.scene = Some(text(map, k)?),
            F::Channel => self.channel = Some(text(map, k)?),
            F::Shadow => self.shadow = Some(next(map, k)?),
            F::Version => self.version = Some(text(map, k)?),
            F::Keys => self.keys = Some(next(map, k)?),
            F::AmountCents => self.amount_cents = next(map, k)?,
            F::SqlCount => self.sql_count = next(map, k)?,
        }
        Ok(())
    }

    /// Reads the value of event field `f` from `map`; the fields an event shares
    /// with a record are read as the record's.
    fn read_event_field<A: MapAccess<'de>>(
        &mut self,
        f: EventField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        let k = f.name();
        match f {
            EventField::Time => return self.read_record_field(F::Time, map),
            EventField::Service => return self.read_record_field(F::Service, map),
            EventField::Version => return self.read_record_field(F::Version, map),
            EventField::Event => self.event = Some(text_with(map, k, |s| s.parse())?),
            EventField::Detail => self.detail = Some(text(map, k)?),
            EventField::By => self.by = Some(text(map, k)?),
        }
        Ok(())
    }

    fn finish(self) -> Result<Line, DecodeError> {
        let time_us = required(self.time, F::Time.name())?;
        if let Some(event) = self.event {
            return Ok(Line::Event(ChangeEvent {
                time_us,
                event,
                service: own(self.service),
                version: own(self.version),
                detail: own(self.detail),
                by: own(self.by),
            }));
        }
        let service = own(Some(required(self.service, F::Service.name())?));
        if service.is_empty() {
            return Err(DecodeError::field(F::Service.name(), "must not be empty"));
        }
        Ok(Line::Record(DigestRecord {
            time_us,
            trace_id: required(self.trace_id, F::TraceId.name())?,
            span_id: required(self.span_id, F::SpanId.name())?,
            parent_span_id: self.parent_span_id,
            kind: required(self.kind, F::Kind.name())?,
            service,
            instance: own(self.instance),
            zone: own(self.zone),
            operation: own(Some(required(self.operation, F::Operation.name())?)),
            peer: own(self.peer),
            duration_us: required(self.duration_us, F::DurationUs.name())?,
            success: required(self.success, F::Success.name())?,
            code: own(self.code),
            error: self.error.map(Cow::into_owned),
            scene: own(self.scene),
            channel: own(self.channel),
            shadow: self.shadow.unwrap_or(false),
            version: own(self.version),
            keys: self.keys.unwrap_or_default(),
            amount_cents: self.amount_cents,
            sql_count: self.sql_count,
        }))
    }
}

struct LineVisitor;

impl<'de> Visitor<'de> for LineVisitor {
    type Value = Result<Line, DecodeError>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut x = Fields::default();
        let mut expected = 0;
        while let Some(Text(key)) = map.next_key::<Text>()? {
            if let Some(f) = F::lookup(&key, expected) {
                expected = f as usize + 1;
                x.read_record_field(f, &mut map)?;
            } else if let Some(f) = EventField::lookup(&key) {
                x.read_event_field(f, &mut map)?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(x.finish())
    }
}
