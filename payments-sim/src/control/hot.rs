//! The payment path: [`Guard`] for [`Steering`]. With no rules and no faults
//! every method is one or two atomic loads; otherwise rules are read from an
//! immutable compiled snapshot and faults from a short list, with no allocation
//! except for a refusal's code strings and the values the trait returns owned.
//!
//! Contract with the services: `exit` is called once for every call `enter`
//! saw, refused or not (`success` false when refused); `bank_exit` likewise
//! for `bank`. A call refused by a rule (flow, hot parameter, open breaker) is
//! not a served call: its exit is cancelled against the refusal, as Sentinel
//! never exits a blocked entry. A call failed by a fault is a served call that
//! failed, and counts in the breakers like any other failure.

use super::steering::Steering;
use crate::faults::{Fault, FaultKind, Target};
use crate::guard::{CallSite, ChannelWeight, Guard, LedgerStrategy, Verdict};
use std::cell::Cell;
use std::sync::atomic::Ordering;

thread_local! {
    static RNG: Cell<u64> = Cell::new({
        let x = &0u8 as *const u8 as u64;
        (x ^ 0x9E37_79B9_7F4A_7C15).max(1)
    });
}

/// A uniform draw in [0, 1) from a per-thread xorshift (no lock, no allocation).
fn chance(p: f64) -> bool {
    if p >= 1.0 {
        return true;
    }
    if p <= 0.0 {
        return false;
    }
    RNG.with(|c| {
        let mut x = c.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c.set(x);
        ((x >> 11) as f64 / (1u64 << 53) as f64) < p
    })
}

fn is_pool_for(f: &Fault, site: &CallSite<'_>, now: u64) -> bool {
    f.kind == FaultKind::PoolExhaustion
        && f.is_active(now)
        && f.hits_service(site.service, site.operation)
}

fn reject(code: &str, error: &str, delay_us: u64) -> Verdict {
    Verdict::Reject {
        code: code.to_string(),
        error: error.to_string(),
        delay_us,
    }
}

impl Steering {
    /// Faults on a served call. `Err` is a refusal.
    fn fault_enter(&self, site: &CallSite<'_>, now: u64, mut delay: u64) -> Result<u64, Verdict> {
        let faults = self.faults.snapshot();
        let refusal = self.fault_refusal(&faults, site, now, &mut delay);
        // Pools last: a call refused before reaching a pool never takes a slot.
        let mut refused = refusal.is_some();
        let mut out = refusal;
        for f in faults.iter().filter(|f| is_pool_for(f, site, now)) {
            if refused {
                f.refused.note();
            } else if !f.in_flight.try_enter(f.pool as i64) {
                f.touch(now);
                f.refused.note();
                refused = true;
                out = Some(reject(
                    "THREAD_POOL_FULL",
                    "RejectedExecutionException",
                    delay + f.delay_us,
                ));
            }
        }
        match out {
            Some(v) => Err(v),
            None => Ok(delay),
        }
    }

    fn fault_refusal(
        &self,
        faults: &[std::sync::Arc<Fault>],
        site: &CallSite<'_>,
        now: u64,
        delay: &mut u64,
    ) -> Option<Verdict> {
        for f in faults.iter().filter(|f| f.is_active(now)) {
            let hits = f.hits_service(site.service, site.operation);
            match f.kind {
                FaultKind::ZoneOutage => {
                    if matches!(&f.target, Target::Zone { zone } if zone == site.zone) {
                        f.touch(now);
                        return Some(reject("ZONE_UNAVAILABLE", "ConnectException", 0));
                    }
                }
                FaultKind::Latency if hits => {
                    f.touch(now);
                    *delay += f.delay_us;
                }
                FaultKind::Errors if hits && chance(f.rate) => {
                    f.touch(now);
                    return Some(reject("SYSTEM_ERROR", "InternalError", *delay));
                }
                FaultKind::Timeout if hits && chance(f.rate) => {
                    f.touch(now);
                    return Some(reject("TIMEOUT", "TimeoutException", *delay + f.delay_us));
                }
                FaultKind::BadRelease if hits && f.bad_version().is_some() => {
                    f.touch(now);
                    *delay += f.delay_us;
                    if chance(f.rate) {
                        return Some(reject("SYSTEM_ERROR", "NullPointerException", *delay));
                    }
                }
                _ => {}
            }
        }
        None
    }

    fn fault_bank(&self, bank: &str, now: u64, mut delay: u64) -> Result<u64, Verdict> {
        for f in self
            .faults
            .snapshot()
            .iter()
            .filter(|f| f.is_active(now) && f.hits_bank(bank))
        {
            match f.kind {
                FaultKind::BankOutage => {
                    f.touch(now);
                    return Err(reject("BANK_UNAVAILABLE", "ConnectException", delay));
                }
                FaultKind::Latency => {
                    f.touch(now);
                    delay += f.delay_us;
                }
                FaultKind::Errors if chance(f.rate) => {
                    f.touch(now);
                    return Err(reject("BANK_ERROR", "BankSystemError", delay));
                }
                FaultKind::Timeout if chance(f.rate) => {
                    f.touch(now);
                    return Err(reject(
                        "BANK_TIMEOUT",
                        "TimeoutException",
                        delay + f.delay_us,
                    ));
                }
                _ => {}
            }
        }
        Ok(delay)
    }

