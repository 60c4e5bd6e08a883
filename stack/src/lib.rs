//! stack: the whole war room in one process beside payments-sim, shared by `warroom up`
//! and `warroom drill`: payments-sim (in-process, steered by a `Steering` whose control
//! API is served on a loopback port with a token) → its digests into the collector
//! `Pipeline` (in-process sink) → the collector's subscriptions into the `Analyzer`
//! (records, sub-second) and the `Sla` (closed per-second rollups) → alert samples
//! (`command::Alerting`) and the `command::CommandLoop` (incidents, plan runs through the
//! healer acting on the control API over real HTTP, payments-sim's reconciliation after a
//! heal).
//!
//! Owns: building and connecting those parts ([`Stack`]), the drill harness that scores
//! the whole loop against payments-sim's ground truth ([`drill`]), and the faults a drill
//! injects ([`faults`]). Must not: hold war-room policy (that is `command`'s) or figures
//! (the analyzer's); depend on the dashboard.
//!
//! Time: every part reads the one `clock` given in [`StackOptions`]; nothing here sleeps.
//! [`Stack::step`] moves the whole loop once at the clock's now — `up` calls it every
//! 200 ms of wall time, a drill after each 100 ms step of a manual clock.

mod books;
mod control;
pub mod drill;
mod error;
pub mod faults;
mod feed;

pub use books::SimBooks;
pub use control::ControlClient;
pub use error::StackError;

use analyzer::{Analyzer, AnalyzerConfig, SharedAnalyzer};
use collector::store::clickhouse::{ClickHouseConfig, ClickHouseStore};
use collector::{EmbeddedConfig, EmbeddedStore, Pipeline, PipelineConfig, Store, Subscription};
use command::{Alerting, CommandConfig, CommandLoop, Situation};
use digest::{ChangeEvent, DigestRecord, SecondRollup, SharedClock};
use feed::Feed;
use healer::executor::sim::SimExecutor;
use healer::{ApprovalMode, AuditLog, Engine, EngineConfig, ExecutorKind, Executors};
use parking_lot::Mutex;
use payments_sim::control::Steering;
use payments_sim::{Sim, SimBuilder, SimConfig};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

/// How to build the stack.
pub struct StackOptions {
    /// The watchers' clock (collector, analyzer, SLA, alerts, healer, control plane).
    pub clock: SharedClock,
    /// The digests' clock (payments-sim's spans); usually the same clock.
    pub sim_clock: SharedClock,
    /// `wal/` and `store/` of the collector, the alert history, the healer's audit log.
    pub data_dir: PathBuf,
    /// Store records in ClickHouse at this URL instead of the embedded store.
    pub clickhouse: Option<String>,
    /// Where the control API listens (`127.0.0.1:0` picks a port).
    pub control_listen: String,
    pub control_token: String,
    pub analyzer: AnalyzerConfig,
    /// Incident lifetimes, the rules between diagnosis and plans.
    pub command: CommandConfig,
    pub alerts: alerts::ManagerConfig,
    pub objectives: sla::Objectives,
    /// Forces every plan's approval (`--approve auto`); `None` keeps each plan's own.
    pub approval: Option<ApprovalMode>,
    /// Start plan runs for incidents (off: watch and diagnose only).
    pub heal: bool,
    pub sim: SimConfig,
    /// Drills: the collector's WAL fsync off (throwaway data) and one
    /// reconciliation pass (no payment is in flight at a step's end).
    pub throwaway: bool,
}

impl StackOptions {
    /// Defaults for one process on a laptop: the given clock everywhere.
    pub fn new(clock: SharedClock, data_dir: PathBuf, control_token: String) -> Self {
        Self {
            sim_clock: clock.clone(),
            clock,
            data_dir,
            clickhouse: None,
            control_listen: "127.0.0.1:0".into(),
            control_token,
            analyzer: AnalyzerConfig::default(),
            command: CommandConfig {
                reconcile_settle_ms: 1_000,
                ..CommandConfig::default()
            },
            alerts: command::default_alerts_config(),
            objectives: sla::Objectives::payments_sim_defaults(),
            approval: None,
            heal: true,
            sim: SimConfig::default(),
            throwaway: false,
        }
    }
}

struct Subs {
    records: Subscription<Arc<[DigestRecord]>>,
    events: Subscription<Arc<[ChangeEvent]>>,
    rollups: Subscription<Arc<SecondRollup>>,
}

/// Everything, built and connected.
pub struct Stack {
    pub clock: SharedClock,
    pub sim: Arc<Sim>,
    pub steering: Arc<Steering>,
    pub control: ControlClient,
    pub pipeline: Pipeline,
    pub analyzer: SharedAnalyzer,
    pub sla: Arc<Mutex<sla::Sla>>,
    pub alerting: Alerting,
    /// Incidents, plan runs, the commander's levers.
    pub command: Arc<CommandLoop>,
    books: SimBooks,
    feed: Arc<Feed>,
    subs: tokio::sync::Mutex<Subs>,
    control_task: tokio::task::JoinHandle<()>,
}

