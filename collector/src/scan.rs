//! The fast line scanner for the ingest hot path. It walks one v1 line once,
//! borrowing strings from it, and returns a [`RecordView`] only when the line is
//! plain: valid UTF-8, no escapes, no duplicate or nested unknown fields, integers
//! in canonical form. Anything unusual returns `None` and the caller falls back to
//! `digest::decode_line`, the strict reference, so the two always agree (property
//! tested in `tests/scan_agreement.rs`).

use digest::{parse_rfc3339, DecodeError, DigestRecord, Keys, Line, SpanId, SpanKind, TraceId};

/// Business keys of a view: the raw JSON object (validated) or a decoded map.
#[derive(Debug, Clone, Copy)]
pub enum KeysRef<'a> {
    None,
    /// The `{...}` text, known to hold only plain string pairs.
    Raw(&'a str),
    Map(&'a Keys),
}

/// A digest record borrowing its strings from the line (or from a record).
#[derive(Debug, Clone, Copy)]
pub struct RecordView<'a> {
    pub time_us: u64,
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub parent_span_id: Option<SpanId>,
    pub kind: SpanKind,
    pub service: &'a str,
    pub instance: &'a str,
    pub zone: &'a str,
    pub operation: &'a str,
    pub peer: &'a str,
    pub duration_us: u64,
    pub success: bool,
    pub code: &'a str,
    pub error: Option<&'a str>,
    pub scene: &'a str,
    pub channel: &'a str,
    pub shadow: bool,
    pub version: &'a str,
    pub keys: KeysRef<'a>,
    pub amount_cents: Option<i64>,
    pub sql_count: Option<u32>,
}

impl<'a> RecordView<'a> {
    /// A view of an owned record.
    pub fn of(r: &'a DigestRecord) -> Self {
        Self {
            time_us: r.time_us,
            trace_id: r.trace_id,
            span_id: r.span_id,
            parent_span_id: r.parent_span_id,
            kind: r.kind,
            service: &r.service,
            instance: &r.instance,
            zone: &r.zone,
            operation: &r.operation,
            peer: &r.peer,
            duration_us: r.duration_us,
            success: r.success,
            code: &r.code,
            error: r.error.as_deref(),
            scene: &r.scene,
            channel: &r.channel,
            shadow: r.shadow,
            version: &r.version,
            keys: KeysRef::Map(&r.keys),
            amount_cents: r.amount_cents,
            sql_count: r.sql_count,
        }
    }

    /// The owned record (what `digest::decode_record` would return for the line).
    pub fn to_record(&self) -> DigestRecord {
        let keys = match self.keys {
            KeysRef::None => Keys::new(),
            KeysRef::Map(m) => m.clone(),
            KeysRef::Raw(raw) => raw_pairs(raw),
        };
        DigestRecord {
            time_us: self.time_us,
            trace_id: self.trace_id,
            span_id: self.span_id,
            parent_span_id: self.parent_span_id,
            kind: self.kind,
            service: self.service.to_owned(),
            instance: self.instance.to_owned(),
            zone: self.zone.to_owned(),
            operation: self.operation.to_owned(),
            peer: self.peer.to_owned(),
            duration_us: self.duration_us,
            success: self.success,
            code: self.code.to_owned(),
            error: self.error.map(str::to_owned),
            scene: self.scene.to_owned(),
            channel: self.channel.to_owned(),
            shadow: self.shadow,
            version: self.version.to_owned(),
            keys,
            amount_cents: self.amount_cents,
            sql_count: self.sql_count,
        }
    }
}

/// Pairs of an already validated plain keys object (later duplicates win, as in a map).
fn raw_pairs(raw: &str) -> Keys {
    let mut keys = Keys::new();
    // Validated: `{ "k" : "v" , ... }` with no escapes, so quotes delimit strings.
    let mut parts = raw.split('"').skip(1).step_by(2);
    while let (Some(k), Some(v)) = (parts.next(), parts.next()) {
        keys.insert(k.to_owned(), v.to_owned());
    }
    keys
}

