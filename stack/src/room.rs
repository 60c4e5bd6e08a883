//! The war room without a simulator: the collector `Pipeline` (write-ahead buffer, store,
//! bus) → the `Analyzer` (records and change events, sub-second) and the `Sla` (closed
//! per-second rollups) → alert samples (`command::Alerting`) and the `command::CommandLoop`
//! (incidents, plan runs through the executors it is given). `warroom serve` runs a room
//! for whatever sends it digests; `warroom up` is a room beside payments-sim ([`Stack`]).
//!
//! [`Stack`]: crate::Stack

use crate::StackError;
use analyzer::{Analyzer, AnalyzerConfig, SharedAnalyzer};
use collector::{ClickHouseConfig, ClickHouseStore};
use collector::{EmbeddedConfig, EmbeddedStore, Pipeline, PipelineConfig, Store, Subscription};
use command::{Alerting, CommandConfig, CommandLoop, Situation};
use digest::{ChangeEvent, DigestRecord, SecondRollup, SharedClock};
use healer::{ApprovalMode, AuditLog, Engine, EngineConfig, Executors, Plan};
use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::Arc;

/// How to build a room.
pub struct RoomOptions {
    /// The one clock every part reads.
    pub clock: SharedClock,
    /// `wal/` and `store/` of the collector, the alert history, the healer's audit log.
    pub data_dir: PathBuf,
    /// Store records in ClickHouse at this URL instead of the embedded store.
    pub clickhouse: Option<String>,
    pub analyzer: AnalyzerConfig,
    /// Incident lifetimes, the rules between diagnosis and plans.
    pub command: CommandConfig,
    pub alerts: alerts::ManagerConfig,
    pub objectives: sla::Objectives,
    /// The contingency plans and the executors their steps act through.
    pub plans: Vec<Plan>,
    pub executors: Executors,
    /// Forces every plan's approval (`--approve auto`); `None` keeps each plan's own.
    pub approval: Option<ApprovalMode>,
    /// Start plan runs for incidents (off: watch and diagnose only).
    pub heal: bool,
    /// Drills: the collector's WAL fsync off (throwaway data).
    pub throwaway: bool,
    /// How long and how much the collector keeps (`--retention`, `--retention-bytes`).
    pub retention: collector::retention::Retention,
}

impl RoomOptions {
    /// Defaults for one process: no plans, no executors (watch and diagnose), the embedded
    /// store under `data_dir`.
    pub fn new(clock: SharedClock, data_dir: PathBuf) -> Self {
        Self {
            clock,
            data_dir,
            clickhouse: None,
            analyzer: AnalyzerConfig::default(),
            command: CommandConfig {
                reconcile_settle_ms: 1_000,
                ..CommandConfig::default()
            },
            alerts: command::default_alerts_config(),
            objectives: sla::Objectives::discovering(),
            plans: Vec::new(),
            executors: Executors::default(),
            approval: None,
            heal: true,
            throwaway: false,
            retention: collector::retention::Retention::default(),
        }
    }
}

struct Subs {
    records: Subscription<Arc<[DigestRecord]>>,
    events: Subscription<Arc<[ChangeEvent]>>,
    rollups: Subscription<Arc<SecondRollup>>,
}

/// The war room's parts, built and connected.
pub struct Room {
    pub clock: SharedClock,
    pub pipeline: Pipeline,
    pub analyzer: SharedAnalyzer,
    pub sla: Arc<Mutex<sla::Sla>>,
    pub alerting: Alerting,
    /// Incidents, plan runs, the commander's levers.
    pub command: Arc<CommandLoop>,
    subs: tokio::sync::Mutex<Subs>,
}

impl Room {
    /// Builds and connects every part.
    pub async fn build(o: RoomOptions) -> Result<Room, StackError> {
        std::fs::create_dir_all(&o.data_dir).map_err(|source| StackError::DataDir {
            path: o.data_dir.display().to_string(),
            source,
        })?;
        let mut pcfg = PipelineConfig {
            data_dir: o.data_dir.clone(),
            ..PipelineConfig::default()
        };
        if o.throwaway {
            pcfg.fsync = collector::FsyncPolicy::Never;
        }
        pcfg.bus_capacity = 4096;
        let mut scfg = EmbeddedConfig::default();
        o.retention.apply(&mut pcfg, &mut scfg);
        let store: Arc<dyn Store> = match &o.clickhouse {
            Some(url) => Arc::new(ClickHouseStore::open(ClickHouseConfig::new(url.clone())).await?),
            None => Arc::new(EmbeddedStore::open(
                &o.data_dir.join("store"),
                scfg,
                o.clock.clone(),
            )?),
        };
        let pipeline = Pipeline::open(pcfg, store, o.clock.clone())?;
        let subs = Subs {
            records: pipeline.bus().subscribe_records(),
            events: pipeline.bus().subscribe_events(),
            rollups: pipeline.bus().subscribe_rollups(),
        };
        let analyzer = Analyzer::new(o.analyzer.clone(), o.clock.clone())?.shared();
        let sla = Arc::new(Mutex::new(sla::Sla::new(
            o.objectives.clone(),
            o.clock.clone(),
        )));
        let alerting = Alerting::new(
            &o.alerts,
            o.clock.clone(),
            Some(&o.data_dir.join("alerts-history.jsonl")),
        )?;
        let engine = Engine::new(
            o.clock.clone(),
            EngineConfig {
                approval_override: o.approval,
                ..EngineConfig::default()
            },
            o.plans,
            o.executors,
            AuditLog::open(&o.data_dir.join("healer-audit.jsonl"))?,
        );
        let command = Arc::new(CommandLoop::new(o.clock.clone(), o.command, engine, o.heal));
        Ok(Room {
            clock: o.clock,
            pipeline,
            analyzer,
            sla,
            alerting,
            command,
            subs: tokio::sync::Mutex::new(subs),
        })
    }

    /// Moves the loop once at the clock's now: what the collector published into the
    /// analyzer and SLA, a tick, alerts, the command loop.
    pub async fn step(&self, situation: &Situation<'_>) {
        self.ingest().await;
        self.analyzer.lock().tick();
        self.alerting.step(&self.analyzer, &self.sla).await;
        self.command.step(&self.analyzer, situation).await;
    }

    /// What the collector published since the last call → analyzer and SLA.
    pub async fn ingest(&self) {
        self.pipeline.flush().await;
        let mut subs = self.subs.lock().await;
        while let Some(ev) = subs.events.try_recv() {
            let mut a = self.analyzer.lock();
            for e in ev.iter() {
                a.ingest_event(e);
            }
        }
        while let Some(batch) = subs.records.try_recv() {
            let mut a = self.analyzer.lock();
            for r in batch.iter() {
                a.ingest_raw(r);
            }
        }
        while let Some(r) = subs.rollups.try_recv() {
            self.sla.lock().ingest_rollup(&r);
        }
    }

    /// Bus messages the wiring missed (should stay 0).
    pub async fn bus_missed(&self) -> u64 {
        let subs = self.subs.lock().await;
        subs.records.missed() + subs.events.missed() + subs.rollups.missed()
    }
}
