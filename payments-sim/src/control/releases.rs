//! [`Releases`]: the version each service runs — built in, deployed through the
//! control plane, or a live bad release — and the deploy history that tells a
//! rollback from a deploy. A bad release over time: its deploy when it starts
//! (a `deploy` change event by `ci`, the next minor version) and its end (a
//! `rollback` by `ci`) unless the control plane rolled it back first
//! ([`Releases::poll`], checked cheaply on the payment path).

use super::changes::{ChangeBatch, Changes};
use super::error::{check_name, ControlError};
use crate::faults::{FaultKind, FaultSet, Target};
use crate::hotpath::Flagged;
use digest::{ChangeKind, Micros, SharedClock};
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The version a service reports when nothing else is known.
const UNKNOWN_VERSION: &str = "1.0.0";

/// Versions of one payments-sim's services.
#[derive(Debug, Default)]
pub(crate) struct Releases {
    builtin: RwLock<HashMap<String, String>>,
    /// Every version each service ran (a deploy of one of them is a rollback).
    deployed: Mutex<HashMap<String, BTreeSet<String>>>,
    /// Versions set through the control plane.
    pinned: Flagged<HashMap<String, String>>,
}

impl Releases {
    /// Each service's built-in version, so bad releases and rollbacks name real versions.
    pub(crate) fn set_builtin(&self, versions: impl IntoIterator<Item = (String, String)>) {
        let mut b = self.builtin.write();
        let mut d = self.deployed.lock();
        for (s, v) in versions {
            d.entry(s.clone()).or_default().insert(v.clone());
            b.insert(s, v);
        }
    }

    fn builtin(&self, service: &str) -> String {
        self.builtin
            .read()
            .get(service)
            .cloned()
            .unwrap_or_else(|| UNKNOWN_VERSION.into())
    }

    fn note_deployed(&self, service: &str, version: &str) {
        self.deployed
            .lock()
            .entry(service.to_string())
            .or_default()
            .insert(version.to_string());
    }

    /// The version set through the control plane; one atomic load while none is.
    #[inline]
    pub(crate) fn pinned(&self, service: &str) -> Option<String> {
        self.pinned.read_set(|m| m.get(service).cloned()).flatten()
    }

    /// The version `service` runs now: a live bad release (which counts as
    /// touched), else the control plane's, else the built-in one.
    pub(crate) fn current(&self, service: &str, faults: &FaultSet, clock: &SharedClock) -> String {
        faults
            .bad_version(service, clock)
            .or_else(|| self.pinned(service))
            .unwrap_or_else(|| self.builtin(service))
    }

    /// Versions set through the control plane, and live bad releases.
    pub(crate) fn all(&self, faults: &FaultSet, now: Micros) -> BTreeMap<String, String> {
        let mut v: BTreeMap<String, String> = self
            .pinned
            .read(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
        for f in faults.snapshot().iter() {
            if f.kind == FaultKind::BadRelease && f.is_active(now) {
                if let (Some(bad), Target::Service { service, .. }) = (f.bad_version(), &f.target) {
                    v.insert(service.clone(), bad.to_string());
                }
            }
        }
        v
    }

    /// Checks a deploy body: service names and versions of 1..=64 bytes without spaces.
    pub(crate) fn check(body: &BTreeMap<String, Option<String>>) -> Result<(), ControlError> {
        for (k, v) in body {
            check_name(k, k)?;
            if let Some(v) = v {
                if v.is_empty()
                    || v.len() > 64
                    || v.chars().any(|c| c.is_whitespace() || c.is_control())
                {
                    return Err(ControlError::invalid(
                        k.clone(),
                        "a version is 1..=64 bytes with no spaces",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Deploys checked versions (`None` returns a service to its built-in
    /// version). A version that ran before is a rollback; rolling back a live
    /// bad release removes its defect. One change event per service.
    pub(crate) fn put(
        &self,
        body: BTreeMap<String, Option<String>>,
        faults: &FaultSet,
        clock: &SharedClock,
        batch: &ChangeBatch<'_>,
    ) -> BTreeMap<String, String> {
        let now = clock.now_us();
        for (service, v) in body {
            let before = self.current(&service, faults, clock);
            let target = v.clone().unwrap_or_else(|| self.builtin(&service));
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
            for f in faults.snapshot().iter() {
                if f.kind == FaultKind::BadRelease
                    && f.is_active(now)
                    && f.hits_service(&service, "")
                {
                    if let Some(bad) = f.bad_version() {
                        if bad != target {
                            f.roll_back();
                            kind = ChangeKind::Rollback;
                        }
                    }
                }
            }
            self.pinned.update(|m| match v {
                Some(v) => {
                    m.insert(service.clone(), v);
                }
                None => {
                    m.remove(&service);
                }
            });
            self.note_deployed(&service, &before);
            self.note_deployed(&service, &target);
            batch.emit(
                kind,
                &service,
                &target,
                format!("{service} {before} -> {target}"),
            );
        }
        self.all(faults, clock.now_us())
    }

    /// Handles bad releases' time-driven deploys and ends at `now`.
    pub(crate) fn poll(&self, faults: &FaultSet, now: Micros, changes: &Changes) {
        if !faults.has_releases() || !faults.with(|fs| fs.iter().any(|f| f.release_due(now))) {
            return;
        }
        for f in faults.snapshot().iter() {
            if f.kind != FaultKind::BadRelease || now < f.start_us {
                continue;
            }
            let Target::Service { service, .. } = &f.target else {
                continue;
            };
            if !f.is_announced() {
                if !f.claim_deploy(now) {
                    continue;
                }
                let batch = changes.begin("ci");
                let before = self
                    .pinned(service)
                    .unwrap_or_else(|| self.builtin(service));
                let bad = f
                    .spec
                    .version
                    .clone()
                    .unwrap_or_else(|| next_minor(&before));
                self.note_deployed(service, &before);
                let detail = format!("{service} {before} -> {bad}");
                f.deployed(before, bad.clone());
                batch.emit(ChangeKind::Deploy, service, &bad, detail);
            } else if f.claim_end(now) {
                let batch = changes.begin("ci");
                if let Some((before, bad)) = f.release() {
                    batch.emit(
                        ChangeKind::Rollback,
                        service,
                        before,
                        format!("{service} {bad} -> {before}"),
                    );
                }
            }
        }
    }
}

/// `1.4.2` → `1.5.0`; anything else gets `-next`.
fn next_minor(v: &str) -> String {
    let core = v.split(['-', '+']).next().unwrap_or(v);
    let parts: Vec<_> = core.split('.').collect();
    if parts.len() == 3 {
        if let (Ok(a), Ok(b)) = (parts[0].parse::<u64>(), parts[1].parse::<u64>()) {
            return format!("{a}.{}.0", b + 1);
        }
    }
    format!("{v}-next")
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_minor_bumps() {
        assert_eq!(super::next_minor("1.4.2"), "1.5.0");
        assert_eq!(super::next_minor("2.0.0-rc1"), "2.1.0");
        assert_eq!(super::next_minor("v7"), "v7-next");
    }
}