impl Stack {
    /// Builds and connects every part; serves the control API.
    pub async fn build(o: StackOptions) -> Result<Stack, StackError> {
        std::fs::create_dir_all(&o.data_dir).map_err(|source| StackError::DataDir {
            path: o.data_dir.display().to_string(),
            source,
        })?;
        // payments-sim, steered; its change events go through the same feed.
        let feed = Arc::new(Feed::default());
        let steering = Arc::new(Steering::new(
            o.clock.clone(),
            Steering::events_to(feed.clone()),
        ));
        steering.set_builtin_versions(
            payments_sim::msg::Service::ALL
                .iter()
                .map(|s| (s.name().to_string(), o.sim.version.clone())),
        );
        let banks: Vec<String> = payments_sim::bank::builtin_specs()
            .map(|b| {
                b.into_iter()
                    .filter(|b| !b.sandbox)
                    .map(|b| b.name)
                    .collect()
            })
            .unwrap_or_default();
        let zones = o.sim.zones.clone();
        let sim = Arc::new(
            SimBuilder::new()
                .config(o.sim.clone())
                .guard(steering.clone())
                .sink(feed.clone())
                .clock(o.sim_clock.clone())
                .build()
                .await?,
        );
        let (addr, control_task) = payments_sim::control::api::serve(
            steering.clone(),
            &o.control_token,
            &o.control_listen,
        )
        .await?;
        let control = ControlClient::new(&format!("http://{addr}"), &o.control_token);

        // The collector.
        let mut pcfg = PipelineConfig {
            data_dir: o.data_dir.clone(),
            ..PipelineConfig::default()
        };
        if o.throwaway {
            pcfg.fsync = collector::FsyncPolicy::Never;
        }
        pcfg.bus_capacity = 4096;
        let store: Arc<dyn Store> = match &o.clickhouse {
            Some(url) => Arc::new(ClickHouseStore::open(ClickHouseConfig::new(url.clone())).await?),
            None => Arc::new(EmbeddedStore::open(
                &o.data_dir.join("store"),
                EmbeddedConfig::default(),
                o.clock.clone(),
            )?),
        };
        let pipeline = Pipeline::open(pcfg, store, o.clock.clone())?;
        let subs = Subs {
            records: pipeline.bus().subscribe_records(),
            events: pipeline.bus().subscribe_events(),
            rollups: pipeline.bus().subscribe_rollups(),
        };

        // The watchers.
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
        let bank_refs: Vec<&str> = banks.iter().map(String::as_str).collect();
        let zone_refs: Vec<&str> = zones.iter().map(String::as_str).collect();
        let executor = SimExecutor::new(control.base(), &o.control_token, &bank_refs, &zone_refs);
        let engine = Engine::new(
            o.clock.clone(),
            EngineConfig {
                approval_override: o.approval,
                ..EngineConfig::default()
            },
            healer::builtin_plans(),
            Executors::default().with(ExecutorKind::Sim, Arc::new(executor)),
            AuditLog::open(&o.data_dir.join("healer-audit.jsonl"))?,
        );
        let mut ccfg = o.command.clone();
        if o.throwaway {
            ccfg.reconcile_settle_ms = 0;
        }
        let command = Arc::new(CommandLoop::new(o.clock.clone(), ccfg, engine, o.heal));
        Ok(Stack {
            clock: o.clock,
            books: SimBooks::new(sim.clone()),
            sim,
            steering,
            control,
            pipeline,
            analyzer,
            sla,
            alerting,
            command,
            feed,
            subs: tokio::sync::Mutex::new(subs),
            control_task,
        })
    }

    /// Moves the loop once at the clock's now: digests into the collector,
    /// its output into the analyzer and SLA, a tick, alerts, the healer.
    pub async fn step(&self) {
        self.ingest().await;
        self.analyzer.lock().tick();
        self.alerting.step(&self.analyzer, &self.sla).await;
        let drained: HashSet<String> = self
            .steering
            .zones()
            .into_iter()
            .filter(|(_, share)| *share == 0)
            .map(|(zone, _)| zone)
            .collect();
        let situation = Situation {
            drained_zones: &drained,
            books: Some(&self.books),
        };
        self.command.step(&self.analyzer, &situation).await;
    }

    /// Digests queued by payments-sim → collector → subscribers.
    pub async fn ingest(&self) {
        self.feed.pump(&self.pipeline).await;
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

    /// Digests the collector refused or the feed dropped, and bus messages the
    /// wiring missed (all should stay 0).
    pub async fn losses(&self) -> serde_json::Value {
        let s = digest::Sink::stats(&*self.feed);
        let subs = self.subs.lock().await;
        serde_json::json!({
            "feed_dropped": s.dropped,
            "feed_rejected": s.rejected,
            "bus_missed": subs.records.missed() + subs.events.missed() + subs.rollups.missed(),
        })
    }

    /// Stops the control API and the simulator's servers.
    pub fn shutdown(&self) {
        self.control_task.abort();
        self.sim.shutdown();
    }
}
