//! `warroom sim`: runs payments-sim under load and prints one JSON report.
//! Glue only: flags → sinks, guard and `SimBuilder` → `run_load` → reconcile → JSON.

use anyhow::Context;
use digest::Sink;
use digest::{FanoutSink, FileSink, FileSinkConfig, HttpShipper, HttpShipperConfig};
use payments_sim::control::Steering;
use payments_sim::faults::parse_fault;
use payments_sim::guard::{Guard, NoGuard};
use payments_sim::{run_load, Delays, LoadConfig, Mode, SimBuilder, SimConfig};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// Target payments per second (open loop).
    #[arg(long, default_value_t = 200.0)]
    pub tps: f64,
    /// Seconds of load.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds to ramp up to --tps.
    #[arg(long, default_value_t = 0.0)]
    pub ramp: f64,
    /// Write rolling `<service>-digest.log` files here.
    #[arg(long)]
    pub digest_dir: Option<PathBuf>,
    /// Ship digests to a collector (`http://host:port`, posts to /v1/digest and /v1/events).
    #[arg(long)]
    pub collector: Option<String>,
    /// Bearer token to send to `--collector` (its `[collector] tokens`).
    #[arg(long, env = "WARROOM_COLLECTOR_TOKEN", hide_env_values = true)]
    pub collector_token: Option<String>,
    /// Share of payments that are shadow (full-link stress test) traffic, 0..=1.
    #[arg(long, default_value_t = 0.0)]
    pub shadow_fraction: f64,
    /// Flash sale: share of payments to the hot merchant `m-hot`, 0..=1.
    #[arg(long, default_value_t = 0.0)]
    pub hot_merchant_share: f64,
    /// `in-process` (direct calls) or `http` (each service on its own loopback port).
    #[arg(long, default_value = "in-process")]
    pub mode: String,
    /// `real` (wait out bank latency) or `virtual` (add it to durations without waiting).
    #[arg(long, default_value = "real")]
    pub delays: String,
    /// A payments-sim TOML config (see README); flags above override its fields.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Seed of the load mix.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Print the report as JSON (the only format).
    #[arg(long)]
    pub json: bool,
    /// Inject a fault: `KIND[:TARGET][@START_S[+DURATION_S]]` (repeatable; see README).
    #[arg(long = "fault", value_name = "SPEC")]
    pub faults: Vec<String>,
    /// Serve the control API (rules, switches, channels, zones, versions, ledger,
    /// faults, Sentinel's /getRules and /setRules) on this address during the run.
    #[arg(long, value_name = "ADDR")]
    pub control: Option<String>,
    /// Bearer token the control API requires.
    #[arg(long, env = "WARROOM_CONTROL_TOKEN", hide_env_values = true)]
    pub control_token: Option<String>,
}

/// The one place the guard is chosen: with no fault and no control API the
/// system runs unsteered (`NoGuard`); otherwise a `Steering` (faults + control
/// plane) whose change events go to the digest sink, and its API if asked.
async fn make_guard(
    a: &Args,
    sink: &Option<Arc<dyn Sink>>,
    version: &str,
) -> anyhow::Result<(Arc<dyn Guard>, Option<Arc<Steering>>)> {
    if a.faults.is_empty() && a.control.is_none() {
        return Ok((Arc::new(NoGuard), None));
    }
    let specs = a
        .faults
        .iter()
        .map(|f| parse_fault(f))
        .collect::<Result<Vec<_>, _>>()
        .context("--fault")?;
    let events = match sink {
        Some(s) => Steering::events_to(s.clone()),
        None => Steering::discard_events(),
    };
    let steering = Arc::new(Steering::new(Arc::new(digest::SystemClock), events));
    steering.set_builtin_versions(
        payments_sim::msg::Service::ALL
            .iter()
            .map(|s| (s.name().to_string(), version.to_string())),
    );
    steering.add_faults(specs).context("--fault")?;
    if let Some(addr) = &a.control {
        let token = a.control_token.as_deref().unwrap_or("");
        let (bound, _task) = payments_sim::control::api::serve(steering.clone(), token, addr)
            .await
            .context("--control")?;
        eprintln!("control API on http://{bound}");
    }
    let ticker = steering.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            ticker.tick();
        }
    });
    Ok((steering.clone(), Some(steering)))
}

