//! [`Steering`]: the control plane and the faults of one payments-sim, in one
//! object composed of what it steers — the rules and breakers ([`RuleBook`]),
//! the degrade switches ([`Switches`]), the routing levers ([`Routing`]), the
//! versions ([`Releases`]) and the faults with their ground truth
//! ([`FaultSet`]) — and the change events they emit ([`Changes`]). Its
//! control methods (used by the HTTP API and by tests) run each change as one
//! change batch; its [`crate::guard::Guard`] impl (in `hot.rs`) is what the
//! services consult on every call.

use super::breaker::BreakerState;
use super::changes::{ChangeSink, Changes};
use super::configs::Configs;
use super::declines::{Declines, DeclinesBody};
use super::error::ControlError;
use super::releases::Releases;
use super::risk::{RiskBody, RiskDegrade, RiskView};
use super::routing::{
    ChannelBody, InstancesView, IsolateBody, LedgerDb, LedgerDbView, Pools, Routing, SwitchoverBody,
};
use super::rule_book::RuleBook;
use super::rules::RuleType;
use super::switches::Switches;
use crate::faults::{FaultSet, FaultSpec, GroundTruth};
use crate::guard::LedgerStrategy;
use digest::{Micros, SharedClock};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Control state, rules and faults of one payments-sim.
pub struct Steering {
    pub(super) clock: SharedClock,
    run_start_us: Micros,
    pub(super) changes: Changes,
    pub(super) rules: RuleBook,
    pub(super) switches: Switches,
    pub(super) risk: RiskDegrade,
    pub(super) declines: Declines,
    pub(super) routing: Routing,
    pub(super) releases: Releases,
    pub(super) configs: Configs,
    pub(super) faults: FaultSet,
}

impl std::fmt::Debug for Steering {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Steering")
            .field("run_start_us", &self.run_start_us)
            .finish_non_exhaustive()
    }
}

impl Steering {
    /// A steering with no rules and no faults; the run starts at the clock's now.
    pub fn new(clock: SharedClock, sink: ChangeSink) -> Self {
        Self {
            run_start_us: clock.now_us(),
            changes: Changes::new(clock.clone(), sink),
            clock,
            rules: RuleBook::default(),
            switches: Switches::default(),
            risk: RiskDegrade::default(),
            declines: Declines::default(),
            routing: Routing::default(),
            releases: Releases::default(),
            configs: Configs::default(),
            faults: FaultSet::default(),
        }
    }

    /// Change events into a digest sink (file, HTTP shipper to the collector, …).
    pub fn events_to(sink: Arc<dyn digest::Sink>) -> ChangeSink {
        Arc::new(move |e| sink.event(&e))
    }

    /// A sink that drops events (for runs that do not watch changes).
    pub fn discard_events() -> ChangeSink {
        Arc::new(|_| {})
    }

    /// Tells the control plane each service's built-in version, so bad releases
    /// and rollbacks name real versions.
    pub fn set_builtin_versions(&self, versions: impl IntoIterator<Item = (String, String)>) {
        let versions: Vec<(String, String)> = versions.into_iter().collect();
        self.configs
            .set_services(versions.iter().map(|(s, _)| s.clone()));
        self.releases.set_builtin(versions);
    }

    // ---- rules ---------------------------------------------------------------

    /// The rules of one type, as pushed (Sentinel JSON array).
    pub fn rules_json(&self, kind: RuleType) -> serde_json::Value {
        self.rules.json(kind)
    }

    /// Replaces the rules of one type from a Sentinel JSON array. Bad input
    /// changes nothing and names the field.
    pub fn put_rules_json(
        &self,
        kind: RuleType,
        body: &[u8],
        by: &str,
    ) -> Result<serde_json::Value, ControlError> {
        self.rules.put_json(kind, body, &self.changes.begin(by))
    }

    /// Breaker states by resource (`CLOSED`, `OPEN`, `HALF_OPEN`).
    pub fn breaker_states(&self) -> Vec<(String, BreakerState)> {
        self.rules.breaker_states()
    }

    // ---- switches ------------------------------------------------------------

    pub fn switches(&self) -> BTreeMap<String, bool> {
        self.switches.all()
    }

    /// Merges switches (`null` resets one to on).
    pub fn put_switches(
        &self,
        body: BTreeMap<String, Option<bool>>,
        by: &str,
    ) -> Result<BTreeMap<String, bool>, ControlError> {
        self.switches.put(body, &self.changes.begin(by))
    }

    /// The risk sync-check cap and the checks skipped under it.
    pub fn risk(&self) -> RiskView {
        self.risk.view()
    }

    /// Sets the cap below which payments skip the sync risk check (0: none does).
    pub fn put_risk(&self, body: RiskBody, by: &str) -> Result<RiskView, ControlError> {
        self.risk.put(body, &self.changes.begin(by))
    }

    /// The share of payments declined for business reasons (noise, not a fault).
    pub fn declines(&self) -> DeclinesBody {
        self.declines.view()
    }

    /// Sets the share of payments declined for business reasons (no change event: it is
    /// the customers' doing, not an operator's).
    pub fn put_declines(&self, body: DeclinesBody) -> Result<DeclinesBody, ControlError> {
        self.declines.put(body)
    }

    // ---- routing: channels, zones, ledger, instances, pools --------------------

    pub fn channels(&self) -> Vec<ChannelBody> {
        self.routing.channels.all()
    }

    /// Replaces the bank channel weights (`[]` restores the routing defaults).
    pub fn put_channels(
        &self,
        body: Vec<ChannelBody>,
        by: &str,
    ) -> Result<Vec<ChannelBody>, ControlError> {
        self.routing.channels.put(body, &self.changes.begin(by))
    }

