//! `warroom bench …`: dispatches to the benchmark of each part.
use clap::Subcommand;

#[derive(Subcommand)]
pub enum Bench {
    /// payments/s at saturation in one process, with and without digests.
    Sim(super::bench_sim::SimArgs),
    /// payments/s on one hot merchant account for each ledger strategy.
    Ledger(super::bench_sim::LedgerArgs),
    /// Collector parse + validate + pre-aggregate throughput.
    Ingest(super::bench_ingest::Args),
    /// Replay throughput (records/s through the analyzer on the records' clock) beside
    /// the live ingest path's.
    Replay(super::bench_replay::Args),
    /// payments-sim guard (control plane + faults) cost per call on the payment path.
    Guard(super::bench_guard::Args),
}

pub async fn run(b: Bench) -> anyhow::Result<()> {
    match b {
        Bench::Sim(a) => super::bench_sim::run_sim(a).await,
        Bench::Ledger(a) => super::bench_sim::run_ledger(a).await,
        Bench::Ingest(a) => super::bench_ingest::run(a).await,
        Bench::Replay(a) => super::bench_replay::run(a).await,
        Bench::Guard(a) => super::bench_guard::run(a).await,
    }
}
