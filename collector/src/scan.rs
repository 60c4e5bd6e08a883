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

impl RecordView<'static> {
    /// A placeholder view (zero ids, empty strings).
    pub const EMPTY: RecordView<'static> = RecordView {
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
        success: true,
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
    /// A plain string (opening quote next): no escapes, no control characters,
    /// valid UTF-8. Scans eight bytes at a time for the bytes that matter.
    #[inline]
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let b = self.b;
        let mut i = start;
        let mut non_ascii = false;
        loop {
            // The lowest flagged byte of `special` is exact (borrows only run
            // upwards), so jump straight to it.
            if let Some(word) = b.get(i..i + 8) {
                let m = special(u64::from_le_bytes(word.try_into().ok()?));
                if m == 0 {
                    i += 8;
                    continue;
                }
                i += (m.trailing_zeros() / 8) as usize;
            }
            match *b.get(i)? {
                b'"' => break,
                b'\\' => return None,
                c if c < 0x20 => return None,
                c if c >= 0x80 => non_ascii = true,
                _ => {}
            }
            i += 1;
        }
        self.i = i + 1;
        let raw = &b[start..i];
        if non_ascii {
            std::str::from_utf8(raw).ok()
        } else {
            // SAFETY: every byte of `raw` is below 0x80, and ASCII is valid UTF-8.
            Some(unsafe { std::str::from_utf8_unchecked(raw) })
        }
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
        std::str::from_utf8(&self.b[start..self.i]).ok()
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

/// Non-zero when a word holds a `"`, a `\\`, a control byte or a non-ASCII byte
/// (SWAR: the classic "has zero byte" and "has byte less than" tricks).
#[inline]
fn special(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let quote = w ^ (ONES * b'"' as u64);
    let slash = w ^ (ONES * b'\\' as u64);
    let has_quote = quote.wrapping_sub(ONES) & !quote;
    let has_slash = slash.wrapping_sub(ONES) & !slash;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w;
    (has_quote | has_slash | below_space | w) & HIGH
}

const HEX: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Exactly 16 hex digits (either case) as a u64; `None` otherwise.
#[inline]
fn hex16(s: &[u8]) -> Option<u64> {
    if s.len() != 16 {
        return None;
    }
    let mut v = 0u64;
    let mut bad = 0u8;
    for &c in s {
        let d = HEX[c as usize];
        bad |= d;
        v = (v << 4) | (d & 0xf) as u64;
    }
    (bad & 0xf0 == 0).then_some(v)
}

/// What `TraceId::parse` accepts (32 hex digits, not all zero), faster.
#[inline]
fn trace_id(s: &str) -> Option<TraceId> {
    let b = s.as_bytes();
    if b.len() != 32 {
        return None;
    }
    let v = (hex16(&b[..16])? as u128) << 64 | hex16(&b[16..])? as u128;
    (v != 0).then_some(TraceId(v))
}

/// What `SpanId::parse` accepts (16 hex digits, not all zero), faster.
#[inline]
fn span_id(s: &str) -> Option<SpanId> {
    let v = hex16(s.as_bytes())?;
    (v != 0).then_some(SpanId(v))
}

/// Scans a plain v1 record line. `None` = not plain (or not valid): use the reference.
pub fn scan_record(line: &[u8]) -> Option<RecordView<'_>> {
    let b = trim_eol(line);
    let mut c = Cur { b, i: 0 };
    let mut v = RecordView {
        success: false,
        ..RecordView::EMPTY
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
                v.trace_id = trace_id(c.string()?)?;
                F_TRACE
            }
            "span_id" => {
                v.span_id = span_id(c.string()?)?;
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
                    Some(span_id(p)?)
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
    fn non_ascii_strings_are_validated() {
        let zh = GOOD.replace("quick_pay", "快捷支付");
        let v = scan_record(zh.as_bytes()).expect("UTF-8 scene");
        assert_eq!(v.scene, "快捷支付");
        assert_eq!(v.to_record(), digest::decode_record(zh.as_bytes()).unwrap());
        let mut bad = zh.into_bytes();
        let at = bad.iter().position(|&b| b >= 0x80).unwrap();
        bad[at] = 0xff;
        assert!(scan_record(&bad).is_none());
        assert!(digest::decode_line(&bad).is_err());
        // Hex ids: either case, never all zero, exactly the reference's rule.
        assert_eq!(
            span_id("00F067AA0BA902B7"),
            SpanId::parse("00F067AA0BA902B7").ok()
        );
        assert_eq!(span_id("0000000000000000"), None);
        assert_eq!(span_id("00f067aa0ba902bg"), None);
        assert_eq!(trace_id(&"0".repeat(32)), None);
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
