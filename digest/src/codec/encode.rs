//! Writing v1 lines: the fields of [`RECORD_FIELDS`](crate::fields::RECORD_FIELDS)
//! in table order, optional ones left out when empty; every event field.

use crate::fields::{EventField, Presence, RecordField as F};
use crate::json::{json_str, push_i64, push_u64};
use crate::record::{ChangeEvent, DigestRecord};
use crate::time::write_rfc3339;

fn write_key(out: &mut Vec<u8>, first: &mut bool, key: &str) {
    if !*first {
        out.push(b',');
    }
    *first = false;
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

/// A text field: written when required or not empty.
fn write_text(out: &mut Vec<u8>, first: &mut bool, field: F, value: &str) {
    if !value.is_empty() || field.spec().presence == Presence::Required {
        write_key(out, first, field.name());
        json_str(out, value);
    }
}

/// Appends `rec` as one JSON line, newline included. Empty optional strings are omitted.
pub fn encode_record(out: &mut Vec<u8>, rec: &DigestRecord) {
    let mut first = true;
    out.push(b'{');
    write_key(out, &mut first, F::Time.name());
    out.push(b'"');
    write_rfc3339(out, rec.time_us);
    out.push(b'"');
    write_key(out, &mut first, F::TraceId.name());
    out.push(b'"');
    rec.trace_id.write_hex(out);
    out.push(b'"');
    write_key(out, &mut first, F::SpanId.name());
    out.push(b'"');
    rec.span_id.write_hex(out);
    out.push(b'"');
    if let Some(p) = rec.parent_span_id {
        write_key(out, &mut first, F::ParentSpanId.name());
        out.push(b'"');
        p.write_hex(out);
        out.push(b'"');
    }
    write_key(out, &mut first, F::Kind.name());
    json_str(out, rec.kind.as_str());
    for (field, value) in [
        (F::Service, &rec.service),
        (F::Instance, &rec.instance),
        (F::Zone, &rec.zone),
        (F::Operation, &rec.operation),
        (F::Peer, &rec.peer),
    ] {
        write_text(out, &mut first, field, value);
    }
    write_key(out, &mut first, F::DurationUs.name());
    push_u64(out, rec.duration_us);
    write_key(out, &mut first, F::Success.name());
    out.extend_from_slice(if rec.success { b"true" } else { b"false" });
    write_text(out, &mut first, F::Code, &rec.code);
    if let Some(e) = &rec.error {
        write_key(out, &mut first, F::Error.name());
        json_str(out, e);
    }
    write_text(out, &mut first, F::Scene, &rec.scene);
    write_text(out, &mut first, F::Channel, &rec.channel);
    if rec.shadow {
        write_key(out, &mut first, F::Shadow.name());
        out.extend_from_slice(b"true");
    }
    write_text(out, &mut first, F::Version, &rec.version);
    if !rec.keys.is_empty() {
        write_key(out, &mut first, F::Keys.name());
        out.push(b'{');
        let mut first_key = true;
        for (k, v) in &rec.keys {
            if !first_key {
                out.push(b',');
            }
            first_key = false;
            json_str(out, k);
            out.push(b':');
            json_str(out, v);
        }
        out.push(b'}');
    }
    if let Some(a) = rec.amount_cents {
        write_key(out, &mut first, F::AmountCents.name());
        push_i64(out, a);
    }
    if let Some(n) = rec.sql_count {
        write_key(out, &mut first, F::SqlCount.name());
        push_u64(out, n as u64);
    }
    out.extend_from_slice(b"}\n");
}

/// Appends `ev` as one JSON line, newline included.
pub fn encode_event(out: &mut Vec<u8>, ev: &ChangeEvent) {
    let mut first = true;
    out.push(b'{');
    write_key(out, &mut first, EventField::Time.name());
    out.push(b'"');
    write_rfc3339(out, ev.time_us);
    out.push(b'"');
    write_key(out, &mut first, EventField::Event.name());
    json_str(out, ev.event.as_str());
    for (field, value) in [
        (EventField::Service, &ev.service),
        (EventField::Version, &ev.version),
        (EventField::Detail, &ev.detail),
        (EventField::By, &ev.by),
    ] {
        write_key(out, &mut first, field.name());
        json_str(out, value);
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
