//! The `warroom` binary: parses flags and wires the crates together. No logic of
//! its own lives here; each subcommand is one file under `cmd/`.

mod backend;
mod cmd;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "warroom",
    version,
    about = "War-room command system for payment platforms: watch, diagnose, heal."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run payments-sim under load (optionally with faults and a control plane) and report.
    Sim(cmd::sim::Args),
    /// Benchmarks: `sim`, `ledger`, `ingest`, `replay`, `guard`.
    #[command(subcommand)]
    Bench(cmd::bench::Bench),
    /// Run the collector alone.
    Collect(cmd::collect::Args),
    /// Inject a fault into the whole stack and measure detection, diagnosis and recovery.
    Drill(cmd::drill::Args),
    /// Run everything in one process: payments-sim, collector, analyzer, healer, dashboard.
    Up(cmd::up::Args),
    /// The war room for your own services (no simulator): collector, analyzer, SLA,
    /// alerts, healer and dashboard for whatever sends OTLP, digest lines or SOFATracer logs.
    Serve(cmd::serve::Args),
    /// Recorded records (v1 lines, OTLP JSON, SOFATracer; gzip too) through the analyzer on
    /// their own clock: one JSON line per incident, then a summary.
    Replay(cmd::replay::Args),
    /// Inspect the whole system before a big sale and write a report (not built yet).
    Patrol(cmd::patrol::Args),
    /// Read a password on stdin, print its hash for the dashboard config's `[[users]]`.
    HashPassword(cmd::hash_password::Args),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.command {
            Command::Sim(a) => cmd::sim::run(a).await,
            Command::Bench(b) => cmd::bench::run(b).await,
            Command::Collect(a) => cmd::collect::run(a).await,
            Command::Drill(a) => cmd::drill::run(a).await,
            Command::Up(a) => cmd::up::run(a).await,
            Command::Serve(a) => cmd::serve::run(a).await,
            Command::Replay(a) => cmd::replay::run(a).await,
            Command::Patrol(a) => cmd::patrol::run(a).await,
            Command::HashPassword(a) => cmd::hash_password::run(a).await,
        }
    })
}
