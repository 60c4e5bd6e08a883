//! `warroom up`: `warroom serve` plus the simulator — flags and an optional TOML file
//! (the room's config plus `tps` and `[sim]`) → `stack::Stack` (a room beside an
//! in-process payments-sim) → simulated traffic and the serving part `serve` shares;
//! Ctrl-C or SIGTERM stops it.

use super::room_config::{self, Approve};
use super::serving::{self, Serving};
use anyhow::Context;
use stack::{Stack, StackOptions};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct Args {
    /// Dashboard address (UI at `/`, JSON API under `/api/`).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Collector address (`/v1/digest`, `/v1/traces`, `/v1/events`, `/api/stats`, `/metrics`).
    #[arg(long, default_value = "127.0.0.1:4318")]
    pub collector_listen: String,
    /// Listen beyond loopback even with no `[collector] tokens` (anyone who reaches the
    /// port can then feed the war room; the config's `allow_unauthenticated` says the same).
    #[arg(long)]
    pub allow_unauthenticated_ingest: bool,
    /// payments-sim's control API address (port 0 picks one).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub control_listen: String,
    /// Bearer token of the control API (generated when absent).
    #[arg(long, env = "WARROOM_CONTROL_TOKEN", hide_env_values = true)]
    pub control_token: Option<String>,
    /// TOML config (see README: `warroom up and drills`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Where the collector's buffer and store, alert history and audit logs live.
    #[arg(long, default_value = ".warroom/data")]
    pub data_dir: PathBuf,
    /// Simulated payments per second (0: no traffic).
    #[arg(long)]
    pub tps: Option<f64>,
    /// Who lets a contingency plan act: `plan` (each plan's own mode), `commander`
    /// (every plan waits for a commander's Approve/Reject, with the plan's timeout and
    /// escalation), `auto` (every plan runs at once). Default: the config's `approve`,
    /// else `plan`.
    #[arg(long, value_enum)]
    pub approve: Option<Approve>,
    #[command(flatten)]
    pub retention: room_config::RetentionArgs,
}

fn random_token() -> String {
    use rand::Rng;
    let mut r = rand::rng();
    (0..16)
        .map(|_| format!("{:02x}", r.random::<u8>()))
        .collect()
}

pub async fn run(a: Args) -> anyhow::Result<()> {
    let up = room_config::load_up(a.config.as_deref())?;
    let cfg = &up.room;
    let origin = a
        .config
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let dash_cfg = cfg.dashboard(&origin)?;
    let edge = cfg.edge(a.allow_unauthenticated_ingest)?;
    let retention = a.retention.resolve(cfg)?;
    let clock: digest::SharedClock = Arc::new(digest::SystemClock);
    let token = a.control_token.clone().unwrap_or_else(random_token);
    let data_dir = cfg.data_dir.clone().unwrap_or(a.data_dir.clone());
    let mut o = StackOptions::new(clock.clone(), data_dir.clone(), token);
    o.control_listen = a.control_listen.clone();
    o.clickhouse = cfg.clickhouse.clone();
    o.retention = retention;
    let approve = a.approve.or(cfg.approve).unwrap_or_default();
    o.approval = approve.mode();
    cfg.apply(&mut o.analyzer, &mut o.command, &mut o.alerts)?;
    if let Some(obj) = cfg.objectives()? {
        o.objectives = obj;
    }
    if cfg.healer.is_some() {
        anyhow::bail!("[healer]: `warroom up` runs the built-in plans on payments-sim; [healer] is for `warroom serve`");
    }
    if let Some(v) = &up.sim {
        o.sim = payments_sim::SimConfig::from_toml(&toml::to_string(v)?).context("[sim]")?;
    }
    let tps = a.tps.or(up.tps).unwrap_or(200.0);
    if !(0.0..=20_000.0).contains(&tps) {
        anyhow::bail!("tps: must be in 0..=20000");
    }
    o.sim.provision_entry(tps, payments_sim::ENTRY_HEADROOM);
    let stack = Arc::new(Stack::build(o).await?);
    let load = (tps > 0.0).then(|| {
        let sim = stack.sim.clone();
        tokio::spawn(async move {
            let cfg = payments_sim::LoadConfig {
                tps,
                duration_s: 1e9,
                ramp_s: 2.0,
                ..payments_sim::LoadConfig::default()
            };
            if let Err(e) = payments_sim::run_load(&sim, &cfg).await {
                eprintln!("traffic stopped: {e}");
            }
        })
    });
    let result = serving::serve(
        Serving {
            room: stack.room.clone(),
            looper: stack.clone(),
            drills: Some(stack.control.clone()),
            listen: a.listen.clone(),
            edge,
            collector_listen: a.collector_listen.clone(),
            dashboard: dash_cfg,
            data_dir,
            notes: vec![
                format!("control API: {}", stack.control.base()),
                format!("approval: {}", approve.name()),
            ],
        },
        || {
            if let Some(l) = &load {
                l.abort();
            }
        },
    )
    .await;
    stack.shutdown();
    eprintln!("stopped");
    result
}
