//! The routing engine: picks a bank channel for a card payment by weight among
//! healthy channels. Weights come from the guard (control plane) when it has
//! them, else from the banks' data. Health is a score per bank (0..=1000) that
//! system errors and lost callbacks pull down and successes restore; a bank under
//! 300 keeps only a probe share (1/64 of its weight, at least 1) so that it can
//! show it is back, like a half-open breaker — without probes a bank knocked out
//! once would never earn its health back. A channel the control plane set to
//! weight 0 gets nothing. Shadow traffic is
//! routed to sandbox banks only, real traffic never to them.

use super::VirtualBank;
use crate::ctx::rand_below;
use crate::guard::Guard;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

const UNHEALTHY: u32 = 300;
/// An unhealthy channel keeps 1/PROBE_DIVISOR of its weight as probe traffic.
const PROBE_DIVISOR: u32 = 64;

pub(crate) struct Router {
    pub banks: Vec<Arc<VirtualBank>>,
    health: Vec<AtomicU32>,
}

impl Router {
    pub(crate) fn new(banks: Vec<Arc<VirtualBank>>) -> Self {
        let health = banks.iter().map(|_| AtomicU32::new(1000)).collect();
        Self { banks, health }
    }

    /// Index of the bank to use, or `None` if no channel is open.
    pub(crate) fn choose(&self, guard: &dyn Guard, shadow: bool) -> Option<usize> {
        let override_w = guard.channel_weights();
        let weight = |i: usize| -> u32 {
            let b = &self.banks[i];
            if b.spec.sandbox != shadow {
                return 0;
            }
            match &override_w {
                Some(ws) => ws
                    .iter()
                    .find(|w| w.bank == b.spec.name)
                    .map(|w| w.weight)
                    .unwrap_or(0),
                None => b.spec.weight,
            }
        };
        let n = self.banks.len();
        let healthy = |i: usize| self.health[i].load(Ordering::Relaxed) >= UNHEALTHY;
        let mut ws: Vec<u32> = (0..n)
            .map(|i| {
                let w = weight(i);
                if healthy(i) {
                    w
                } else {
                    (w / PROBE_DIVISOR).max(u32::from(w > 0))
                }
            })
            .collect();
        if ws.iter().all(|w| *w == 0) {
            ws = (0..n).map(weight).collect();
        }
        let total: u64 = ws.iter().map(|w| *w as u64).sum();
        if total == 0 {
            return None;
        }
        let mut r = rand_below(total);
        for (i, w) in ws.iter().enumerate() {
            if r < *w as u64 {
                return Some(i);
            }
            r -= *w as u64;
        }
        None
    }

    /// Feeds one outcome into the bank's health score.
    pub(crate) fn observe(&self, i: usize, system_failure: bool) {
        let h = &self.health[i];
        let cur = h.load(Ordering::Relaxed);
        let next = if system_failure {
            cur - cur / 8
        } else {
            cur + (1000 - cur) / 32 + u32::from(cur < 1000)
        };
        h.store(next.min(1000), Ordering::Relaxed);
    }

    /// Health score of bank `i` (0..=1000).
    #[cfg(test)]
    pub(crate) fn health(&self, i: usize) -> u32 {
        self.health[i].load(Ordering::Relaxed)
    }

    pub(crate) fn index_of(&self, name: &str) -> Option<usize> {
        self.banks.iter().position(|b| b.spec.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::builtin_specs;
    use crate::guard::NoGuard;

    fn router() -> Router {
        let banks = builtin_specs()
            .unwrap()
            .into_iter()
            .map(|s| Arc::new(VirtualBank::new(s)))
            .collect();
        Router::new(banks)
    }

    fn share(r: &Router, i: usize, n: u32) -> u32 {
        (0..n)
            .filter(|_| r.choose(&NoGuard, false) == Some(i))
            .count() as u32
    }

    #[test]
    fn an_unhealthy_bank_keeps_a_probe_share_and_earns_its_way_back() {
        let r = router();
        let a = r.index_of("bank-a").unwrap();
        let healthy_share = share(&r, a, 20_000);
        assert!(
            healthy_share > 2_000,
            "bank-a normally carries traffic: {healthy_share}"
        );
        for _ in 0..200 {
            r.observe(a, true);
        }
        assert!(r.health(a) < UNHEALTHY);
        let probes = share(&r, a, 20_000);
        assert!(probes > 0, "an unhealthy bank still gets probes");
        assert!(
            probes * 20 < healthy_share,
            "but only a small share: {probes} vs {healthy_share}"
        );
        // Successful probes restore it.
        let mut rounds = 0;
        while r.health(a) < UNHEALTHY {
            r.observe(a, false);
            rounds += 1;
            assert!(rounds < 1_000, "health must recover from successes");
        }
        assert!(share(&r, a, 20_000) > healthy_share / 2);
    }
}
