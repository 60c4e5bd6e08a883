//! The byte cursor under the scanner: plain JSON strings checked eight bytes at
//! a time, canonical integers, booleans, plain keys objects, and hex ids.

use digest::{SpanId, TraceId};

/// A position in one line.
pub(super) struct Cur<'a> {
    pub(super) b: &'a [u8],
    pub(super) i: usize,
}

impl<'a> Cur<'a> {
    #[inline]
    pub(super) fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.i += 1;
            } else {
                break;
            }
        }
    }
    #[inline]
    pub(super) fn eat(&mut self, c: u8) -> Option<()> {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }
    #[inline]
    pub(super) fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    /// A plain string (opening quote next): no escapes, no control characters,
    /// valid UTF-8. Scans eight bytes at a time for the bytes that matter.
    #[inline]
    pub(super) fn string(&mut self) -> Option<&'a str> {
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
    pub(super) fn u64(&mut self) -> Option<u64> {
        self.digits(19)
    }
    pub(super) fn i64(&mut self) -> Option<i64> {
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
    pub(super) fn bool(&mut self) -> Option<bool> {
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
    pub(super) fn skip_scalar(&mut self) -> Option<()> {
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
    pub(super) fn keys_object(&mut self) -> Option<&'a str> {
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
pub(super) fn trace_id(s: &str) -> Option<TraceId> {
    let b = s.as_bytes();
    if b.len() != 32 {
        return None;
    }
    let v = (hex16(&b[..16])? as u128) << 64 | hex16(&b[16..])? as u128;
    (v != 0).then_some(TraceId(v))
}

/// What `SpanId::parse` accepts (16 hex digits, not all zero), faster.
#[inline]
pub(super) fn span_id(s: &str) -> Option<SpanId> {
    let v = hex16(s.as_bytes())?;
    (v != 0).then_some(SpanId(v))
}