    /// Rules then faults for one resource pair; a fault's refusal after the
    /// rules let the call in is recorded as a failed call in the breakers.
    fn guard_call(
        &self,
        service: &str,
        op: &str,
        site: &CallSite<'_>,
        bank: Option<&str>,
    ) -> Verdict {
        let rules_on = self.has_rules.load(Ordering::Acquire);
        let faults_on = self.faults.any();
        if !rules_on && !faults_on {
            return Verdict::PASS;
        }
        let now = self.clock.now_us();
        let compiled = rules_on.then(|| self.compiled.read().clone());
        let mut delay = 0;
        if let Some(c) = &compiled {
            match c.enter(service, op, site, now) {
                Verdict::Pass { delay_us } => delay = delay_us,
                refused => {
                    if faults_on && bank.is_none() {
                        for f in self
                            .faults
                            .snapshot()
                            .iter()
                            .filter(|f| is_pool_for(f, site, now))
                        {
                            f.refused.note();
                        }
                    }
                    return refused;
                }
            }
        }
        if !faults_on {
            return Verdict::Pass { delay_us: delay };
        }
        self.poll(now);
        let outcome = match bank {
            Some(b) => self.fault_bank(b, now, delay),
            None => self.fault_enter(site, now, delay),
        };
        match outcome {
            Ok(delay_us) => Verdict::Pass { delay_us },
            Err(v) => v,
        }
    }

    fn active(&self, kind: FaultKind) -> impl Iterator<Item = std::sync::Arc<Fault>> + '_ {
        let now = self.clock.now_us();
        let faults = if self.faults.any() {
            Some(self.faults.snapshot())
        } else {
            None
        };
        faults
            .into_iter()
            .flat_map(|f| f.to_vec())
            .filter(move |f| f.kind == kind && f.is_active(now))
            .inspect(move |f| f.touch(now))
    }
}

impl Guard for Steering {
    fn enter(&self, site: &CallSite<'_>) -> Verdict {
        self.guard_call(site.service, site.operation, site, None)
    }

    fn exit(&self, site: &CallSite<'_>, success: bool, duration_us: u64) {
        if self.has_rules.load(Ordering::Acquire) {
            let now = self.clock.now_us();
            self.compiled.read().clone().exit(
                site.service,
                site.operation,
                success,
                duration_us,
                now,
            );
        }
        if self.faults.any() {
            let now = self.clock.now_us();
            for f in self.faults.snapshot().iter() {
                if f.kind == FaultKind::PoolExhaustion
                    && f.is_active(now)
                    && f.hits_service(site.service, site.operation)
                {
                    f.in_flight.exit();
                }
            }
        }
    }

    fn bank(&self, bank: &str, site: &CallSite<'_>) -> Verdict {
        self.guard_call("bank", bank, site, Some(bank))
    }

    fn bank_exit(&self, bank: &str, _site: &CallSite<'_>, success: bool, duration_us: u64) {
        if self.has_rules.load(Ordering::Acquire) {
            let now = self.clock.now_us();
            self.compiled
                .read()
                .clone()
                .exit("bank", bank, success, duration_us, now);
        }
    }

    fn feature_enabled(&self, feature: &str) -> bool {
        self.state.feature_enabled(feature)
    }

    fn channel_weights(&self) -> Option<Vec<ChannelWeight>> {
        self.state.channel_weights()
    }

    fn zone_for(&self, user_hash: u64) -> Option<String> {
        self.state.zone_for(user_hash)
    }

    fn version(&self, service: &str) -> Option<String> {
        if self.faults.any() {
            let now = self.clock.now_us();
            for f in self.faults.snapshot().iter() {
                if f.kind == FaultKind::BadRelease
                    && f.is_active(now)
                    && f.hits_service(service, "")
                {
                    if let Some(bad) = f.bad_version() {
                        return Some(bad.to_string());
                    }
                }
            }
        }
        self.state.version(service)
    }

    fn ledger_strategy(&self, account: &str) -> Option<LedgerStrategy> {
        self.state.ledger_strategy(account)
    }

    fn ledger_delay_us(&self) -> u64 {
        self.active(FaultKind::SlowLedger).map(|f| f.delay_us).sum()
    }

    fn load_multiplier(&self) -> f64 {
        self.active(FaultKind::Surge).map(|f| f.factor).product()
    }

    fn hot_merchant(&self) -> Option<(String, f64)> {
        self.active(FaultKind::HotMerchant)
            .find_map(|f| match &f.target {
                Target::Merchant { merchant } => Some((merchant.clone(), f.share)),
                _ => None,
            })
    }
}
