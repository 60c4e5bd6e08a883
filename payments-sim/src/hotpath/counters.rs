//! Counters shared by the rules and the faults on the payment path: calls in
//! flight on a resource ([`InFlight`]) and refused calls whose exit is still to
//! come ([`Refusals`]). Lock-free; one atomic each.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Calls in flight on a resource (flow grade 0, pool exhaustion).
#[derive(Debug, Default)]
pub(crate) struct InFlight(AtomicI64);

impl InFlight {
    pub(crate) fn get(&self) -> i64 {
        self.0.load(Ordering::Acquire)
    }
    /// Enters if fewer than `limit` are in flight.
    pub(crate) fn try_enter(&self, limit: i64) -> bool {
        let mut v = self.0.load(Ordering::Acquire);
        loop {
            if v >= limit {
                return false;
            }
            match self
                .0
                .compare_exchange_weak(v, v + 1, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return true,
                Err(seen) => v = seen,
            }
        }
    }
    pub(crate) fn enter(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
    /// Leaves; never goes below zero (an exit whose enter was not counted).
    pub(crate) fn exit(&self) {
        let _ = self
            .0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
                (v > 0).then(|| v - 1)
            });
    }
}

/// Refused calls whose `exit` has not come yet. The services call `exit` for
/// every call, refused or not; a refused call must not count as a served one,
/// so each refusal cancels one later failed exit. (Failed exits are alike, so
/// which one is cancelled does not change any count.)
#[derive(Debug, Default)]
pub(crate) struct Refusals(AtomicU64);

impl Refusals {
    pub(crate) fn note(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
    /// Cancels one pending refusal, if any.
    pub(crate) fn take(&self) -> bool {
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| v.checked_sub(1))
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_flight_never_negative() {
        let f = InFlight::default();
        f.exit();
        assert_eq!(f.get(), 0);
        assert!(f.try_enter(1));
        assert!(!f.try_enter(1));
        f.exit();
        assert!(f.try_enter(1));
    }

    #[test]
    fn each_refusal_cancels_one_exit() {
        let r = Refusals::default();
        assert!(!r.take());
        r.note();
        r.note();
        assert!(r.take());
        assert!(r.take());
        assert!(!r.take());
    }
}
