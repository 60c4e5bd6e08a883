//! `warroom collect`: runs the collector alone — builds the store (embedded, or
//! ClickHouse with `--clickhouse`), opens the pipeline and serves its HTTP edge, guarded
//! by the `[collector]` table of `--config` (ingest tokens, TLS) when one is given.

use anyhow::Context;
use collector::{ClickHouseConfig, ClickHouseStore};
use collector::{EmbeddedConfig, EmbeddedStore, FsyncPolicy, Pipeline, PipelineConfig, Store};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct Args {
    /// Address of the HTTP listener (digest lines, OTLP, events, API, metrics).
    #[arg(long, default_value = "127.0.0.1:4318")]
    pub listen: SocketAddr,
    /// Directory for the write-ahead buffer and the embedded store.
    #[arg(long, default_value = "warroom-data")]
    pub data_dir: PathBuf,
    /// Store records in ClickHouse at this URL (e.g. http://127.0.0.1:8123) instead of the embedded store.
    #[arg(long)]
    pub clickhouse: Option<String>,
    /// Tail digest log files matching this glob (ours and SOFATracer's); repeatable.
    #[arg(long = "tail")]
    pub tail: Vec<String>,
    /// When the write-ahead buffer fsyncs: always, batch, batch:MS or never.
    #[arg(long, default_value = "batch")]
    pub fsync: FsyncPolicy,
    /// Records acknowledged but not yet stored, at most (beyond: 429).
    #[arg(long)]
    pub max_pending: Option<u64>,
    /// Records the embedded store keeps in memory (oldest leave memory first; they stay on disk).
    #[arg(long)]
    pub retention_records: Option<usize>,
    #[command(flatten)]
    pub retention: super::room_config::RetentionArgs,
    /// The room's TOML config (as `warroom serve --config`); only its `[collector]` table
    /// (ingest tokens, `tls_cert`, `tls_key`, `allow_unauthenticated`) is used here.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Listen beyond loopback even with no `[collector] tokens`.
    #[arg(long)]
    pub allow_unauthenticated_ingest: bool,
}

pub async fn run(a: Args) -> anyhow::Result<()> {
    let room = super::room_config::load_room(a.config.as_deref())?;
    let edge = room.edge(a.allow_unauthenticated_ingest)?;
    let retention = a.retention.resolve(&room)?;
    // Refused before anything is opened.
    edge.check_listen(a.listen)
        .with_context(|| format!("--listen {}", a.listen))?;
    let mut cfg = PipelineConfig {
        data_dir: a.data_dir.clone(),
        fsync: a.fsync,
        ..PipelineConfig::default()
    };
    if let Some(n) = a.max_pending {
        cfg.max_pending_records = n;
    }
    let mut sc = EmbeddedConfig::default();
    retention.apply(&mut cfg, &mut sc);
    if let Some(n) = a.retention_records {
        sc.max_records = n;
    }
    let clock: digest::SharedClock = Arc::new(digest::SystemClock);
    let store: Arc<dyn Store> = match &a.clickhouse {
        Some(url) => Arc::new(ClickHouseStore::open(ClickHouseConfig::new(url.clone())).await?),
        None => Arc::new(EmbeddedStore::open(
            &a.data_dir.join("store"),
            sc,
            clock.clone(),
        )?),
    };
    let pipeline = Pipeline::open(cfg, store, clock)?;
    if !a.tail.is_empty() {
        // Offsets are checkpointed only after the pipeline accepted a batch.
        let tcfg =
            collector::TailConfig::new(a.tail.clone(), a.data_dir.join("tail-checkpoints.json"));
        let tailer = collector::Tailer::open(tcfg, pipeline.clone())?;
        pipeline.watch_tailer(tailer.shared_stats());
        tokio::spawn(async move {
            if let Err(e) = tailer.run(std::future::pending::<()>()).await {
                eprintln!("tailer stopped: {e}");
            }
        });
    }
    let listener = tokio::net::TcpListener::bind(a.listen).await?;
    let addr = listener.local_addr()?;
    // The bound address (useful with port 0), for scripts and tests.
    println!("collector listening on {addr}");
    // On stderr: scripts read the one stdout line above.
    eprintln!("{}", super::serving::ingest_note(&edge, addr));
    collector::serve_edge(listener, pipeline, edge, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
