//! `warroom bench sim` and `warroom bench ledger` (not built yet: their issue is still open).

#[derive(clap::Args)]
pub struct SimArgs {}
#[derive(clap::Args)]
pub struct LedgerArgs {}

pub async fn run_sim(_a: SimArgs) -> anyhow::Result<()> {
    anyhow::bail!("`bench sim` is not built yet")
}
pub async fn run_ledger(_a: LedgerArgs) -> anyhow::Result<()> {
    anyhow::bail!("`bench ledger` is not built yet")
}
