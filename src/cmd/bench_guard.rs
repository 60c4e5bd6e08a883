//! `warroom bench guard`: the guard's cost on the payment path (glue: flags →
//! `payments_sim::control::bench::bench_guard` → JSON).

#[derive(clap::Args)]
pub struct Args {
    /// Threads calling the guard at once.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// enter + exit pairs per thread per scenario.
    #[arg(long, default_value_t = 2_000_000)]
    pub calls: u64,
    /// Print the report as JSON (the only format).
    #[arg(long)]
    pub json: bool,
}

pub async fn run(a: Args) -> anyhow::Result<()> {
    let (threads, calls) = (a.threads, a.calls);
    let rep = tokio::task::spawn_blocking(move || {
        payments_sim::control::bench::bench_guard(threads, calls)
    })
    .await?;
    println!("{}", serde_json::to_string(&rep)?);
    Ok(())
}
