//! `warroom up`: the whole stack in one process on the wall clock — flags and
//! an optional TOML file → `stack::Stack` → simulated traffic, the loop every
//! 200 ms, the collector's listener, the dashboard; Ctrl-C or SIGTERM stops it.

use crate::backend::StackBackend;
use anyhow::Context;
use serde::Deserialize;
use stack::{Stack, StackOptions};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// Dashboard address (UI at `/`, JSON API under `/api/`).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Collector address (`/v1/digest`, `/v1/traces`, `/v1/events`, `/api/stats`, `/metrics`).
    #[arg(long, default_value = "127.0.0.1:4318")]
    pub collector_listen: String,
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
}

/// `--approve` / `approve = "…"`: who lets plans act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Approve {
    /// Every plan runs at once.
    Auto,
    /// Every plan waits for a commander (dashboard or API).
    Commander,
    /// Each plan keeps its own approval mode.
    #[default]
    Plan,
}

impl Approve {
    /// The healer's override (`None`: each plan's own mode).
    pub fn mode(self) -> Option<healer::ApprovalMode> {
        match self {
            Approve::Auto => Some(healer::ApprovalMode::Auto),
            Approve::Commander => Some(healer::ApprovalMode::Commander),
            Approve::Plan => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Approve::Auto => "auto",
            Approve::Commander => "commander",
            Approve::Plan => "plan",
        }
    }
}

/// `warroom up --config FILE`: every table optional, unknown fields refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpConfig {
    /// Simulated payments per second (default 200; 0 turns traffic off).
    pub tps: Option<f64>,
    /// Who lets plans act: "plan" (default), "commander" or "auto" (`--approve` wins).
    pub approve: Option<Approve>,
    /// Store records in ClickHouse at this URL (default: the embedded store).
    pub clickhouse: Option<String>,
    pub data_dir: Option<PathBuf>,
    /// Dashboard users (`[dashboard]`, as in the dashboard section); absent: a first admin is made.
    pub dashboard: Option<toml::Value>,
    pub analyzer: Option<analyzer::AnalyzerConfig>,
    /// Incident lifetimes (`recover_after_s`, `supersede_after_s`, `refine_s`, …).
    pub incidents: Option<command::BookConfig>,
    /// The rules between a diagnosis and a plan run (`localize_ms`, `shed_codes`).
    pub rules: Option<command::RulesConfig>,
    pub alerts: Option<alerts::ManagerConfig>,
    /// SLA objectives file (default: payments-sim's built-in objectives).
    pub objectives: Option<PathBuf>,
    /// payments-sim config (`[sim]`, as `warroom sim --config`).
    pub sim: Option<toml::Value>,
}

fn load_config(path: &Option<PathBuf>) -> anyhow::Result<UpConfig> {
    let Some(p) = path else {
        return Ok(UpConfig::default());
    };
    let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
    toml::from_str(&text).map_err(|e| anyhow::anyhow!("config {}: {}", p.display(), e.message()))
}

fn random_token() -> String {
    use rand::Rng;
    let mut r = rand::rng();
    (0..16)
        .map(|_| format!("{:02x}", r.random::<u8>()))
        .collect()
}

pub async fn run(a: Args) -> anyhow::Result<()> {
    let cfg = load_config(&a.config)?;
    let origin = a
        .config
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let dash_cfg = match &cfg.dashboard {
        Some(v) => Some(
            dashboard::DashboardConfig::from_toml_str(&toml::to_string(v)?, &origin)
                .context("[dashboard]")?,
        ),
        None => None,
    };
    let clock: digest::SharedClock = Arc::new(digest::SystemClock);
    let token = a.control_token.clone().unwrap_or_else(random_token);
    let data_dir = cfg.data_dir.clone().unwrap_or(a.data_dir.clone());
    let mut o = StackOptions::new(clock.clone(), data_dir.clone(), token);
    o.control_listen = a.control_listen.clone();
    o.clickhouse = cfg.clickhouse.clone();
    let approve = a.approve.or(cfg.approve).unwrap_or_default();
    o.approval = approve.mode();
    if let Some(x) = &cfg.analyzer {
        x.validate().context("[analyzer]")?;
        o.analyzer = x.clone();
    }
    if let Some(x) = &cfg.incidents {
        o.command.incidents = x.clone();
    }
    if let Some(x) = &cfg.rules {
        o.command.rules = x.clone();
    }
    if let Some(x) = &cfg.alerts {
        o.alerts = x.clone();
    }
    if let Some(p) = &cfg.objectives {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        o.objectives = sla::Objectives::from_toml(&text)
            .with_context(|| format!("objectives {}", p.display()))?;
    }
    if let Some(v) = &cfg.sim {
        o.sim = payments_sim::SimConfig::from_toml(&toml::to_string(v)?).context("[sim]")?;
    }
    let tps = a.tps.or(cfg.tps).unwrap_or(200.0);
    if !(0.0..=20_000.0).contains(&tps) {
        anyhow::bail!("tps: must be in 0..=20000");
    }
    let stack = Arc::new(Stack::build(o).await?);

    let collector_l = tokio::net::TcpListener::bind(&a.collector_listen)
        .await
        .with_context(|| format!("--collector-listen {}", a.collector_listen))?;
    let dash_l = tokio::net::TcpListener::bind(&a.listen)
        .await
        .with_context(|| format!("--listen {}", a.listen))?;
    let backend = Arc::new(StackBackend {
        stack: stack.clone(),
    });
    let (dash, first_admin) = dashboard::Dashboard::new(
        dashboard::DashboardOptions {
            config: dash_cfg,
            audit_log: data_dir.join("dashboard-audit.jsonl"),
            ..Default::default()
        },
        backend,
        clock.clone(),
    )?;
    println!("dashboard: http://{}", dash_l.local_addr()?);
    println!("collector: http://{}", collector_l.local_addr()?);
    println!("control API: {}", stack.control.base());
    println!("approval: {}", approve.name());
    if let Some(f) = first_admin {
        println!("first admin login: user {} password {}", f.name, f.password);
    }
    if !dash.bundle_present() {
        println!(
            "note: no dashboard bundle; run scripts/build-dashboard (the API works regardless)"
        );
    }

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.changed().await;
    };
    let coll = tokio::spawn(collector::http::serve(
        collector_l,
        stack.pipeline.clone(),
        stopped(stop_rx.clone()),
    ));
    let dash_stop = stopped(stop_rx.clone());
    let dash_task = tokio::spawn(async move {
        axum::serve(dash_l, dash.router())
            .with_graceful_shutdown(dash_stop)
            .await
    });
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
    let looper = {
        let stack = stack.clone();
        let mut rx = stop_rx.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_millis(200));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    _ = every.tick() => stack.step().await,
                    _ = rx.changed() => break,
                }
            }
        })
    };

    shutdown_signal().await;
    eprintln!("stopping…");
    if let Some(l) = load {
        l.abort();
    }
    let _ = stop_tx.send(true);
    let _ = looper.await;
    stack.ingest().await;
    stack.pipeline.flush().await;
    let _ = coll.await;
    let _ = tokio::time::timeout(Duration::from_secs(5), dash_task).await;
    stack.shutdown();
    eprintln!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
