//! Replay throughput without building the whole binary:
//! `cargo run --release -p replay --example bench -- [LINES [PER_SECOND]]`, or
//! `… -- --file FILE` to replay a recording, `… -- --gen FILE [LINES [PER_SECOND]]` to write one.
//! Generates v1 lines (the collector's bench generator) into a temporary file and replays
//! it; prints the summary line. `warroom bench replay` is the same with the live ingest
//! figure beside it.

use std::io::Write;

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("--file") {
        let path = std::path::PathBuf::from(args.nth(1).expect("FILE"));
        let s = replay::replay(
            &[path],
            &replay::ReplayOptions::default(),
            &mut |_| {},
            &mut |_| {},
        )
        .expect("replay");
        println!("{}", serde_json::to_string(&s).expect("json"));
        println!("peak_rss_bytes {:?}", collector::bench::peak_rss_bytes());
        return;
    }
    let keep = (args.peek().map(String::as_str) == Some("--gen"))
        .then(|| std::path::PathBuf::from(args.nth(1).expect("FILE")));
    let lines: usize = args.next().map_or(1_000_000, |a| a.parse().expect("LINES"));
    let per_second: u64 = args
        .next()
        .map_or(100_000, |a| a.parse().expect("PER_SECOND"));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = keep
        .clone()
        .unwrap_or_else(|| dir.path().join("lines.jsonl"));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    let start = 1_772_323_200_000_000;
    let step = 1_000_000 / per_second.max(1);
    let mut done = 0;
    while done < lines {
        let n = 200_000.min(lines - done);
        let b = collector::bench::generate_lines(
            n,
            42 + done as u64,
            start + done as u64 * step,
            per_second,
        );
        f.write_all(&b).expect("write");
        done += n;
    }
    f.flush().expect("flush");
    drop(f);
    if keep.is_some() {
        return;
    }
    let s = replay::replay(
        &[path],
        &replay::ReplayOptions::default(),
        &mut |_| {},
        &mut |_| {},
    )
    .expect("replay");
    println!("{}", serde_json::to_string(&s).expect("json"));
    println!("peak_rss_bytes {:?}", collector::bench::peak_rss_bytes());
}
