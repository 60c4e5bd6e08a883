//! `warroom bench ingest`: parse + validate + pre-aggregate throughput over all
//! cores (fast scanner vs the serde_json reference on the same lines), and with
//! `--http`, HTTP ingest end to end through a real listener with the write-ahead
//! buffer on.

use anyhow::Context;
use collector::bench::peak_rss_bytes;
use collector::bench::{parse_fast, parse_fast_file, parse_reference, parse_reference_file};
use collector::FsyncPolicy;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// v1 digest lines to read, streamed in blocks (bounded memory; default: generate
    /// realistic ~440-byte lines in memory).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// With `--input`: read the whole file into memory first (the old way, to compare).
    #[arg(long)]
    pub whole_file: bool,
    /// Lines to generate when no input is given.
    #[arg(long, default_value_t = 1_000_000)]
    pub lines: usize,
    /// Write the generated lines (`--lines` of them) to this file and stop (a file for `--input`).
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Passes over the data; the best is reported.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Skip the serde_json baseline (e.g. to count cycles of the fast path alone).
    #[arg(long)]
    pub no_baseline: bool,
    /// Also measure HTTP ingest end to end over loopback (WAL on, embedded store).
    #[arg(long)]
    pub http: bool,
    /// Seconds the HTTP load runs.
    #[arg(long, default_value_t = 5)]
    pub http_secs: u64,
    /// Concurrent client connections for the HTTP load.
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Lines per HTTP request.
    #[arg(long, default_value_t = 2_000)]
    pub batch: usize,
    /// fsync policy of the write-ahead buffer under HTTP load.
    #[arg(long, default_value = "batch")]
    pub fsync: FsyncPolicy,
    /// Under HTTP load, require a bearer token (one source) and send it with every
    /// request: the authenticated ingest path.
    #[arg(long)]
    pub auth: bool,
}

/// Bytes read per block when streaming `--input` (a few blocks are in memory at once).
const STREAM_BLOCK: usize = 4 << 20;

fn best(
    mut f: impl FnMut() -> collector::bench::ParseReport,
    rounds: usize,
) -> collector::bench::ParseReport {
    let mut best = f();
    for _ in 1..rounds.max(1) {
        let r = f();
        if r.lines_per_s > best.lines_per_s {
            best = r;
        }
    }
    best
}

