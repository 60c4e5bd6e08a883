//! HTTP ingest end to end, alone: a real listener on loopback, the write-ahead
//! buffer on (`batch` fsync), the embedded store, and the load client in the
//! same process — what `warroom bench ingest --http` measures, as a small
//! binary so two builds of the collector can be compared side by side.
//!
//! `cargo run --release -p collector --example http_load -- [SECS] [CONNECTIONS] [LINES_PER_REQUEST]`
//! prints one JSON object (the client's report, records written, lost, CPU seconds).

use collector::bench::{http_end_to_end, peak_rss_bytes};
use collector::FsyncPolicy;
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse::<u64>())
        .collect::<Result<_, _>>()?;
    let secs = args.first().copied().unwrap_or(5);
    let connections = args.get(1).copied().unwrap_or(4) as usize;
    let batch = args.get(2).copied().unwrap_or(2_000) as usize;
    let dir = std::env::temp_dir().join(format!("wr-http-load-{}", std::process::id()));
    let run = http_end_to_end(
        &dir,
        FsyncPolicy::Batch { interval_ms: 100 },
        batch,
        connections,
        Duration::from_secs(secs),
        None,
    )
    .await?;
    let (report, written) = (run.report, run.records_written);
    let cpu = run.cpu_secs.unwrap_or(0.0);
    println!(
        "{}",
        serde_json::json!({
            "lines_per_s": report.lines_per_s.round(),
            "acked_lines": report.acked_lines,
            "cpu_secs": cpu,
            "lines_per_cpu_s": (report.acked_lines as f64 / cpu.max(1e-9)).round(),
            "refused_429": report.refused_429,
            "refused_503": report.refused_503,
            "errors": report.errors,
            "lost": report.acked_lines.saturating_sub(written),
            "peak_rss_bytes": peak_rss_bytes(),
        })
    );
    Ok(())
}
