//! stack: the whole war room in one process. A [`Room`] is the war room for whatever sends
//! it digests (`warroom serve`): the collector `Pipeline` → the `Analyzer` (records,
//! sub-second) and the `Sla` (closed per-second rollups) → alert samples
//! (`command::Alerting`) and the `command::CommandLoop` (incidents, plan runs through the
//! executors it is given). A [`Stack`] is a room beside an in-process payments-sim (`warroom
//! up`, `warroom drill`): its digests into the collector through an in-process sink, the
//! built-in plans acting on its control API over real HTTP with a token, its
//! reconciliation after a heal.
//!
//! Owns: building and connecting those parts, the drill harness that scores the whole loop
//! against payments-sim's ground truth ([`drill`]), and the faults a drill injects
//! ([`faults`]). Must not: hold war-room policy (that is `command`'s) or figures
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
mod room;

pub use books::SimBooks;
pub use control::ControlClient;
pub use error::StackError;
pub use room::{Room, RoomOptions};

use analyzer::AnalyzerConfig;
use command::{CommandConfig, Situation};
use digest::SharedClock;
use feed::Feed;
use healer::executor::sim::SimExecutor;
use healer::{ApprovalMode, ExecutorKind, Executors};
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
    /// Also write every digest line and change event handed to the collector to this file
    /// (v1 lines, in the order they went in): a recording `warroom replay` reads.
    pub record_to: Option<PathBuf>,
    /// How long and how much the collector keeps.
    pub retention: collector::retention::Retention,
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
            record_to: None,
            retention: collector::retention::Retention::default(),
        }
    }
}

/// A room beside an in-process payments-sim, steered through its control API.
pub struct Stack {
    /// The war room itself.
    pub room: Arc<Room>,
    pub sim: Arc<Sim>,
    pub steering: Arc<Steering>,
    pub control: ControlClient,
    books: SimBooks,
    feed: Arc<Feed>,
    control_task: tokio::task::JoinHandle<()>,
}

impl Stack {
    /// Builds payments-sim and serves its control API, then the room beside it with the
    /// built-in plans acting through the control API.
    pub async fn build(o: StackOptions) -> Result<Stack, StackError> {
        std::fs::create_dir_all(&o.data_dir).map_err(|source| StackError::DataDir {
            path: o.data_dir.display().to_string(),
            source,
        })?;
        // payments-sim, steered; its change events go through the same feed.
        let feed = Arc::new(match &o.record_to {
            Some(path) => Feed::recording(path).map_err(|source| StackError::DataDir {
                path: path.display().to_string(),
                source,
            })?,
            None => Feed::default(),
        });
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
        let bank_refs: Vec<&str> = banks.iter().map(String::as_str).collect();
        let zone_refs: Vec<&str> = o.sim.zones.iter().map(String::as_str).collect();
        let executor = SimExecutor::new(control.base(), &o.control_token, &bank_refs, &zone_refs);
        let mut command = o.command;
        if o.throwaway {
            command.reconcile_settle_ms = 0;
        }
        let room = Room::build(RoomOptions {
            clock: o.clock,
            data_dir: o.data_dir,
            clickhouse: o.clickhouse,
            analyzer: o.analyzer,
            command,
            alerts: o.alerts,
            objectives: o.objectives,
            plans: healer::builtin_plans(),
            executors: Executors::default().with(ExecutorKind::Sim, Arc::new(executor)),
            approval: o.approval,
            heal: o.heal,
            throwaway: o.throwaway,
            retention: o.retention,
        })
        .await?;
        Ok(Stack {
            room: Arc::new(room),
            books: SimBooks::new(sim.clone()),
            sim,
            steering,
            control,
            feed,
            control_task,
        })
    }

    /// Moves the loop once at the clock's now: payments-sim's digests into the collector,
    /// then the room's step with the zones the control plane drained and the sim's books.
    pub async fn step(&self) {
        self.ingest().await;
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
        self.room.step(&situation).await;
    }

    /// Digests queued by payments-sim → collector → the room's subscribers.
    pub async fn ingest(&self) {
        self.feed.pump(&self.room.pipeline).await;
        self.room.ingest().await;
    }

    /// Digests the collector refused or the feed dropped, and bus messages the
    /// wiring missed (all should stay 0).
    pub async fn losses(&self) -> serde_json::Value {
        let s = digest::Sink::stats(&*self.feed);
        serde_json::json!({
            "feed_dropped": s.dropped,
            "feed_rejected": s.rejected,
            "bus_missed": self.room.bus_missed().await,
        })
    }

    /// Stops the control API and the simulator's servers.
    pub fn shutdown(&self) {
        self.control_task.abort();
        self.sim.shutdown();
    }
}
