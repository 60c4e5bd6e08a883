//! HTTP ingest end to end, alone: a real listener on loopback, the write-ahead
//! buffer on (`batch` fsync), the embedded store, and the load client in the
//! same process — what `warroom bench ingest --http` measures, as a small
//! binary so two builds of the collector can be compared side by side.
//!
//! `cargo run --release -p collector --example http_load -- [SECS] [CONNECTIONS] [LINES_PER_REQUEST]`
//! prints one JSON object (the client's report, records written, lost, CPU seconds).

use collector::bench::{drive_http, peak_rss_bytes, process_cpu_secs};
use collector::{EmbeddedConfig, EmbeddedStore, FsyncPolicy, Pipeline, PipelineConfig};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

fn cpu_secs() -> f64 {
    process_cpu_secs().unwrap_or(0.0)
}

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
    let _ = std::fs::remove_dir_all(&dir);
    let clock: digest::SharedClock = Arc::new(digest::SystemClock);
    let store = Arc::new(EmbeddedStore::open(
        &dir.join("store"),
        EmbeddedConfig::default(),
        clock.clone(),
    )?);
    let cfg = PipelineConfig {
        data_dir: dir.clone(),
        fsync: FsyncPolicy::Batch { interval_ms: 100 },
        ..PipelineConfig::default()
    };
    let pipeline = Pipeline::open(cfg, store, clock)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(collector::http::serve(listener, pipeline.clone(), async {
        let _ = stop_rx.await;
    }));
    let start = digest::Clock::now_us(&digest::SystemClock);
    let bodies: Vec<Vec<u8>> = (0..64)
        .map(|i| collector::gen::lines(batch, 1000 + i, start, 200_000))
        .collect();
    let cpu0 = cpu_secs();
    let report = drive_http(addr, bodies, connections, Duration::from_secs(secs)).await?;
    pipeline.flush().await;
    let cpu = cpu_secs() - cpu0;
    let written = pipeline.metrics().records_written.load(Relaxed);
    let _ = stop_tx.send(());
    let _ = server.await;
    let _ = std::fs::remove_dir_all(&dir);
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
