//! Instances and their capacity: which instances are in rotation ([`Rotation`]:
//! take `payment-engine-2` out) and connection-pool resizes ([`Pools`]: a pool
//! of N supersedes an exhausted one). Each setter validates the whole body
//! first (a refused body changes nothing) and emits one change event per
//! change. The payment path reads them with one atomic load when nothing is set.

use super::super::changes::ChangeBatch;
use super::super::error::ControlError;
use crate::hotpath::{Cache, Published};
use crate::instances::Instances;
use crate::msg::Service;
use digest::ChangeKind;
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

/// Largest pool a resize may ask for.
pub(crate) const MAX_POOL: u32 = 4096;

thread_local! {
    static ISOLATED: Cache = const { Cache::new(Vec::new()) };
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

/// The system's instances and the isolated ones among them.
#[derive(Debug)]
pub(crate) struct Rotation {
    table: RwLock<Arc<Instances>>,
    any_isolated: AtomicBool,
    /// Isolated instance names, in table order.
    isolated: Published<Vec<Box<str>>>,
}

impl Default for Rotation {
    fn default() -> Self {
        Self {
            table: RwLock::new(Arc::new(Instances::default())),
            any_isolated: AtomicBool::new(false),
            isolated: Published::new(Vec::new(), &ISOLATED),
        }
    }
}

impl Rotation {
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

    /// Every instance with its service, zone and whether it is isolated.
    pub(crate) fn view(&self) -> InstancesView {
        let table = self.table();
        let isolated = self.isolated.load();
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
    pub(crate) fn put(
        &self,
        body: IsolateBody,
        batch: &ChangeBatch<'_>,
    ) -> Result<InstancesView, ControlError> {
        let table = self.table();
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
        let before = self.isolated.load();
        if !next.is_empty() {
            self.any_isolated.store(true, Ordering::Release);
        }
        self.isolated.publish(next.clone());
        self.any_isolated.store(!next.is_empty(), Ordering::Release);
        for i in table.all() {
            let (was, is) = (before.contains(&i.name), next.contains(&i.name));
            if was != is {
                let verb = if is { "isolate" } else { "restore" };
                batch.emit(
                    ChangeKind::Config,
                    i.service.name(),
                    "",
                    format!("{verb} {}", i.name),
                );
            }
        }
        Ok(self.view())
    }
}

/// Resized connection pools per service.
#[derive(Debug, Default)]
pub(crate) struct Pools {
    /// Resized pool per service (`Service as usize`); 0 = not resized.
    sizes: [AtomicU32; Service::ALL.len()],
}

impl Pools {
    /// The resized pool of `service`, if any. One atomic load.
    #[inline]
    pub(crate) fn size(&self, service: &str) -> Option<u32> {
        let svc = Service::from_name(service)?;
        let n = self.sizes[svc as usize].load(Ordering::Acquire);
        (n > 0).then_some(n)
    }

    /// The resized pools (`{}` when none is).
    pub(crate) fn all(&self) -> BTreeMap<String, u32> {
        Service::ALL
            .iter()
            .filter_map(|s| Some((s.name().to_string(), self.size(s.name())?)))
            .collect()
    }

    /// Checks a resize body: `N` (1..=[`MAX_POOL`]) resizes, `null` removes the
    /// resize (0 here).
    pub(crate) fn check(
        body: &BTreeMap<String, Option<u32>>,
    ) -> Result<Vec<(Service, u32)>, ControlError> {
        let mut parsed = Vec::with_capacity(body.len());
        for (name, n) in body {
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
        Ok(parsed)
    }

    /// Applies checked resizes; one change event per changed service.
    pub(crate) fn put(
        &self,
        resizes: Vec<(Service, u32)>,
        batch: &ChangeBatch<'_>,
    ) -> BTreeMap<String, u32> {
        for (svc, n) in resizes {
            let before = self.sizes[svc as usize].swap(n, Ordering::AcqRel);
            if before != n {
                let detail = match n {
                    0 => format!("pool {} restored", svc.name()),
                    n => format!("pool {} resized to {n}", svc.name()),
                };
                batch.emit(ChangeKind::Config, svc.name(), "", detail);
            }
        }
        self.all()
    }
}
