//! `warroom serve`: the war room for a platform that is not payments-sim — collector,
//! analyzer, SLA, alerts, the command loop with its healer, and the dashboard, for
//! whatever services send OTLP, digest lines or SOFATracer logs. Services, topology,
//! scenes and objectives come from what arrives (99.9 % availability for every service
//! that shows up unless `objectives` says otherwise); plans come from `[healer] plans` and
//! act through the real services' own levers (Sentinel's command API, a webhook). No
//! simulator: the dashboard's drills screen is hidden.

use super::room_config::{self, Approve};
use super::serving::{self, RoomAlone, Serving};
use anyhow::Context;
use stack::{Room, RoomOptions};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct Args {
    /// TOML config (docs/serve.md): `[healer] plans`, `[dashboard]`, `[analyzer]`, …
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Dashboard address (UI at `/`, JSON API under `/api/`).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Collector address (`/v1/traces`, `/v1/digest`, `/v1/events`, `/api/stats`, `/metrics`).
    #[arg(long, default_value = "127.0.0.1:4318")]
    pub collector_listen: String,
    /// Listen beyond loopback even with no `[collector] tokens` (anyone who reaches the
    /// port can then feed the war room; the config's `allow_unauthenticated` says the same).
    #[arg(long)]
    pub allow_unauthenticated_ingest: bool,
    /// Where the collector's buffer and store, alert history and audit logs live.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Who lets a contingency plan act: `plan`, `commander`, `auto` (default: the config's
    /// `approve`, else `plan`).
    #[arg(long, value_enum)]
    pub approve: Option<Approve>,
    #[command(flatten)]
    pub retention: room_config::RetentionArgs,
}

pub async fn run(a: Args) -> anyhow::Result<()> {
    let cfg = room_config::load_room(a.config.as_deref())?;
    let origin = a
        .config
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let dash_cfg = cfg.dashboard(&origin)?;
    let edge = cfg.edge(a.allow_unauthenticated_ingest)?;
    let retention = a.retention.resolve(&cfg)?;
    let data_dir = a
        .data_dir
        .clone()
        .or(cfg.data_dir.clone())
        .unwrap_or_else(|| PathBuf::from(".warroom/serve"));
    let clock: digest::SharedClock = Arc::new(digest::SystemClock);
    let mut o = RoomOptions::new(clock, data_dir.clone());
    o.clickhouse = cfg.clickhouse.clone();
    o.retention = retention;
    cfg.apply(&mut o.analyzer, &mut o.command, &mut o.alerts)?;
    if let Some(obj) = cfg.objectives()? {
        o.objectives = obj;
    }
    o.executors = cfg.executors();
    o.plans = cfg.plans()?;
    for p in &o.plans {
        for (i, s) in p.steps.iter().enumerate() {
            if o.executors.get(s.executor).is_none() {
                anyhow::bail!(
                    "plan `{}`: steps[{i}] acts through the {:?} executor, which [healer] does not configure",
                    p.name,
                    s.executor
                );
            }
        }
    }
    let approve = a.approve.or(cfg.approve).unwrap_or_default();
    o.approval = approve.mode();
    let plans = o.plans.len();
    let room = Arc::new(Room::build(o).await.context("building the room")?);
    serving::serve(
        Serving {
            looper: Arc::new(RoomAlone(room.clone())),
            room,
            drills: None,
            listen: a.listen,
            edge,
            collector_listen: a.collector_listen,
            dashboard: dash_cfg,
            data_dir,
            notes: vec![
                format!("approval: {}", approve.name()),
                format!("plans: {plans}"),
            ],
        },
        || {},
    )
    .await?;
    eprintln!("stopped");
    Ok(())
}
