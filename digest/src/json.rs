//! The JSON writing primitives every digest encoder shares (the codec, the
//! tracing layer and the recorder): strings with the v1 escapes, checked for
//! escapes 8 bytes at a time, integers without allocation, a hex table.

const fn hex_table() -> [[u8; 2]; 256] {
    let digits = b"0123456789abcdef";
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [digits[i >> 4], digits[i & 0xf]];
        i += 1;
    }
    t
}

pub(crate) static HEX2: [[u8; 2]; 256] = hex_table();

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Whether any of the 8 bytes in `x` is a control byte, `"` or `\`. Exact (the
/// zero-byte test has no false negatives, and none of its false positives matter:
/// a flagged string just takes the escaping path).
#[inline]
pub(crate) fn needs_escape8(x: u64) -> bool {
    let zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    let ctrl = x.wrapping_sub(LO * 0x20) & !x & HI;
    (ctrl | zero(x ^ (LO * b'"' as u64)) | zero(x ^ (LO * b'\\' as u64))) != 0
}

/// Whether `bytes` can be written as a JSON string as is, 8 bytes at a time (the
/// last word overlapping the one before; short strings padded to a word).
#[inline]
pub(crate) fn clean(bytes: &[u8]) -> bool {
    let n = bytes.len();
    if n < 8 {
        let mut w = [b'a'; 8];
        w[..n].copy_from_slice(bytes);
        return !needs_escape8(u64::from_le_bytes(w));
    }
    let word = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(w)
    };
    let mut at = 0;
    while at + 8 < n {
        if needs_escape8(word(at)) {
            return false;
        }
        at += 8;
    }
    !needs_escape8(word(n - 8))
}

/// Appends `s` as a JSON string: `\"`, `\\`, `\n`, `\r`, `\t`, other control
/// bytes as `\u00XX`; everything else as is.
pub(crate) fn json_str(o: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if clean(bytes) {
        o.reserve(bytes.len() + 2);
        o.push(b'"');
        o.extend_from_slice(bytes);
        o.push(b'"');
        return;
    }
    o.push(b'"');
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                o.extend_from_slice(&bytes[start..i]);
                o.extend_from_slice(b"\\u00");
                o.extend_from_slice(&HEX2[b as usize]);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        o.extend_from_slice(&bytes[start..i]);
        o.extend_from_slice(esc);
        start = i + 1;
    }
    o.extend_from_slice(&bytes[start..]);
    o.push(b'"');
}

pub(crate) fn push_u64(o: &mut Vec<u8>, v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = v;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    o.extend_from_slice(&buf[i..]);
}

/// Appends `v` in decimal.
pub(crate) fn push_i64(o: &mut Vec<u8>, v: i64) {
    if v < 0 {
        o.push(b'-');
    }
    push_u64(o, v.unsigned_abs());
}
