//! [`Configs`]: the config each service runs (`cfg-1` built in, then `cfg-2`, …)
//! and the last good one. A config-push fault is an operator's push: at its
//! start a `config` change event by the operator ([`defaults::CONFIG_PUSHED_BY`])
//! puts a new config in force, and the service fails a share of its calls until
//! that config is reverted — through `PUT /control/configs` (`{service:
//! "previous"}` or `{service: null}`, a `rollback` change event by the caller) or
//! by the operator when the fault ends ([`Configs::poll`]). Config ids are not
//! software versions, so the change events carry an empty `version` and name
//! the ids in `detail`.

use super::changes::{ChangeBatch, Changes};
use super::error::{check_name, ControlError};
use crate::faults::{defaults, FaultKind, FaultSet, Target};
use digest::{ChangeKind, Micros};
use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet};

/// The value of `PUT /control/configs` that reverts (as does `null`).
pub(crate) const REVERT: &str = "previous";

fn id(n: u32) -> String {
    format!("cfg-{n}")
}

/// One service's configs: the one in force, the last good one, the latest id used.
#[derive(Debug, Clone, Copy)]
struct ServiceConfig {
    current: u32,
    last_good: u32,
    latest: u32,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            current: 1,
            last_good: 1,
            latest: 1,
        }
    }
}

/// Configs of one payments-sim's services.
#[derive(Debug, Default)]
pub(crate) struct Configs {
    known: Mutex<BTreeSet<String>>,
    state: Mutex<BTreeMap<String, ServiceConfig>>,
}

impl Configs {
    /// The services that exist (each runs `cfg-1` until a push).
    pub(crate) fn set_services(&self, services: impl IntoIterator<Item = String>) {
        self.known.lock().extend(services);
    }

    /// The config in force per service.
    pub(crate) fn all(&self) -> BTreeMap<String, String> {
        let state = self.state.lock();
        let mut out: BTreeMap<String, String> = self
            .known
            .lock()
            .iter()
            .map(|s| (s.clone(), id(1)))
            .collect();
        for (s, c) in state.iter() {
            out.insert(s.clone(), id(c.current));
        }
        out
    }

    /// A push: a new config in force for `service`; (before, pushed).
    fn push(&self, service: &str) -> (String, String) {
        let mut state = self.state.lock();
        let c = state.entry(service.to_string()).or_default();
        let before = c.current;
        c.latest += 1;
        c.current = c.latest;
        (id(before), id(c.current))
    }

    /// Back to the last good config; (from, to) if anything changed.
    fn revert(&self, service: &str) -> Option<(String, String)> {
        let mut state = self.state.lock();
        let c = state.get_mut(service)?;
        if c.current == c.last_good {
            return None;
        }
        let from = c.current;
        c.current = c.last_good;
        Some((id(from), id(c.current)))
    }

    /// Checks a body: known service names, each `"previous"` or `null`.
    pub(crate) fn check(
        &self,
        body: &BTreeMap<String, Option<String>>,
    ) -> Result<(), ControlError> {
        let known = self.known.lock();
        let state = self.state.lock();
        for (service, v) in body {
            check_name(service, service)?;
            if !known.is_empty() && !known.contains(service) && !state.contains_key(service) {
                return Err(ControlError::invalid(service.clone(), "unknown service"));
            }
            if v.as_deref().is_some_and(|v| v != REVERT) {
                return Err(ControlError::invalid(
                    service.clone(),
                    format!("{REVERT:?} or null reverts to the last good config; nothing else can be set"),
                ));
            }
        }
        Ok(())
    }

    /// Reverts each service of a checked body to its last good config, ending
    /// the effect of its live config pushes; one `rollback` change event per
    /// service that changed (a service already on its last good config is left).
    pub(crate) fn put(
        &self,
        body: BTreeMap<String, Option<String>>,
        faults: &FaultSet,
        batch: &ChangeBatch<'_>,
    ) -> BTreeMap<String, String> {
        for service in body.keys() {
            for f in faults.snapshot().iter() {
                // A push not yet made (scheduled later) is not reverted in advance.
                if f.kind == FaultKind::ConfigPush
                    && f.is_announced()
                    && f.hits_service(service, "")
                {
                    f.roll_back();
                }
            }
            if let Some((from, to)) = self.revert(service) {
                batch.emit(
                    ChangeKind::Rollback,
                    service,
                    "",
                    format!("{service} config {from} -> {to} (reverted)"),
                );
            }
        }
        self.all()
    }

    /// Handles config pushes' announcements and automatic ends at `now`.
    pub(crate) fn poll(&self, faults: &FaultSet, now: Micros, changes: &Changes) {
        if !faults.has_releases() || !faults.with(|fs| fs.iter().any(|f| f.release_due(now))) {
            return;
        }
        for f in faults.snapshot().iter() {
            if f.kind != FaultKind::ConfigPush || now < f.start_us {
                continue;
            }
            let Target::Service { service, .. } = &f.target else {
                continue;
            };
            if !f.is_announced() {
                if !f.claim_deploy(now) {
                    continue;
                }
                let batch = changes.begin(defaults::CONFIG_PUSHED_BY);
                let (before, pushed) = self.push(service);
                let detail = format!("{service} config {before} -> {pushed}");
                f.deployed(before, pushed);
                batch.emit(ChangeKind::Config, service, "", detail);
            } else if f.claim_end(now) {
                let batch = changes.begin(defaults::CONFIG_PUSHED_BY);
                if let Some((from, to)) = self.revert(service) {
                    batch.emit(
                        ChangeKind::Rollback,
                        service,
                        "",
                        format!("{service} config {from} -> {to} (the push ended)"),
                    );
                }
            }
        }
    }
}
