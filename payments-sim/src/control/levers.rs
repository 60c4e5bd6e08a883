//! The levers that route around a sick component: instance isolation (take
//! `payment-engine-2` out of rotation), connection-pool resizes (a pool of N
//! supersedes an exhausted one) and the ledger's database switchover (primary ↔
//! standby). Each setter validates the whole body first (a refused body changes
//! nothing) and emits one change event per change. The payment path reads them
//! with one atomic load when nothing is set.

use super::error::ControlError;
use super::snapshot::{self, Published};
use super::steering::{Steering, LEDGER_SERVICE};
use crate::faults::{Binding, LEDGER_DBS};
use crate::instances::Instances;
use crate::msg::Service;
use digest::ChangeKind;
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;

/// Largest pool a resize may ask for.
pub const MAX_POOL: u32 = 4096;

/// The levers' state.
#[derive(Debug)]
pub(crate) struct Levers {
    table: RwLock<Arc<Instances>>,
    any_isolated: AtomicBool,
    /// Isolated instance names, in table order.
    isolated: Published<Vec<Box<str>>>,
    /// Resized pool per service (`Service as usize`); 0 = not resized.
    pools: [AtomicU32; Service::ALL.len()],
    /// Index of the primary in [`LEDGER_DBS`].
    primary: AtomicUsize,
}

impl Default for Levers {
    fn default() -> Self {
        Self {
            table: RwLock::new(Arc::new(Instances::default())),
            any_isolated: AtomicBool::new(false),
            isolated: Published::new(Vec::new(), &snapshot::LEVERS),
            pools: Default::default(),
            primary: AtomicUsize::new(0),
        }
    }
}

impl Levers {
    pub(crate) fn table(&self) -> Arc<Instances> {
        self.table.read().clone()
    }

    /// Takes the system's table; isolated names it does not know are dropped.
    pub(crate) fn attach(&self, table: &Arc<Instances>) {
        *self.table.write() = table.clone();
        let kept: Vec<Box<str>> = self
            .isolated
            .load()
            .iter()
            .filter(|n| table.find(n).is_some())
            .cloned()
            .collect();
        self.any_isolated.store(!kept.is_empty(), Ordering::Release);
        self.isolated.publish(kept);
    }

    /// Is `instance` out of rotation? One atomic load when none is.
    #[inline]
    pub(crate) fn is_isolated(&self, instance: &str) -> bool {
        self.any_isolated.load(Ordering::Acquire)
            && self.isolated.with(|v| v.iter().any(|n| **n == *instance))
    }

    /// The resized pool of `service`, if any. One atomic load.
    #[inline]
    pub(crate) fn pool(&self, service: &str) -> Option<u32> {
        let svc = Service::from_name(service)?;
        let n = self.pools[svc as usize].load(Ordering::Acquire);
        (n > 0).then_some(n)
    }

    pub(crate) fn primary_db(&self) -> &'static str {
        LEDGER_DBS[self.primary.load(Ordering::Acquire) % LEDGER_DBS.len()]
    }
}

/// One instance as `GET /control/instances` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceView {
    pub service: String,
    pub zone: String,
    pub isolated: bool,
}

/// `GET /control/instances`: every instance, and the isolated ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstancesView {
    pub instances: BTreeMap<String, InstanceView>,
    pub isolated: Vec<String>,
}

/// `PUT /control/instances`: the isolated set, replaced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IsolateBody {
    pub isolated: Vec<String>,
}

/// `GET`/`PUT /control/ledger-db`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerDbView {
    pub primary: String,
    pub standby: String,
}

/// `PUT /control/ledger-db`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchoverBody {
    pub primary: String,
}