/// One line, decoded: fast path when possible, the reference decoder otherwise.
pub fn decode_fast(line: &[u8]) -> Result<Line, DecodeError> {
    match scan_record(line) {
        Some(v) => Ok(Line::Record(v.to_record())),
        None => digest::decode_line(line),
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

struct Cur<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    #[inline]
    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.i += 1;
            } else {
                break;
            }
        }
    }
    #[inline]
    fn eat(&mut self, c: u8) -> Option<()> {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    /// A plain string (opening quote next): no escapes, no control characters.
    #[inline]
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let rest = &self.b[start..];
        let end = memchr::memchr(b'"', rest)?;
        if rest[..end].iter().any(|&c| c == b'\\' || c < 0x20) {
            return None;
        }
        self.i = start + end + 1;
        self.s.get(start..start + end)
    }
    /// Digits of a canonical non-negative integer, at most `max_digits`.
    #[inline]
    fn digits(&mut self, max_digits: usize) -> Option<u64> {
        let start = self.i;
        let mut v: u64 = 0;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            v = v * 10 + (c - b'0') as u64;
            self.i += 1;
            if self.i - start > max_digits {
                return None;
            }
        }
        let n = self.i - start;
        if n == 0 || (n > 1 && self.b[start] == b'0') {
            return None;
        }
        if matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        Some(v)
    }
    fn u64(&mut self) -> Option<u64> {
        self.digits(19)
    }
    fn i64(&mut self) -> Option<i64> {
        if self.eat(b'-').is_some() {
            let v = self.digits(18)?;
            if v == 0 {
                return None; // "-0": leave it to the reference
            }
            Some(-(v as i64))
        } else {
            self.digits(18).map(|v| v as i64)
        }
    }
    fn bool(&mut self) -> Option<bool> {
        let r = &self.b[self.i..];
        if r.starts_with(b"true") {
            self.i += 4;
            Some(true)
        } else if r.starts_with(b"false") {
            self.i += 5;
            Some(false)
        } else {
            None
        }
    }
    /// Skips the value of an unknown field when it is a plain scalar.
    fn skip_scalar(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b't' | b'f' => self.bool().map(|_| ()),
            b'n' if self.b[self.i..].starts_with(b"null") => {
                self.i += 4;
                Some(())
            }
            b'-' | b'0'..=b'9' => self.i64().map(|_| ()),
            _ => None,
        }
    }
    /// A `{ "k": "v", ... }` object of plain strings; returns its text.
    fn keys_object(&mut self) -> Option<&'a str> {
        let start = self.i;
        self.eat(b'{')?;
        self.ws();
        if self.eat(b'}').is_none() {
            loop {
                self.string()?;
                self.ws();
                self.eat(b':')?;
                self.ws();
                self.string()?;
                self.ws();
                match self.peek()? {
                    b',' => {
                        self.i += 1;
                        self.ws();
                    }
                    b'}' => {
                        self.i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.s.get(start..self.i)
    }
}

// Bits of the fields seen, to refuse duplicates (left to the reference).
const F_TIME: u32 = 1;
const F_TRACE: u32 = 1 << 1;
const F_SPAN: u32 = 1 << 2;
const F_KIND: u32 = 1 << 3;
const F_SERVICE: u32 = 1 << 4;
const F_OPERATION: u32 = 1 << 5;
const F_DURATION: u32 = 1 << 6;
const F_SUCCESS: u32 = 1 << 7;
const REQUIRED: u32 =
    F_TIME | F_TRACE | F_SPAN | F_KIND | F_SERVICE | F_OPERATION | F_DURATION | F_SUCCESS;

/// Scans a plain v1 record line. `None` = not plain (or not valid): use the reference.
pub fn scan_record(line: &[u8]) -> Option<RecordView<'_>> {
    let b = trim_eol(line);
    let s = std::str::from_utf8(b).ok()?;
    let mut c = Cur { s, b, i: 0 };
    let mut v = RecordView {
        time_us: 0,
        trace_id: TraceId(0),
        span_id: SpanId(0),
        parent_span_id: None,
        kind: SpanKind::Server,
        service: "",
        instance: "",
        zone: "",
        operation: "",
        peer: "",
        duration_us: 0,
        success: false,
        code: "",
        error: None,
        scene: "",
        channel: "",
        shadow: false,
        version: "",
        keys: KeysRef::None,
        amount_cents: None,
        sql_count: None,
    };
    let mut seen: u32 = 0;
    c.ws();
    c.eat(b'{')?;
    c.ws();
    loop {
        let key = c.string()?;
        c.ws();
        c.eat(b':')?;
        c.ws();
        let bit: u32 = match key {
            "time" => {
                v.time_us = parse_rfc3339(c.string()?).ok()?;
                F_TIME
            }
            "trace_id" => {
                v.trace_id = TraceId::parse(c.string()?).ok()?;
                F_TRACE
            }
            "span_id" => {
                v.span_id = SpanId::parse(c.string()?).ok()?;
                F_SPAN
            }
            "kind" => {
                v.kind = match c.string()? {
                    "server" => SpanKind::Server,
                    "client" => SpanKind::Client,
                    "integrator" => SpanKind::Integrator,
                    "internal" => SpanKind::Internal,
                    _ => return None,
                };
                F_KIND
            }
            "service" => {
                v.service = c.string()?;
                F_SERVICE
            }
            "operation" => {
                v.operation = c.string()?;
                F_OPERATION
            }
            "duration_us" => {
                v.duration_us = c.u64()?;
                F_DURATION
            }
            "success" => {
                v.success = c.bool()?;
                F_SUCCESS
            }
            "parent_span_id" => {
                let p = c.string()?;
                v.parent_span_id = if p.is_empty() {
                    None
                } else {
                    Some(SpanId::parse(p).ok()?)
                };
                1 << 8
            }
            "instance" => {
                v.instance = c.string()?;
                1 << 9
            }
            "zone" => {
                v.zone = c.string()?;
                1 << 10
            }
            "peer" => {
                v.peer = c.string()?;
                1 << 11
            }
            "code" => {
                v.code = c.string()?;
                1 << 12
            }
            "error" => {
                v.error = Some(c.string()?);
                1 << 13
            }
            "scene" => {
                v.scene = c.string()?;
                1 << 14
            }
            "channel" => {
                v.channel = c.string()?;
                1 << 15
            }
            "shadow" => {
                v.shadow = c.bool()?;
                1 << 16
            }
            "version" => {
                v.version = c.string()?;
                1 << 17
            }
            "keys" => {
                v.keys = KeysRef::Raw(c.keys_object()?);
                1 << 18
            }
            "amount_cents" => {
                v.amount_cents = Some(c.i64()?);
                1 << 19
            }
            "sql_count" => {
                v.sql_count = Some(u32::try_from(c.u64()?).ok()?);
                1 << 20
            }
            // Event fields: strings in a record line; `event` makes it an event.
            "detail" => {
                c.string()?;
                1 << 21
            }
            "by" => {
                c.string()?;
                1 << 22
            }
            "event" => return None,
            _ => {
                c.skip_scalar()?;
                0
            }
        };
        if seen & bit != 0 {
            return None;
        }
        seen |= bit;
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
    if c.i != b.len() || seen & REQUIRED != REQUIRED || v.service.is_empty() {
        return None;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"time":"2026-11-27T13:01:37.123456Z","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","parent_span_id":"0000000000000007","kind":"integrator","service":"bank-gateway","instance":"bg-1","zone":"gz-a","operation":"BankChannel.debit","peer":"icbc","duration_us":5123,"success":false,"code":"BANK_TIMEOUT","error":"Timeout","scene":"quick_pay","channel":"SDK","shadow":true,"version":"1.4.2","keys":{"merchant":"m7","user":"u42"},"amount_cents":-1999,"sql_count":3}"#;

    #[test]
    fn plain_line_matches_reference() {
        let v = scan_record(GOOD.as_bytes()).expect("plain line");
        assert_eq!(
            v.to_record(),
            digest::decode_record(GOOD.as_bytes()).unwrap()
        );
        let spaced = GOOD.replace(",\"", " , \"").replace(":", " : ");
        let spaced = spaced.replace("T13 : 01 : 37", "T13:01:37");
        let v = scan_record(spaced.as_bytes()).expect("spaced line");
        assert_eq!(
            v.to_record(),
            digest::decode_record(GOOD.as_bytes()).unwrap()
        );
    }

    #[test]
    fn unusual_lines_fall_back() {
        for bad in [
            GOOD.replace("\"m7\"", "\"m\\u0037\""),
            GOOD.replace("\"sql_count\":3", "\"sql_count\":3,\"sql_count\":4"),
            GOOD.replace("\"sql_count\":3", "\"x\":[1]"),
            GOOD.replace("5123", "05123"),
            GOOD.replace("5123", "5123.0"),
            GOOD.replace("\"service\":\"bank-gateway\"", "\"service\":\"\""),
            format!("{GOOD} x"),
        ] {
            assert!(scan_record(bad.as_bytes()).is_none(), "{bad}");
        }
        // The fallback still decodes what is valid.
        let esc = GOOD.replace("\"m7\"", "\"m\\u0037\"");
        let r = decode_fast(esc.as_bytes()).unwrap();
        assert_eq!(r, digest::decode_line(GOOD.as_bytes()).unwrap());
    }
}
