//! Trace and span identifiers (W3C trace context sizes): 128-bit trace ids written
//! as 32 lowercase hex digits, 64-bit span ids as 16. Parsing folds uppercase and
//! refuses the all-zero id, which W3C reserves as invalid.

use std::fmt;

/// Why an id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("expected {expected} hex digits, got {got}")]
    Length { expected: usize, got: usize },
    #[error("not a hex digit: {0:?}")]
    NotHex(char),
    #[error("all-zero id is invalid")]
    Zero,
}

fn parse_hex(s: &str, expected: usize) -> Result<u128, IdError> {
    if s.len() != expected {
        return Err(IdError::Length {
            expected,
            got: s.len(),
        });
    }
    let mut v: u128 = 0;
    for c in s.bytes() {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return Err(IdError::NotHex(c as char)),
        };
        v = (v << 4) | d as u128;
    }
    if v == 0 {
        return Err(IdError::Zero);
    }
    Ok(v)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn write_hex(out: &mut Vec<u8>, v: u128, digits: usize) {
    for i in (0..digits).rev() {
        out.push(HEX[((v >> (i * 4)) & 0xf) as usize]);
    }
}

/// A 128-bit trace id. Zero (invalid) is the default only so that
/// `..Default::default()` works in builders and tests; parsing refuses it.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TraceId(pub u128);

/// A 64-bit span id. Zero (invalid) is the default, as for [`TraceId`].
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpanId(pub u64);

impl TraceId {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        parse_hex(s, 32).map(TraceId)
    }
    pub fn write_hex(&self, out: &mut Vec<u8>) {
        write_hex(out, self.0, 32)
    }
    pub fn to_hex(&self) -> String {
        format!("{:032x}", self.0)
    }
}

impl SpanId {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        parse_hex(s, 16).map(|v| SpanId(v as u64))
    }
    pub fn write_hex(&self, out: &mut Vec<u8>) {
        write_hex(out, self.0 as u128, 16)
    }
    pub fn to_hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}
impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({self})")
    }
}
impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}
impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanId({self})")
    }
}

impl serde::Serialize for TraceId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
impl<'de> serde::Deserialize<'de> for TraceId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        TraceId::parse(&s).map_err(serde::de::Error::custom)
    }
}
impl serde::Serialize for SpanId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
impl<'de> serde::Deserialize<'de> for SpanId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        SpanId::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_fold() {
        let t = TraceId::parse("4BF92F3577B34DA6A3CE929D0E0E4736").unwrap();
        assert_eq!(t.to_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        let s = SpanId::parse("00f067aa0ba902b7").unwrap();
        assert_eq!(s.to_hex(), "00f067aa0ba902b7");
        let mut v = Vec::new();
        s.write_hex(&mut v);
        assert_eq!(v, b"00f067aa0ba902b7");
    }

    #[test]
    fn refuses_bad_ids() {
        assert_eq!(
            TraceId::parse("abc"),
            Err(IdError::Length {
                expected: 32,
                got: 3
            })
        );
        assert_eq!(
            SpanId::parse("00000000000000000"),
            Err(IdError::Length {
                expected: 16,
                got: 17
            })
        );
        assert_eq!(SpanId::parse("0000000000000000"), Err(IdError::Zero));
        assert_eq!(SpanId::parse("000000000000000g"), Err(IdError::NotHex('g')));
    }
}