fn make_sink(a: &Args) -> anyhow::Result<Option<Arc<dyn Sink>>> {
    let mut sinks: Vec<Arc<dyn Sink>> = Vec::new();
    if let Some(dir) = &a.digest_dir {
        let s = FileSink::start(FileSinkConfig {
            dir: dir.clone(),
            ..Default::default()
        })
        .context("--digest-dir")?;
        sinks.push(Arc::new(s));
    }
    if let Some(url) = &a.collector {
        let s = HttpShipper::start(HttpShipperConfig {
            url: url.clone(),
            token: a.collector_token.clone(),
            ..Default::default()
        })
        .context("--collector")?;
        sinks.push(Arc::new(s));
    }
    Ok(match sinks.len() {
        0 => None,
        1 => sinks.pop(),
        _ => Some(Arc::new(FanoutSink(sinks))),
    })
}

pub async fn run(a: Args) -> anyhow::Result<()> {
    let mut cfg = match &a.config {
        Some(p) => SimConfig::from_toml(
            &std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
        )
        .with_context(|| format!("config {}", p.display()))?,
        None => SimConfig::default(),
    };
    cfg.delays = match a.delays.as_str() {
        "real" => Delays::Real,
        "virtual" => Delays::Virtual,
        o => anyhow::bail!("--delays: {o:?} is not `real` or `virtual`"),
    };
    let mode = match a.mode.as_str() {
        "in-process" => Mode::InProcess,
        "http" => Mode::Http,
        o => anyhow::bail!("--mode: {o:?} is not `in-process` or `http`"),
    };
    let load = LoadConfig {
        tps: a.tps,
        duration_s: a.duration,
        ramp_s: a.ramp,
        shadow_fraction: a.shadow_fraction,
        hot_merchant_share: a.hot_merchant_share,
        seed: a.seed,
        ..LoadConfig::default()
    };
    load.validate().context("load flags")?;
    let sink = make_sink(&a)?;
    let (guard, steering) = make_guard(&a, &sink, &cfg.version).await?;
    let mut b = SimBuilder::new().config(cfg).mode(mode).guard(guard);
    if let Some(s) = &sink {
        b = b.sink(s.clone());
    }
    let sim = Arc::new(b.build().await?);
    let rep = run_load(&sim, &load).await?;
    let recon = sim.reconcile().await;
    let (written, dropped, rejected) = match &sink {
        Some(s) => {
            s.flush(Duration::from_secs(30));
            let st = s.stats();
            (st.delivered, st.dropped, st.rejected)
        }
        None => (0, 0, 0),
    };
    let sample: Vec<_> = recon.real.iter().chain(&recon.shadow).take(20).collect();
    let out = serde_json::json!({
        "achieved_tps": rep.achieved_tps,
        "success_rate": rep.success_rate,
        "p50_ms": rep.p50_ms,
        "p99_ms": rep.p99_ms,
        "payments": rep.payments,
        "digests_written": written,
        "digests_dropped": dropped,
        // Refused for good by the collector (4xx: e.g. 401 for a missing or wrong token).
        "digests_rejected": rejected,
        "reconciliation_mismatches": recon.total(),
        "reconciliation": {
            "orders_checked": recon.orders_checked,
            "real": recon.real.len(),
            "shadow": recon.shadow.len(),
            "sample": sample,
        },
        "shadow_payments": rep.shadow_payments,
        "shed": rep.shed,
        "elapsed_s": rep.elapsed_s,
        "codes": rep.codes,
        "mode": a.mode,
        "faults": steering.as_ref().map(|s| s.ground_truth()),
    });
    println!("{out}");
    sim.shutdown();
    Ok(())
}
