//! Time as the war room sees it: microseconds since the Unix epoch (UTC), RFC 3339
//! text with exactly six fractional digits, and the `Clock` every time-driven piece
//! takes so tests can step time exactly instead of sleeping.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Microseconds since 1970-01-01T00:00:00Z.
pub type Micros = u64;

/// A source of "now". Production uses [`SystemClock`]; tests use [`ManualClock`].
pub trait Clock: Send + Sync + 'static {
    fn now_us(&self) -> Micros;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_us(&self) -> Micros {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0)
    }
}

/// A clock that only moves when told to. Cloning shares the same time.
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    pub fn new(start_us: Micros) -> Self {
        Self(Arc::new(AtomicU64::new(start_us)))
    }
    pub fn set(&self, us: Micros) {
        self.0.store(us, Ordering::SeqCst);
    }
    pub fn advance_us(&self, us: u64) {
        self.0.fetch_add(us, Ordering::SeqCst);
    }
    pub fn advance_secs(&self, s: u64) {
        self.advance_us(s * 1_000_000);
    }
}

impl Clock for ManualClock {
    fn now_us(&self) -> Micros {
        self.0.load(Ordering::SeqCst)
    }
}

/// A shareable clock handle.
pub type SharedClock = Arc<dyn Clock>;

/// Why an RFC 3339 timestamp was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an RFC 3339 UTC timestamp: {0}")]
pub struct TimeError(pub &'static str);

// Days from civil date (Howard Hinnant's algorithm), proleptic Gregorian.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Appends `us` as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (27 bytes).
pub fn write_rfc3339(out: &mut Vec<u8>, us: Micros) {
    let secs = (us / 1_000_000) as i64;
    let frac = (us % 1_000_000) as u32;
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400) as u32;
    let mut buf = *b"0000-00-00T00:00:00.000000Z";
    put_digits(&mut buf[0..4], y as u32);
    put_digits(&mut buf[5..7], mo);
    put_digits(&mut buf[8..10], d);
    put_digits(&mut buf[11..13], sod / 3600);
    put_digits(&mut buf[14..16], (sod / 60) % 60);
    put_digits(&mut buf[17..19], sod % 60);
    put_digits(&mut buf[20..26], frac);
    out.extend_from_slice(&buf);
}

fn put_digits(dst: &mut [u8], mut v: u32) {
    for b in dst.iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Formats `us` as RFC 3339 UTC with microseconds.
pub fn format_rfc3339(us: Micros) -> String {
    let mut v = Vec::with_capacity(27);
    write_rfc3339(&mut v, us);
    String::from_utf8(v).expect("ascii")
}

fn digits(s: &[u8]) -> Option<u32> {
    let mut v: u32 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (b - b'0') as u32;
    }
    Some(v)
}

/// Parses an RFC 3339 timestamp (`Z` or `±HH:MM` offset, 0–9 fractional digits,
/// `T` or `t` or space separator) into microseconds since the epoch, UTC.
/// Fractions beyond microseconds are truncated.
pub fn parse_rfc3339(s: &str) -> Result<Micros, TimeError> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return Err(TimeError("too short"));
    }
    if b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return Err(TimeError("bad separators"));
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return Err(TimeError("missing 'T'"));
    }
    let y = digits(&b[0..4]).ok_or(TimeError("bad year"))? as i64;
    let mo = digits(&b[5..7]).ok_or(TimeError("bad month"))?;
    let d = digits(&b[8..10]).ok_or(TimeError("bad day"))?;
    let h = digits(&b[11..13]).ok_or(TimeError("bad hour"))?;
    let mi = digits(&b[14..16]).ok_or(TimeError("bad minute"))?;
    let sec = digits(&b[17..19]).ok_or(TimeError("bad second"))?;
    if !(1..=12).contains(&mo) {
        return Err(TimeError("month out of range"));
    }
    if d == 0 || d > days_in_month(y, mo) {
        return Err(TimeError("day out of range"));
    }
    if h > 23 || mi > 59 || sec > 60 {
        return Err(TimeError("time of day out of range"));
    }
    let mut i = 19;
    let mut frac_us: u32 = 0;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 6 {
                frac_us = frac_us * 10 + (b[i] - b'0') as u32;
            }
            i += 1;
        }
        let n = i - start;
        if n == 0 {
            return Err(TimeError("empty fraction"));
        }
        for _ in n..6 {
            frac_us *= 10;
        }
    }
    let offset_s: i64 = match b.get(i) {
        Some(b'Z') | Some(b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let oh = digits(&b[i + 1..i + 3]).ok_or(TimeError("bad offset"))? as i64;
            let om = digits(&b[i + 4..i + 6]).ok_or(TimeError("bad offset"))? as i64;
            if oh > 23 || om > 59 {
                return Err(TimeError("offset out of range"));
            }
            let o = oh * 3600 + om * 60;
            if sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return Err(TimeError("missing or bad zone")),
    };
    let secs = days_from_civil(y, mo, d) * 86_400
        + (h as i64) * 3600
        + (mi as i64) * 60
        + sec.min(59) as i64
        - offset_s;
    if secs < 0 {
        return Err(TimeError("before 1970"));
    }
    Ok(secs as u64 * 1_000_000 + frac_us as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for us in [
            0u64,
            1,
            999_999,
            1_764_000_000_123_456,
            4_102_444_800_000_000,
        ] {
            assert_eq!(parse_rfc3339(&format_rfc3339(us)).unwrap(), us);
        }
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            format_rfc3339(1_795_784_497_000_001),
            "2026-11-27T13:01:37.000001Z"
        );
    }

    #[test]
    fn offsets_and_fractions() {
        let z = parse_rfc3339("2026-11-27T13:01:37.5Z").unwrap();
        assert_eq!(z % 1_000_000, 500_000);
        let plus = parse_rfc3339("2026-11-27T21:01:37.500000+08:00").unwrap();
        assert_eq!(z, plus);
        let nanos = parse_rfc3339("2026-11-27T13:01:37.500000999Z").unwrap();
        assert_eq!(z, nanos);
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "2026-11-27",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-11-27T25:00:00Z",
            "2026-11-27T13:01:37",
            "2026-11-27T13:01:37.Z",
            "2026-11-27T13:01:37Zjunk",
            "abcd-11-27T13:01:37Z",
            "2026-11-27T13:01:37+0800",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn manual_clock_steps() {
        let c = ManualClock::new(5);
        let shared = c.clone();
        c.advance_secs(2);
        assert_eq!(shared.now_us(), 2_000_005);
    }
}
