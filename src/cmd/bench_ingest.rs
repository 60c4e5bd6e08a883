//! `warroom bench_ingest` (not built yet: its issue is still open).

#[derive(clap::Args)]
pub struct Args {}

pub async fn run(_a: Args) -> anyhow::Result<()> {
    anyhow::bail!("`bench_ingest` is not built yet")
}
