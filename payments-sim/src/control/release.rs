//! A bad release over time: its deploy when it starts (a `deploy` change event
//! by `ci`, the next minor version) and its end (a `rollback` by `ci`) unless
//! the control plane rolled it back first. Checked cheaply on the payment path
//! and by [`Steering::tick`].

use super::steering::{Steering, UNKNOWN_VERSION};
use crate::faults::{FaultKind, Target};
use digest::{ChangeKind, Micros};
use std::sync::atomic::Ordering;

impl Steering {
    pub(crate) fn poll(&self, now: Micros) {
        if !self.faults.has_releases() {
            return;
        }
        let due = self.faults.with(|fs| {
            fs.iter().any(|f| {
                f.kind == FaultKind::BadRelease
                    && now >= f.start_us
                    && if f.announced.load(Ordering::Acquire) {
                        !f.is_active(now)
                            && !f.rolled_back.load(Ordering::Acquire)
                            && !f.end_handled.load(Ordering::Acquire)
                    } else {
                        f.is_active(now)
                    }
            })
        });
        if !due {
            return;
        }
        for f in self.faults.snapshot().iter() {
            if f.kind != FaultKind::BadRelease || now < f.start_us {
                continue;
            }
            let Target::Service { service, .. } = &f.target else {
                continue;
            };
            if !f.announced.load(Ordering::Acquire) {
                if !f.is_active(now) || f.announced.swap(true, Ordering::AcqRel) {
                    continue;
                }
                let _w = self.writes.lock();
                let before = self
                    .state
                    .version(service)
                    .or_else(|| self.builtin_versions.read().get(service).cloned())
                    .unwrap_or_else(|| UNKNOWN_VERSION.into());
                let bad = f
                    .spec
                    .version
                    .clone()
                    .unwrap_or_else(|| next_minor(&before));
                self.deployed
                    .lock()
                    .entry(service.clone())
                    .or_default()
                    .insert(before.clone());
                let detail = format!("{service} {before} -> {bad}");
                let _ = f.release.set((before, bad.clone()));
                self.emit(ChangeKind::Deploy, service, &bad, detail, "ci");
            } else if !f.is_active(now)
                && !f.rolled_back.load(Ordering::Acquire)
                && !f.end_handled.swap(true, Ordering::AcqRel)
            {
                let _w = self.writes.lock();
                if let Some((before, bad)) = f.release.get() {
                    self.emit(
                        ChangeKind::Rollback,
                        service,
                        before,
                        format!("{service} {bad} -> {before}"),
                        "ci",
                    );
                }
            }
        }
    }
}

/// `1.4.2` → `1.5.0`; anything else gets `-next`.
pub(super) fn next_minor(v: &str) -> String {
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
    pub(super) fn next_minor_bumps() {
        assert_eq!(super::next_minor("1.4.2"), "1.5.0");
        assert_eq!(super::next_minor("2.0.0-rc1"), "2.1.0");
        assert_eq!(super::next_minor("v7"), "v7-next");
    }
}
