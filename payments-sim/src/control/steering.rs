//! [`Steering`]: the control plane and the faults of one payments-sim, in one
//! object. Its control methods (used by the HTTP API and by tests) validate,
//! apply and emit a change event per change; its [`crate::guard::Guard`] impl
//! (in `hot.rs`) is what the services consult on every call.

use super::error::{parse_json, ControlError};
use super::limits::Compiled;
use super::rules::{validate_degrade, validate_flow, validate_param, RuleSet, RuleType};
use super::snapshot::{self, Published};
use super::state::{ChannelBody, ControlState};
use crate::faults::{FaultKind, FaultSet, FaultSpec, GroundTruth};
use crate::guard::LedgerStrategy;
use digest::{ChangeEvent, ChangeKind, Micros, SharedClock};
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Where change events go (the digest sink, a collector client, a test's Vec).
pub type ChangeSink = Arc<dyn Fn(ChangeEvent) + Send + Sync>;

/// The service a change event names for bank channel weights.
pub const CHANNEL_SERVICE: &str = "bank-gateway";
/// The service a change event names for ledger strategies.
pub const LEDGER_SERVICE: &str = "accounting";
/// The version a service reports when nothing else is known.
pub const UNKNOWN_VERSION: &str = "1.0.0";

/// Control state, rules and faults of one payments-sim.
pub struct Steering {
    pub(crate) clock: SharedClock,
    run_start_us: Micros,
    sink: ChangeSink,
    rules: RwLock<RuleSet>,
    pub(crate) compiled: Published<Compiled>,
    pub(crate) has_rules: AtomicBool,
    pub(crate) state: ControlState,
    pub(crate) faults: FaultSet,
    /// Instance isolation, pool resizes, the ledger's primary database.
    pub(crate) levers: super::levers::Levers,
    pub(super) builtin_versions: RwLock<HashMap<String, String>>,
    pub(super) deployed: Mutex<HashMap<String, BTreeSet<String>>>,
    /// Serialises control changes so events come out in the order applied.
    pub(super) writes: Mutex<()>,
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
        let run_start_us = clock.now_us();
        Self {
            clock,
            run_start_us,
            sink,
            rules: RwLock::new(RuleSet::default()),
            compiled: Published::new(Compiled::default(), &snapshot::RULES),
            has_rules: AtomicBool::new(false),
            state: ControlState::default(),
            faults: FaultSet::new(),
            levers: Default::default(),
            builtin_versions: RwLock::new(HashMap::new()),
            deployed: Mutex::new(HashMap::new()),
            writes: Mutex::new(()),
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

    pub fn run_start_us(&self) -> Micros {
        self.run_start_us
    }

    /// Tells the control plane each service's built-in version, so bad releases
    /// and rollbacks name real versions.
    pub fn set_builtin_versions(&self, versions: impl IntoIterator<Item = (String, String)>) {
        let mut b = self.builtin_versions.write();
        let mut d = self.deployed.lock();
        for (s, v) in versions {
            d.entry(s.clone()).or_default().insert(v.clone());
            b.insert(s, v);
        }
    }

    pub(crate) fn emit(
        &self,
        event: ChangeKind,
        service: &str,
        version: &str,
        detail: String,
        by: &str,
    ) {
        (self.sink)(ChangeEvent {
            time_us: self.clock.now_us(),
            event,
            service: service.to_string(),
            version: version.to_string(),
            detail,
            by: by.to_string(),
        });
    }

    // ---- rules ---------------------------------------------------------------

    /// The rules of one type, as pushed (Sentinel JSON array).
    pub fn rules_json(&self, kind: RuleType) -> serde_json::Value {
        let r = self.rules.read();
        match kind {
            RuleType::Flow => serde_json::to_value(&r.flow),
            RuleType::Param => serde_json::to_value(&r.param),
            RuleType::Degrade => serde_json::to_value(&r.degrade),
        }
        .unwrap_or(serde_json::Value::Null)
    }

    /// Replaces the rules of one type from a Sentinel JSON array. Bad input
    /// changes nothing and names the field.
    pub fn put_rules_json(
        &self,
        kind: RuleType,
        body: &[u8],
        by: &str,
    ) -> Result<serde_json::Value, ControlError> {
        let _w = self.writes.lock();
        let mut next = self.rules.read().clone();
        let (old_res, new_res): (Vec<String>, Vec<String>) = match kind {
            RuleType::Flow => {
                let v: Vec<super::rules::FlowRule> = parse_json(body)?;
                validate_flow(&v)?;
                let old = next.flow.iter().map(|r| r.resource.clone()).collect();
                next.flow = v;
                (old, next.flow.iter().map(|r| r.resource.clone()).collect())
            }
            RuleType::Param => {
                let v: Vec<super::rules::ParamFlowRule> = parse_json(body)?;
                validate_param(&v)?;
                let old = next.param.iter().map(|r| r.resource.clone()).collect();
                next.param = v;
                (old, next.param.iter().map(|r| r.resource.clone()).collect())
            }
            RuleType::Degrade => {
                let v: Vec<super::rules::DegradeRule> = parse_json(body)?;
                validate_degrade(&v)?;
                let old = next.degrade.iter().map(|r| r.resource.clone()).collect();
                next.degrade = v;
                (
                    old,
                    next.degrade.iter().map(|r| r.resource.clone()).collect(),
                )
            }
        };
        let compiled = Compiled::build(&next.flow, &next.param, &next.degrade);
        self.has_rules
            .store(!compiled.is_empty(), Ordering::Release);
        self.compiled.publish(compiled);
        *self.rules.write() = next;
        let services: BTreeSet<&str> = old_res
            .iter()
            .chain(new_res.iter())
            .map(|r| super::rules::split_resource(r).0)
            .collect();
        let detail = format!(
            "{} rules: {} rule(s) on [{}]",
            kind.as_str(),
            new_res.len(),
            new_res.join(", ")
        );
        if services.is_empty() {
            self.emit(ChangeKind::Rule, "*", "", detail.clone(), by);
        }
        for s in services {
            let svc = if s == "bank" { CHANNEL_SERVICE } else { s };
            self.emit(ChangeKind::Rule, svc, "", detail.clone(), by);
        }
        Ok(self.rules_json(kind))
    }

    /// Breaker states by resource (`CLOSED`, `OPEN`, `HALF_OPEN`).
    pub fn breaker_states(&self) -> Vec<(String, super::breaker::BreakerState)> {
        self.compiled
            .load()
            .breakers
            .iter()
            .map(|(r, b)| (r.clone(), b.state()))
            .collect()
    }

    // ---- switches, channels, zones, ledger -----------------------------------

    pub fn switches(&self) -> BTreeMap<String, bool> {
        self.state.switches()
    }

    pub fn put_switches(
        &self,
        body: BTreeMap<String, Option<bool>>,
        by: &str,
    ) -> Result<BTreeMap<String, bool>, ControlError> {
        let _w = self.writes.lock();
        for (feature, on) in self.state.put_switches(body)? {
            let service = feature.split('.').next().unwrap_or(&feature).to_string();
            let state = match on {
                Some(true) => "on",
                Some(false) => "off",
                None => "default (on)",
            };
            self.emit(
                ChangeKind::Switch,
                &service,
                "",
                format!("switch {feature} {state}"),
                by,
            );
        }
        Ok(self.state.switches())
    }

    pub fn channels(&self) -> Vec<ChannelBody> {
        self.state.channels()
    }

    pub fn put_channels(
        &self,
        body: Vec<ChannelBody>,
        by: &str,
    ) -> Result<Vec<ChannelBody>, ControlError> {
        let _w = self.writes.lock();
        let detail = if body.is_empty() {
            "channel weights: routing defaults".to_string()
        } else {
            let parts: Vec<_> = body
                .iter()
                .map(|c| format!("{}={}", c.bank, c.weight))
                .collect();
            format!("channel weights: {}", parts.join(", "))
        };
        self.state.put_channels(body)?;
        self.emit(ChangeKind::Config, CHANNEL_SERVICE, "", detail, by);
        Ok(self.state.channels())
    }

    pub fn zones(&self) -> BTreeMap<String, u32> {
        self.state.zones()
    }

    pub fn put_zones(
        &self,
        body: BTreeMap<String, u32>,
        by: &str,
    ) -> Result<BTreeMap<String, u32>, ControlError> {
        let _w = self.writes.lock();
        let parts: Vec<_> = body.iter().map(|(z, w)| format!("{z}={w}%")).collect();
        self.state.put_zones(body)?;
        let detail = if parts.is_empty() {
            "zone split: default".into()
        } else {
            format!("zone split: {}", parts.join(", "))
        };
        self.emit(ChangeKind::Config, "*", "", detail, by);
        Ok(self.state.zones())
    }

    pub fn ledger(&self) -> BTreeMap<String, LedgerStrategy> {
        self.state.ledger()
    }

    pub fn put_ledger(
        &self,
        body: BTreeMap<String, Option<LedgerStrategy>>,
        by: &str,
    ) -> Result<BTreeMap<String, LedgerStrategy>, ControlError> {
        let _w = self.writes.lock();
        for (account, s) in self.state.put_ledger(body)? {
            let s = s
                .map(|s| format!("{s:?}").to_lowercase())
                .unwrap_or_else(|| "default".into());
            self.emit(
                ChangeKind::Config,
                LEDGER_SERVICE,
                "",
                format!("ledger strategy {account} = {s}"),
                by,
            );
        }
        Ok(self.state.ledger())
    }

    // ---- versions ------------------------------------------------------------

    /// The version `service` runs now: a live bad release, else the control
    /// plane's, else the built-in one.
    pub fn current_version(&self, service: &str) -> String {
        crate::guard::Guard::version(self, service)
            .or_else(|| self.builtin_versions.read().get(service).cloned())
            .unwrap_or_else(|| UNKNOWN_VERSION.to_string())
    }

    /// Versions set through the control plane (and live bad releases).
    pub fn versions(&self) -> BTreeMap<String, String> {
        let mut v = self.state.versions();
        let now = self.clock.now_us();
        for f in self.faults.snapshot().iter() {
            if f.kind == FaultKind::BadRelease && f.is_active(now) {
                if let (Some(bad), crate::faults::Target::Service { service, .. }) =
                    (f.bad_version(), &f.target)
                {
                    v.insert(service.clone(), bad.to_string());
                }
            }
        }
        v
    }

    /// Deploys versions (`null` returns a service to its built-in version). A
    /// version that ran before is a rollback; rolling back a live bad release
    /// removes its defect.
    pub fn put_versions(
        &self,
        body: BTreeMap<String, Option<String>>,
        by: &str,
    ) -> Result<BTreeMap<String, String>, ControlError> {
        ControlState::check_versions(&body)?;
        let _w = self.writes.lock();
        let now = self.clock.now_us();
        for (service, v) in body {
            let before = self.current_version(&service);
            let target = v.clone().unwrap_or_else(|| {
                self.builtin_versions
                    .read()
                    .get(&service)
                    .cloned()
                    .unwrap_or_else(|| UNKNOWN_VERSION.into())
            });
            let mut kind = if self
                .deployed
                .lock()
                .get(&service)
                .is_some_and(|d| d.contains(&target))
            {
                ChangeKind::Rollback
            } else {
                ChangeKind::Deploy
            };
            for f in self.faults.snapshot().iter() {
                if f.kind == FaultKind::BadRelease
                    && f.is_active(now)
                    && f.hits_service(&service, "")
                {
                    if let Some(bad) = f.bad_version() {
                        if bad != target {
                            f.rolled_back.store(true, Ordering::Release);
                            kind = ChangeKind::Rollback;
                        }
                    }
                }
            }
            self.state.set_version(&service, v);
            self.deployed
                .lock()
                .entry(service.clone())
                .or_default()
                .insert(before.clone());
            self.deployed
                .lock()
                .entry(service.clone())
                .or_default()
                .insert(target.clone());
            self.emit(
                kind,
                &service,
                &target,
                format!("{service} {before} -> {target}"),
                by,
            );
        }
        Ok(self.versions())
    }

    // ---- faults --------------------------------------------------------------

    /// Adds faults timed from the run's start (the CLI's `--fault`).
    pub fn add_faults(&self, specs: Vec<FaultSpec>) -> Result<(), ControlError> {
        self.with_binding(|b| self.faults.add(specs, self.run_start_us, b))?;
        Ok(())
    }

    /// Replaces the faults, timed from now (the API). No change event: faults
    /// do not announce themselves.
    pub fn put_faults(&self, specs: Vec<FaultSpec>) -> Result<Vec<GroundTruth>, ControlError> {
        let now = self.clock.now_us();
        self.with_binding(|b| self.faults.replace(specs, now, now, b))?;
        Ok(self.faults())
    }

    /// The installed faults (active or scheduled).
    pub fn faults(&self) -> Vec<GroundTruth> {
        self.faults
            .snapshot()
            .iter()
            .map(|f| f.ground_truth())
            .collect()
    }

    /// Every fault of the run with its start, end and first affected call.
    pub fn ground_truth(&self) -> Vec<GroundTruth> {
        self.faults.ground_truth()
    }

    /// Handles time-driven fault transitions now (a bad release's deploy and
    /// its end). The payment path calls this too; a run may also call it each second.
    pub fn tick(&self) {
        self.poll(self.clock.now_us());
    }
}