    pub fn zones(&self) -> BTreeMap<String, u32> {
        self.routing.zones.all()
    }

    /// Replaces the zone split (`{}` restores the default split).
    pub fn put_zones(
        &self,
        body: BTreeMap<String, u32>,
        by: &str,
    ) -> Result<BTreeMap<String, u32>, ControlError> {
        self.routing.zones.put(body, &self.changes.begin(by))
    }

    pub fn ledger(&self) -> BTreeMap<String, LedgerStrategy> {
        self.routing.strategies.all()
    }

    /// Merges ledger strategies (`null` restores an account's default).
    pub fn put_ledger(
        &self,
        body: BTreeMap<String, Option<LedgerStrategy>>,
        by: &str,
    ) -> Result<BTreeMap<String, LedgerStrategy>, ControlError> {
        self.routing.strategies.put(body, &self.changes.begin(by))
    }

    /// Every instance with its service, zone and whether it is isolated.
    pub fn instances(&self) -> InstancesView {
        self.routing.rotation.view()
    }

    /// Replaces the isolated set (`[]` restores every instance). Unknown names
    /// are invalid; a set that leaves a service with no instance in rotation is
    /// a conflict. One change event per instance isolated or restored.
    pub fn put_instances(
        &self,
        body: IsolateBody,
        by: &str,
    ) -> Result<InstancesView, ControlError> {
        self.routing.rotation.put(body, &self.changes.begin(by))
    }

    /// The resized pools (`{}` when none is).
    pub fn pools(&self) -> BTreeMap<String, u32> {
        self.routing.pools.all()
    }

    /// Merges resizes: `N` (1..=4096) resizes the service's pool, `null`
    /// removes the resize. One change event per changed service.
    pub fn put_pools(
        &self,
        body: BTreeMap<String, Option<u32>>,
        by: &str,
    ) -> Result<BTreeMap<String, u32>, ControlError> {
        let resizes = Pools::check(&body)?;
        Ok(self.routing.pools.put(resizes, &self.changes.begin(by)))
    }

    pub fn ledger_db(&self) -> LedgerDbView {
        self.routing.ledger_db.view()
    }

    /// Switches the ledger over to `primary` (the same name is a no-op).
    pub fn put_ledger_db(
        &self,
        body: SwitchoverBody,
        by: &str,
    ) -> Result<LedgerDbView, ControlError> {
        let next = LedgerDb::check(&body)?;
        Ok(self
            .routing
            .ledger_db
            .switch_to(next, &self.changes.begin(by)))
    }

    // ---- versions ------------------------------------------------------------

    /// The version `service` runs now: a live bad release, else the control
    /// plane's, else the built-in one.
    pub fn current_version(&self, service: &str) -> String {
        self.releases.current(service, &self.faults, &self.clock)
    }

    /// Versions set through the control plane (and live bad releases).
    pub fn versions(&self) -> BTreeMap<String, String> {
        self.releases.all(&self.faults, self.clock.now_us())
    }

    /// Deploys versions (`null` returns a service to its built-in version). A
    /// version that ran before is a rollback; rolling back a live bad release
    /// removes its defect.
    pub fn put_versions(
        &self,
        body: BTreeMap<String, Option<String>>,
        by: &str,
    ) -> Result<BTreeMap<String, String>, ControlError> {
        Releases::check(&body)?;
        let batch = self.changes.begin(by);
        Ok(self.releases.put(body, &self.faults, &self.clock, &batch))
    }

    // ---- configs -------------------------------------------------------------

    /// The config in force per service (`cfg-1` built in; a config push puts a new one).
    pub fn configs(&self) -> BTreeMap<String, String> {
        self.configs.all()
    }

    /// Reverts services to their last good config (`{service: "previous"}` or
    /// `{service: null}`), ending the effect of their config pushes; one
    /// `rollback` change event per service reverted.
    pub fn put_configs(
        &self,
        body: BTreeMap<String, Option<String>>,
        by: &str,
    ) -> Result<BTreeMap<String, String>, ControlError> {
        self.configs.check(&body)?;
        let batch = self.changes.begin(by);
        Ok(self.configs.put(body, &self.faults, &batch))
    }

    // ---- faults --------------------------------------------------------------

    /// Adds faults timed from the run's start (the CLI's `--fault`).
    pub fn add_faults(&self, specs: Vec<FaultSpec>) -> Result<(), ControlError> {
        self.routing
            .with_binding(|b| self.faults.add(specs, self.run_start_us, b))?;
        Ok(())
    }

    /// Replaces the faults, timed from now (the API). No change event: faults
    /// do not announce themselves.
    pub fn put_faults(&self, specs: Vec<FaultSpec>) -> Result<Vec<GroundTruth>, ControlError> {
        let now = self.clock.now_us();
        self.routing
            .with_binding(|b| self.faults.replace(specs, now, now, b))?;
        Ok(self.faults())
    }

    /// The installed faults (active or scheduled).
    pub fn faults(&self) -> Vec<GroundTruth> {
        self.faults
            .snapshot()
            .iter()
            .map(|f| f.ground_truth(self.clock.now_us()))
            .collect()
    }

    /// Every fault of the run with its start, end and first affected call.
    pub fn ground_truth(&self) -> Vec<GroundTruth> {
        self.faults.ground_truth(self.clock.now_us())
    }

    /// Handles time-driven fault transitions now (a bad release's deploy and
    /// its end, a config push and its end). The payment path calls this too; a
    /// run may also call it each second.
    pub fn tick(&self) {
        let now = self.clock.now_us();
        self.releases.poll(&self.faults, now, &self.changes);
        self.configs.poll(&self.faults, now, &self.changes);
    }
}