pub async fn run(a: Args) -> anyhow::Result<()> {
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if let Some(path) = &a.save {
        let now = digest::Clock::now_us(&digest::SystemClock);
        let data = collector::bench::generate_lines(a.lines, 42, now, 100_000);
        std::fs::write(path, &data).with_context(|| format!("writing {}", path.display()))?;
        println!(
            "{} lines, {} bytes: {}",
            a.lines,
            data.len(),
            path.display()
        );
        return Ok(());
    }
    let (fast, reference) = match (&a.input, a.whole_file) {
        (Some(path), false) => {
            let (path, rounds, skip) = (path.clone(), a.rounds, a.no_baseline);
            tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                let read = |r: std::io::Result<collector::bench::ParseReport>| {
                    r.with_context(|| format!("reading {}", path.display()))
                };
                let mut fast = read(parse_fast_file(&path, threads, STREAM_BLOCK))?;
                for _ in 1..rounds.max(1) {
                    let r = read(parse_fast_file(&path, threads, STREAM_BLOCK))?;
                    if r.lines_per_s > fast.lines_per_s {
                        fast = r;
                    }
                }
                let reference = if skip {
                    None
                } else {
                    Some(read(parse_reference_file(&path, threads, STREAM_BLOCK))?)
                };
                Ok((fast, reference))
            })
            .await??
        }
        (input, _) => {
            let data = match input {
                Some(p) => std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
                None => collector::bench::generate_lines(
                    a.lines,
                    42,
                    digest::Clock::now_us(&digest::SystemClock),
                    100_000,
                ),
            };
            tokio::task::spawn_blocking({
                let (rounds, skip) = (a.rounds, a.no_baseline);
                move || {
                    let fast = best(|| parse_fast(&data, threads), rounds);
                    let reference =
                        (!skip).then(|| best(|| parse_reference(&data, threads), rounds));
                    (fast, reference)
                }
            })
            .await?
        }
    };
    let ratio = reference.as_ref().map(|r| fast.lines_per_s / r.lines_per_s);
    let cpu_ratio = reference
        .as_ref()
        .filter(|r| r.lines_per_cpu_s > 0.0)
        .map(|r| fast.lines_per_cpu_s / r.lines_per_cpu_s);
    let http = if a.http {
        Some(http_bench(&a).await?)
    } else {
        None
    };
    let out = serde_json::json!({
        "lines": fast.lines,
        "bytes": fast.bytes,
        "avg_line_bytes": fast.bytes / fast.lines.max(1),
        "threads": threads,
        "lines_per_s": fast.lines_per_s.round(),
        "bytes_per_s": fast.bytes_per_s.round(),
        "rejected": fast.rejected,
        "secs": fast.secs,
        "cpu_secs": fast.cpu_secs,
        "lines_per_cpu_s": fast.lines_per_cpu_s.round(),
        // What the same work does with every core to itself (the machine may be shared).
        "lines_per_s_idle_cores": (fast.lines_per_cpu_s * threads as f64).round(),
        "baseline": reference.as_ref().map(|r| serde_json::json!({
            "name": "serde_json reference decoder (digest::decode_line) + digest::RollupBuilder",
            "lines_per_s": r.lines_per_s.round(),
            "bytes_per_s": r.bytes_per_s.round(),
            "lines_per_cpu_s": r.lines_per_cpu_s.round(),
        })),
        "ratio_vs_baseline": ratio.map(|x| (x * 100.0).round() / 100.0),
        "cpu_ratio_vs_baseline": cpu_ratio.map(|x| (x * 100.0).round() / 100.0),
        "http": http,
    });
    if a.json {
        println!("{out}");
    } else {
        println!(
            "parse+validate+aggregate: {:.0} lines/s, {:.1} MB/s on {threads} threads ({} lines, {} B/line)",
            fast.lines_per_s,
            fast.bytes_per_s / 1e6,
            fast.lines,
            fast.bytes / fast.lines.max(1)
        );
        if let (Some(r), Some(x)) = (&reference, ratio) {
            println!(
                "baseline serde_json:       {:.0} lines/s  (ratio {x:.2}x)",
                r.lines_per_s
            );
        }
        if let Some(h) = out.get("http").filter(|h| !h.is_null()) {
            println!("http: {h}");
        }
    }
    Ok(())
}

async fn http_bench(a: &Args) -> anyhow::Result<serde_json::Value> {
    let dir = std::env::temp_dir().join(format!("warroom-bench-ingest-{}", std::process::id()));
    let run = collector::bench::http_end_to_end(
        &dir,
        a.fsync,
        a.batch,
        a.connections,
        Duration::from_secs(a.http_secs),
        a.auth.then_some("bench-token-0123456789abcdef"),
    )
    .await?;
    let (report, written, stored) = (run.report, run.records_written, run.records_stored);
    // CPU the whole process (server and client) spent per acknowledged line:
    // steady on a busy machine, where the wall figure is not.
    let cpu = run.cpu_secs;
    Ok(serde_json::json!({
        "report": report,
        "fsync": format!("{:?}", a.fsync),
        "auth": a.auth,
        "records_written": written,
        "records_stored_after": stored,
        "lost": report.acked_lines.saturating_sub(written),
        "cpu_secs": cpu,
        "lines_per_cpu_s": cpu.filter(|c| *c > 0.0).map(|c| (report.acked_lines as f64 / c).round()),
        "peak_rss_bytes": peak_rss_bytes(),
    }))
}