impl Steering {
    /// What faults are bound against now (instances, the ledger's primary).
    pub(crate) fn with_binding<R>(&self, f: impl FnOnce(&Binding<'_>) -> R) -> R {
        let table = self.levers.table();
        f(&Binding {
            instances: &table,
            primary_db: self.levers.primary_db(),
        })
    }

    // ---- instances -----------------------------------------------------------

    /// Every instance with its service, zone and whether it is isolated.
    pub fn instances(&self) -> InstancesView {
        let table = self.levers.table();
        let isolated = self.levers.isolated.load();
        let mut out = BTreeMap::new();
        for i in table.all() {
            out.insert(
                i.name.to_string(),
                InstanceView {
                    service: i.service.name().to_string(),
                    zone: i.zone.to_string(),
                    isolated: isolated.contains(&i.name),
                },
            );
        }
        InstancesView {
            instances: out,
            isolated: isolated.iter().map(|n| n.to_string()).collect(),
        }
    }

    /// Replaces the isolated set (`[]` restores every instance). Unknown names
    /// are invalid; a set that leaves a service with no instance in rotation is
    /// a conflict. One change event per instance isolated or restored.
    pub fn put_instances(
        &self,
        body: IsolateBody,
        by: &str,
    ) -> Result<InstancesView, ControlError> {
        let _w = self.writes.lock();
        let table = self.levers.table();
        for (i, name) in body.isolated.iter().enumerate() {
            if table.find(name).is_none() {
                return Err(ControlError::invalid(
                    format!("isolated[{i}]"),
                    format!("unknown instance {name:?} (see GET /control/instances)"),
                ));
            }
        }
        let next: Vec<Box<str>> = table
            .all()
            .filter(|i| body.isolated.iter().any(|n| **n == *i.name))
            .map(|i| i.name.clone())
            .collect();
        for svc in Service::ALL {
            let all = table.of(svc);
            if all.iter().all(|i| next.contains(&i.name)) {
                return Err(ControlError::conflict(
                    "isolated",
                    format!(
                        "would leave {} with no instance in rotation (it runs {})",
                        svc.name(),
                        all.len()
                    ),
                ));
            }
        }
        let before = self.levers.isolated.load();
        if !next.is_empty() {
            self.levers.any_isolated.store(true, Ordering::Release);
        }
        self.levers.isolated.publish(next.clone());
        self.levers
            .any_isolated
            .store(!next.is_empty(), Ordering::Release);
        for i in table.all() {
            let (was, is) = (before.contains(&i.name), next.contains(&i.name));
            if was != is {
                let verb = if is { "isolate" } else { "restore" };
                self.emit(
                    ChangeKind::Config,
                    i.service.name(),
                    "",
                    format!("{verb} {}", i.name),
                    by,
                );
            }
        }
        Ok(self.instances())
    }

    // ---- pools ---------------------------------------------------------------

    /// The resized pools (`{}` when none is).
    pub fn pools(&self) -> BTreeMap<String, u32> {
        Service::ALL
            .iter()
            .filter_map(|s| Some((s.name().to_string(), self.levers.pool(s.name())?)))
            .collect()
    }

    /// Merges resizes: `N` (1..=4096) resizes the service's pool, `null`
    /// removes the resize. One change event per changed service.
    pub fn put_pools(
        &self,
        body: BTreeMap<String, Option<u32>>,
        by: &str,
    ) -> Result<BTreeMap<String, u32>, ControlError> {
        let mut parsed = Vec::with_capacity(body.len());
        for (name, n) in &body {
            let svc = Service::from_name(name).ok_or_else(|| {
                let all: Vec<_> = Service::ALL.iter().map(|s| s.name()).collect();
                ControlError::invalid(
                    name.clone(),
                    format!("unknown service (expected one of {})", all.join(", ")),
                )
            })?;
            if n.is_some_and(|n| !(1..=MAX_POOL).contains(&n)) {
                return Err(ControlError::invalid(
                    name.clone(),
                    format!("a pool is 1..={MAX_POOL} connections (null removes the resize)"),
                ));
            }
            parsed.push((svc, n.unwrap_or(0)));
        }
        let _w = self.writes.lock();
        for (svc, n) in parsed {
            let before = self.levers.pools[svc as usize].swap(n, Ordering::AcqRel);
            if before != n {
                let detail = match n {
                    0 => format!("pool {} restored", svc.name()),
                    n => format!("pool {} resized to {n}", svc.name()),
                };
                self.emit(ChangeKind::Config, svc.name(), "", detail, by);
            }
        }
        Ok(self.pools())
    }

    // ---- ledger database -----------------------------------------------------

    pub fn ledger_db(&self) -> LedgerDbView {
        let p = self.levers.primary.load(Ordering::Acquire) % LEDGER_DBS.len();
        LedgerDbView {
            primary: LEDGER_DBS[p].to_string(),
            standby: LEDGER_DBS[(p + 1) % LEDGER_DBS.len()].to_string(),
        }
    }

    /// Switches the ledger over to `primary` (the same name is a no-op).
    pub fn put_ledger_db(
        &self,
        body: SwitchoverBody,
        by: &str,
    ) -> Result<LedgerDbView, ControlError> {
        let Some(next) = LEDGER_DBS.iter().position(|d| *d == body.primary) else {
            return Err(ControlError::invalid(
                "primary",
                format!(
                    "unknown database {:?} (expected {})",
                    body.primary,
                    LEDGER_DBS.join(" or ")
                ),
            ));
        };
        let _w = self.writes.lock();
        let before = self.levers.primary.swap(next, Ordering::AcqRel);
        if before != next {
            self.emit(
                ChangeKind::Config,
                LEDGER_SERVICE,
                "",
                format!(
                    "ledger switchover {} -> {}",
                    LEDGER_DBS[before % LEDGER_DBS.len()],
                    LEDGER_DBS[next]
                ),
                by,
            );
        }
        Ok(self.ledger_db())
    }
}
