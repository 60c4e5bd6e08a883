//! `warroom bench replay`: records/s of `warroom replay` (decode, order, analyzer, incident
//! book on the records' clock, whole files streamed from disk) beside the live ingest
//! path's figure on the same lines (the collector's parse + validate + pre-aggregate, as
//! `warroom bench ingest` measures it), with the ratio.

use collector::bench::{generate_lines, parse_fast, peak_rss_bytes, process_cpu_secs};
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// A recording to replay (default: generate realistic ~440-byte v1 lines).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Lines to generate when no input is given.
    #[arg(long, default_value_t = 1_000_000)]
    pub lines: usize,
    /// Records per second of record time in the generated lines (`bench ingest`'s rate).
    #[arg(long, default_value_t = 100_000)]
    pub per_second: u64,
    /// Passes; the best is reported.
    #[arg(long, default_value_t = 2)]
    pub rounds: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Lines generated (and measured on the live path) per chunk.
const CHUNK: usize = 200_000;

pub async fn run(a: Args) -> anyhow::Result<()> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (path, generated) = match &a.input {
        Some(p) => (p.clone(), false),
        None => {
            let p = std::env::temp_dir()
                .join(format!("warroom-bench-replay-{}.jsonl", std::process::id()));
            let mut f = std::io::BufWriter::new(std::fs::File::create(&p)?);
            let start = digest::Clock::now_us(&digest::SystemClock) / 1_000_000 * 1_000_000;
            let step = 1_000_000 / a.per_second.max(1);
            let mut done = 0;
            while done < a.lines {
                let n = CHUNK.min(a.lines - done);
                let t0 = start + done as u64 * step;
                f.write_all(&generate_lines(n, 42 + done as u64, t0, a.per_second))?;
                done += n;
            }
            f.flush()?;
            (p, true)
        }
    };
    // The live path's figure on the first chunk of the same lines.
    let sample = read_head(&path, CHUNK)?;
    let live = tokio::task::spawn_blocking(move || parse_fast(&sample, threads)).await?;
    let mut best: Option<(replay::Summary, Option<f64>)> = None;
    for _ in 0..a.rounds.max(1) {
        let files = vec![path.clone()];
        let cpu0 = process_cpu_secs();
        let s = tokio::task::spawn_blocking(move || {
            replay::replay(
                &files,
                &replay::ReplayOptions::default(),
                &mut |_| {},
                &mut |_| {},
            )
        })
        .await??;
        let cpu = cpu0.zip(process_cpu_secs()).map(|(a, b)| b - a);
        if best
            .as_ref()
            .is_none_or(|(b, _)| s.records_per_s > b.records_per_s)
        {
            best = Some((s, cpu));
        }
    }
    if generated {
        let _ = std::fs::remove_file(&path);
    }
    let (s, cpu) = best.expect("at least one round");
    // CPU the whole process spent per record: steady on a busy machine, where the wall
    // figure is not.
    let per_cpu_s = cpu
        .filter(|c| *c > 0.0)
        .map(|c| (s.records as f64 / c).round());
    let ratio = s.records_per_s / live.lines_per_s.max(1.0);
    let out = serde_json::json!({
        "replay": {
            "records": s.records,
            "rejected": s.rejected,
            "incidents": s.incidents,
            "secs": s.secs,
            "records_per_s": s.records_per_s,
            "record_secs": s.record_secs,
            "speedup": s.speedup,
            "ticks": s.ticks,
            "cpu_secs": cpu,
            "records_per_cpu_s": per_cpu_s,
        },
        "live_ingest": {
            "name": "collector parse + validate + pre-aggregate (warroom bench ingest)",
            "threads": threads,
            "lines": live.lines,
            "lines_per_s": live.lines_per_s.round(),
            "lines_per_cpu_s": live.lines_per_cpu_s.round(),
        },
        "ratio_vs_live_ingest": (ratio * 100.0).round() / 100.0,
        "threads": threads,
        "peak_rss_bytes": peak_rss_bytes(),
    });
    if a.json {
        println!("{out}");
    } else {
        println!(
            "replay:      {:.0} records/s, {} per CPU-second ({} records, {:.1} s of record time, {} incidents)",
            s.records_per_s,
            per_cpu_s.map_or("?".into(), |x| format!("{x:.0}")),
            s.records,
            s.record_secs,
            s.incidents
        );
        println!(
            "live ingest: {:.0} lines/s on {threads} threads (ratio {ratio:.2}x)",
            live.lines_per_s
        );
    }
    Ok(())
}

/// The first `n` lines of `path` (plain text).
fn read_head(path: &std::path::Path, n: usize) -> anyhow::Result<Vec<u8>> {
    use std::io::BufRead;
    let mut r = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut out = Vec::new();
    for _ in 0..n {
        if r.read_until(b'\n', &mut out)? == 0 {
            break;
        }
    }
    Ok(out)
}
