//! `warroom bench sim` and `warroom bench ledger`: flags → payments-sim's bench
//! functions → one JSON object on stdout.

use payments_sim::bench::{bench_ledger, bench_sim, LedgerBenchOpts, SimBenchOpts};

#[derive(clap::Args)]
pub struct SimArgs {
    /// Seconds per measured run.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Runs per mode (best kept).
    #[arg(long, default_value_t = 2)]
    pub rounds: u32,
    /// Concurrent closed-loop payers.
    #[arg(long, default_value_t = 256)]
    pub workers: usize,
    /// Ledger row-lock hold per posting, microseconds (0 = CPU path alone).
    #[arg(long, default_value_t = 1000)]
    pub hold_us: u64,
    /// Print JSON (the only output format; accepted for symmetry).
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct LedgerArgs {
    /// Concurrent payers on one hot merchant account.
    #[arg(long, default_value_t = 512)]
    pub payers: usize,
    /// Seconds per strategy.
    #[arg(long, default_value_t = 2.0)]
    pub seconds: f64,
    /// Modelled row-lock hold time per posting, microseconds.
    #[arg(long, default_value_t = 1000)]
    pub hold_us: u64,
    /// Sub-accounts for `split`.
    #[arg(long, default_value_t = 16)]
    pub split_ways: u32,
    #[arg(long)]
    pub json: bool,
}

pub async fn run_sim(a: SimArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        a.seconds > 0.0 && a.workers > 0,
        "--seconds and --workers must be > 0"
    );
    let rep = bench_sim(&SimBenchOpts {
        seconds: a.seconds,
        rounds: a.rounds,
        workers: a.workers,
        hold_us: a.hold_us,
    })
    .await;
    println!("{}", serde_json::to_string(&rep)?);
    Ok(())
}

pub async fn run_ledger(a: LedgerArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        a.seconds > 0.0 && a.payers > 0,
        "--seconds and --payers must be > 0"
    );
    anyhow::ensure!(
        (1..=1024).contains(&a.split_ways),
        "--split-ways must be 1..=1024"
    );
    let rep = bench_ledger(&LedgerBenchOpts {
        payers: a.payers,
        seconds: a.seconds,
        hold_us: a.hold_us,
        split_ways: a.split_ways,
    })
    .await;
    println!("{}", serde_json::to_string(&rep)?);
    Ok(())
}
