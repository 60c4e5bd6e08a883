//! The same measurements as `warroom bench sim` / `warroom bench ledger`, without
//! building the whole `warroom` binary: `cargo run --release -p payments-sim
//! --features bench --example bench -- [sim|ledger]`.

use payments_sim::bench::{bench_ledger, bench_sim, LedgerBenchOpts, SimBenchOpts};

#[tokio::main]
async fn main() {
    let what = std::env::args().nth(1).unwrap_or_else(|| "sim".into());
    let out = match what.as_str() {
        "sim" => {
            let mut o = SimBenchOpts::default();
            if let Some(w) = std::env::args().nth(2).and_then(|w| w.parse().ok()) {
                o.workers = w;
            }
            if let Some(h) = std::env::args().nth(3).and_then(|h| h.parse().ok()) {
                o.hold_us = h;
            }
            serde_json::to_string(&bench_sim(&o).await)
        }
        "ledger" => serde_json::to_string(&bench_ledger(&LedgerBenchOpts::default()).await),
        o => {
            eprintln!("unknown benchmark {o:?}: sim or ledger");
            std::process::exit(2)
        }
    };
    println!("{}", out.expect("reports serialize"));
}
