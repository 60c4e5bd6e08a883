//! The fast line scanner for the ingest hot path. It walks one v1 line once,
//! borrowing strings from it, and returns a [`RecordView`] only when the line is
//! plain: valid UTF-8, no escapes, no duplicate or nested unknown fields, no
//! change-event fields, integers in canonical form. Anything unusual returns
//! `None` and the caller falls back to `digest::decode_line`, the strict
//! reference, so the two always agree (property tested in
//! `agreement.rs`). Keys are looked up in `digest::RECORD_FIELDS`,
//! and every field is read in one `match` over `digest::RecordField`.

mod cursor;
mod view;

use cursor::{span_id, trace_id, Cur};
use digest::{parse_rfc3339, DecodeError, EventField, Line, Presence, RecordField, RECORD_FIELDS};
pub use view::{KeysRef, RecordView};

/// One line, decoded: fast path when possible, the reference decoder otherwise.
pub fn decode_fast(line: &[u8]) -> Result<Line, DecodeError> {
    match scan_record(line) {
        Some(v) => Ok(Line::Record(v.to_record())),
        None => digest::decode_line(line),
    }
}

/// One bit per record field (by its index in the table), to refuse duplicates.
const fn bit(f: RecordField) -> u32 {
    1 << f as u32
}

/// The bits of the required fields.
const REQUIRED: u32 = {
    let mut bits = 0;
    let mut i = 0;
    while i < RECORD_FIELDS.len() {
        if matches!(RECORD_FIELDS[i].presence, Presence::Required) {
            bits |= bit(RECORD_FIELDS[i].field);
        }
        i += 1;
    }
    bits
};

// Every field has its own bit.
const _: () = assert!(RECORD_FIELDS.len() <= u32::BITS as usize);

/// Reads the value of `field` into `v`; `None` when it is not plain.
#[inline]
fn read_field<'a>(c: &mut Cur<'a>, field: RecordField, v: &mut RecordView<'a>) -> Option<()> {
    use RecordField as F;
    match field {
        F::Time => v.time_us = parse_rfc3339(c.string()?).ok()?,
        F::TraceId => v.trace_id = trace_id(c.string()?)?,
        F::SpanId => v.span_id = span_id(c.string()?)?,
        F::ParentSpanId => {
            let p = c.string()?;
            v.parent_span_id = if p.is_empty() {
                None
            } else {
                Some(span_id(p)?)
            };
        }
        F::Kind => v.kind = c.string()?.parse().ok()?,
        F::Service => v.service = c.string()?,
        F::Instance => v.instance = c.string()?,
        F::Zone => v.zone = c.string()?,
        F::Operation => v.operation = c.string()?,
        F::Peer => v.peer = c.string()?,
        F::DurationUs => v.duration_us = c.u64()?,
        F::Success => v.success = c.bool()?,
        F::Code => v.code = c.string()?,
        F::Error => v.error = Some(c.string()?),
        F::Scene => v.scene = c.string()?,
        F::Channel => v.channel = c.string()?,
        F::Shadow => v.shadow = c.bool()?,
        F::Version => v.version = c.string()?,
        F::Keys => v.keys = KeysRef::Raw(c.keys_object()?),
        F::AmountCents => v.amount_cents = Some(c.i64()?),
        F::SqlCount => v.sql_count = Some(u32::try_from(c.u64()?).ok()?),
    }
    Some(())
}

/// Scans a plain v1 record line (its `\n` or `\r\n`, whitespace to JSON, is
/// skipped with any other). `None` = not plain (or not valid): use the reference.
pub fn scan_record(line: &[u8]) -> Option<RecordView<'_>> {
    let mut c = Cur { b: line, i: 0 };
    let mut v = RecordView {
        success: false,
        ..RecordView::EMPTY
    };
    let mut seen: u32 = 0;
    // Where the next key is looked for first: encoders write the table's order.
    let mut expected = 0;
    c.ws();
    c.eat(b'{')?;
    c.ws();
    loop {
        let key = c.string()?;
        c.ws();
        c.eat(b':')?;
        c.ws();
        match RecordField::lookup(key, expected) {
            Some(field) => {
                let bit = 1 << field as u32;
                if seen & bit != 0 {
                    return None;
                }
                seen |= bit;
                read_field(&mut c, field, &mut v)?;
                expected = field as usize + 1;
            }
            // A change event, or a record carrying event fields: the reference's.
            None if EventField::lookup(key).is_some() => return None,
            None => c.skip_scalar()?,
        }
        c.ws();
        match c.peek()? {
            b',' => {
                c.i += 1;
                c.ws();
            }
            b'}' => {
                c.i += 1;
                break;
            }
            _ => return None,
        }
    }
    c.ws();
    if c.i != line.len() || seen & REQUIRED != REQUIRED || v.service.is_empty() {
        return None;
    }
    Some(v)
}

#[cfg(test)]
mod agreement;
#[cfg(test)]
mod tests;
