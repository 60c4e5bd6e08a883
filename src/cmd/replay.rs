//! `warroom replay FILE…`: flags → `replay::replay` → one JSON line per incident on
//! stdout and a last summary line; refused lines on stderr (file and line number, the first
//! few per file, then how many more). A file that cannot be opened is an error (exit 1).

use super::room_config;
use anyhow::Context;
use replay::{BadInput, Format, ReplayOptions};
use std::collections::HashMap;
use std::path::PathBuf;

/// Refused lines printed per file; the rest are counted.
const BAD_LINES_SHOWN: u64 = 20;

#[derive(clap::Args)]
pub struct Args {
    /// Recorded files: v1 digest lines, OTLP JSON (one request per line) or SOFATracer
    /// logs, plain or gzip. Several files are merged in time order.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// `auto` (each file's name or first line decides), `v1`, `otlp-json`, `sofatracer`.
    #[arg(long, default_value = "auto")]
    pub format: String,
    /// A directory of plan files (`*.toml`): report the plan that would have run for each
    /// incident (dry run; nothing is acted on).
    #[arg(long, value_name = "DIR")]
    pub plans: Option<PathBuf>,
    /// A room config (`warroom serve --config`): its `[analyzer]` and `[incidents]`.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Record time between analyzer ticks, milliseconds.
    #[arg(long, default_value_t = 100)]
    pub tick_ms: u64,
    /// How far out of order records may come and still be ordered, seconds.
    #[arg(long, default_value_t = 5)]
    pub reorder_s: u64,
    /// Zone of SOFATracer's zone-less timestamps, seconds east of UTC (28800: UTC+8).
    #[arg(long, default_value_t = 0)]
    pub sofa_utc_offset: i32,
    /// Print JSON lines (the only format).
    #[arg(long)]
    pub json: bool,
}

pub async fn run(a: Args) -> anyhow::Result<()> {
    let format: Format = a
        .format
        .parse()
        .map_err(|e: String| anyhow::anyhow!("--format: {e}"))?;
    let mut o = ReplayOptions {
        format,
        tick_us: a.tick_ms * 1_000,
        reorder_us: a.reorder_s * 1_000_000,
        sofa: collector::SofaOptions {
            utc_offset_s: a.sofa_utc_offset,
        },
        ..ReplayOptions::default()
    };
    if let Some(path) = &a.config {
        let cfg = room_config::load_room(Some(path))?;
        let mut command = command::CommandConfig::default();
        let mut alerts = command::default_alerts_config();
        cfg.apply(&mut o.analyzer, &mut command, &mut alerts)?;
        o.incidents = command.incidents;
    }
    if let Some(dir) = &a.plans {
        o.plans = Some(room_config::plans_in(dir).context("--plans")?);
    }
    let files = a.files.clone();
    let summary = tokio::task::spawn_blocking(move || {
        let mut shown: HashMap<String, (u64, u64)> = HashMap::new();
        let mut on_bad = |b: &BadInput| {
            let (n, more) = shown.entry(b.file.clone()).or_default();
            if *n < BAD_LINES_SHOWN {
                *n += 1;
                eprintln!(
                    "{}:{}: {} ({} skipped)",
                    b.file, b.line, b.reason, b.rejected
                );
            } else {
                *more += b.rejected;
            }
        };
        let mut on_incident = |r: &replay::IncidentReport| {
            println!("{}", serde_json::to_string(r).expect("a report serializes"));
        };
        let s = replay::replay(&files, &o, &mut on_incident, &mut on_bad);
        for (file, (_, more)) in &shown {
            if *more > 0 {
                eprintln!("{file}: {more} more refused (not shown)");
            }
        }
        s
    })
    .await??;
    println!("{}", serde_json::to_string(&summary)?);
    if summary.rejected > 0 {
        eprintln!("{} refused lines or records skipped", summary.rejected);
    }
    Ok(())
}
