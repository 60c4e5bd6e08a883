//! The fast scanner agrees with the strict reference decoder on every line:
//! whenever it accepts a line, `digest::decode_line` returns the same record;
//! `decode_fast` returns exactly what the reference returns (value or error).
//! Property tests over generated lines, mutations of them (byte flips, cuts,
//! insertions, field swaps) and arbitrary bytes; the line splitter and the frame
//! reader never panic.

use super::{decode_fast, scan_record};
use crate::bench::generate_lines;
use crate::config::Limits;
use crate::lines::{parse_lines, Accept};
use proptest::prelude::*;

static LINES: std::sync::LazyLock<Vec<Vec<u8>>> = std::sync::LazyLock::new(|| {
    generate_lines(200, 9, 1_800_000_000_000_000, 50)
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| l.to_vec())
        .collect()
});

fn lines() -> &'static [Vec<u8>] {
    &LINES
}

fn check(line: &[u8]) -> Result<(), TestCaseError> {
    let reference = digest::decode_line(line);
    if let Some(v) = scan_record(line) {
        match &reference {
            Ok(digest::Line::Record(r)) => prop_assert_eq!(&v.to_record(), r),
            other => prop_assert!(
                false,
                "scanner accepted, reference said {:?} for {:?}",
                other,
                String::from_utf8_lossy(line)
            ),
        }
    }
    prop_assert_eq!(decode_fast(line), reference);
    Ok(())
}

/// Bytes that tend to matter to a JSON scanner.
fn interesting() -> impl Strategy<Value = u8> {
    prop_oneof![
        Just(b'"'),
        Just(b'\\'),
        Just(b'{'),
        Just(b'}'),
        Just(b'['),
        Just(b','),
        Just(b':'),
        Just(b' '),
        Just(b'\t'),
        Just(b'\r'),
        Just(b'\n'),
        Just(0u8),
        Just(0x1f),
        Just(b'-'),
        Just(b'0'),
        Just(b'9'),
        Just(b'e'),
        Just(b'.'),
        Just(b'u'),
        Just(0xc3),
        Just(0xff),
        any::<u8>(),
    ]
}

const SNIPPETS: [&str; 16] = [
    "\"duration_us\":05",
    "\"x\":[1,2]",
    "\"x\":{\"a\":1}",
    "\"shadow\":null",
    "\"error\":null",
    "\"sql_count\":4294967296",
    "\"amount_cents\":-0",
    "\"amount_cents\":1e3",
    "\"kind\":\"SERVER\"",
    "\"time\":\"2026-02-30T00:00:00Z\"",
    "\"event\":\"deploy\"",
    "\"keys\":{\"u\":\"\\u0041\"}",
    "\"service\":\"\"",
    "\"success\":1",
    "\"x\":-",
    "\"parent_span_id\":\"\"",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn agrees_on_mutated_lines(i in 0usize..200, pos in any::<prop::sample::Index>(), b in interesting(), op in 0u8..4) {
        let all = lines();
        let mut l = all[i].clone();
        let p = pos.index(l.len());
        match op {
            0 => l[p] = b,
            1 => l.insert(p, b),
            2 => { l.remove(p); }
            _ => l.truncate(p),
        }
        check(&l)?;
    }

    #[test]
    fn agrees_with_spliced_fields(i in 0usize..200, s in 0usize..SNIPPETS.len(), at_end in any::<bool>()) {
        let all = lines();
        let l = String::from_utf8(all[i].clone()).unwrap();
        let body = l.trim_end_matches('}');
        let spliced = if at_end {
            format!("{body},{}}}", SNIPPETS[s])
        } else {
            format!("{{{},{}", SNIPPETS[s], &l[1..])
        };
        check(spliced.as_bytes())?;
    }

    #[test]
    fn agrees_on_arbitrary_bytes(bytes in prop::collection::vec(interesting(), 0..300)) {
        check(&bytes)?;
        let mut with_prefix = b"{\"time\":\"2026-11-27T13:01:37.000000Z\",".to_vec();
        with_prefix.extend_from_slice(&bytes);
        check(&with_prefix)?;
    }

    #[test]
    fn bodies_and_frames_never_panic(bytes in prop::collection::vec(interesting(), 0..2000)) {
        let p = parse_lines(&bytes, &Limits::default(), Accept::Digest).unwrap();
        prop_assert_eq!(p.with_views(|v| v.len()) as u64 + p.events.len() as u64 + p.rejected,
            bytes.split(|&b| b == b'\n').filter(|l| {
                let l = l.strip_suffix(b"\r").unwrap_or(l);
                !l.iter().all(|b| b.is_ascii_whitespace())
            }).count() as u64);
        let _ = crate::wal::frame::decode_all(&bytes);
    }
}

#[test]
fn every_generated_line_takes_the_fast_path() {
    for l in lines() {
        assert!(scan_record(l).is_some());
        check(l).unwrap();
    }
}
