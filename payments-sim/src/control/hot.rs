//! The payment path: [`Guard`] for [`Steering`]. With no rules and no faults
//! every method is one or two atomic loads; otherwise rules and faults are read
//! from per-thread cached snapshots (no shared lock or reference count), the
//! clock is read only when a rule or fault applies, and nothing is allocated
//! except a refusal's code strings and the values the trait returns owned.
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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

static SEED: AtomicU64 = AtomicU64::new(0x9E37_79B9_7F4A_7C15);

thread_local! {
    static RNG: Cell<u64> = Cell::new(
        SEED.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed).wrapping_mul(0xBF58_476D_1CE4_E5B9) | 1,
    );
}

/// True with probability `p`, from a per-thread xorshift (no lock, no allocation).
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

/// A fault that refuses a served call, or adds to its delay.
fn served_fault(f: &Fault, site: &CallSite<'_>, now: u64, delay: &mut u64) -> Option<Verdict> {
    let hits = || f.hits_service(site.service, site.operation);
    match f.kind {
        FaultKind::ZoneOutage => {
            if matches!(&f.target, Target::Zone { zone } if zone == site.zone) {
                f.touch(now);
                return Some(reject("ZONE_UNAVAILABLE", "ConnectException", 0));
            }
        }
        FaultKind::Latency if f.hits_served(site) => {
            f.touch(now);
            *delay += f.delay_us;
        }
        FaultKind::Errors if f.hits_served(site) && chance(f.rate) => {
            f.touch(now);
            return Some(reject("SYSTEM_ERROR", "InternalError", *delay));
        }
        FaultKind::Timeout if f.hits_served(site) && chance(f.rate) => {
            f.touch(now);
            return Some(reject("TIMEOUT", "TimeoutException", *delay + f.delay_us));
        }
        FaultKind::BadRelease if hits() && f.bad_version().is_some() => {
            f.touch(now);
            *delay += f.delay_us;
            if chance(f.rate) {
                return Some(reject("SYSTEM_ERROR", "NullPointerException", *delay));
            }
        }
        _ => {}
    }
    None
}

/// A fault that refuses a bank call, or adds to its delay.
fn bank_fault(f: &Fault, bank: &str, now: u64, delay: &mut u64) -> Option<Verdict> {
    if !f.hits_bank(bank) {
        return None;
    }
    match f.kind {
        FaultKind::BankOutage => {
            f.touch(now);
            Some(reject("BANK_UNAVAILABLE", "ConnectException", *delay))
        }
        FaultKind::Latency => {
            f.touch(now);
            *delay += f.delay_us;
            None
        }
        FaultKind::Errors if chance(f.rate) => {
            f.touch(now);
            Some(reject("BANK_ERROR", "BankSystemError", *delay))
        }
        FaultKind::Timeout if chance(f.rate) => {
            f.touch(now);
            Some(reject(
                "BANK_TIMEOUT",
                "TimeoutException",
                *delay + f.delay_us,
            ))
        }
        _ => None,
    }
}

impl Steering {
    /// Faults on a call; `rule_refused` means a rule already refused it (only
    /// the pools' bookkeeping is done then). `Err` is a refusal.
    fn faults_on_call(
        &self,
        faults: &[Arc<Fault>],
        site: &CallSite<'_>,
        bank: Option<&str>,
        now: u64,
        mut delay: u64,
        rule_refused: bool,
    ) -> Result<u64, Option<Verdict>> {
        let mut out = None;
        if !rule_refused {
            for f in faults.iter().filter(|f| f.is_active(now)) {
                out = match bank {
                    Some(b) => bank_fault(f, b, now, &mut delay),
                    None => served_fault(f, site, now, &mut delay),
                };
                if out.is_some() {
                    break;
                }
            }
        }
        if bank.is_none() {
            // Pools last: a call refused before reaching a pool never takes a
            // slot, and its coming exit is cancelled instead.
            let mut refused = rule_refused || out.is_some();
            // A resized pool supersedes the exhausted one (read once, if needed).
            let mut resized = None;
            for f in faults.iter().filter(|f| is_pool_for(f, site, now)) {
                let size = *resized.get_or_insert_with(|| self.levers.pool(site.service));
                if refused {
                    f.refused.note();
                } else if !f.in_flight.try_enter(f.pool.max(size.unwrap_or(0)) as i64) {
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
        }
        match out {
            Some(v) => Err(Some(v)),
            None if rule_refused => Err(None),
            None => Ok(delay),
        }
    }

    /// Rules, then faults, for one call (`bank` set for a bank call).
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
        let mut verdict = Verdict::PASS;
        if rules_on {
            verdict = self
                .compiled
                .with(|c| c.enter(service, op, site, || self.clock.now_us()));
        }
        if !faults_on {
            return verdict;
        }
        if self.faults.has_releases() {
            self.poll(self.clock.now_us());
        }
        let (delay, rule_refused) = match &verdict {
            Verdict::Pass { delay_us } => (*delay_us, false),
            Verdict::Reject { .. } => (0, true),
        };
        let outcome = self.faults.with(|fs| {
            if !fs.iter().any(|f| f.could_hit(site, bank)) {
                return if rule_refused { Err(None) } else { Ok(delay) };
            }
            let now = self.clock.now_us();
            self.faults_on_call(fs, site, bank, now, delay, rule_refused)
        });
        match outcome {
            Ok(delay_us) => Verdict::Pass { delay_us },
            Err(Some(v)) => v,
            Err(None) => verdict,
        }
    }

    fn call_exit(
        &self,
        service: &str,
        op: &str,
        site: &CallSite<'_>,
        bank: bool,
        success: bool,
        duration_us: u64,
    ) {
        if self.has_rules.load(Ordering::Acquire) {
            self.compiled
                .with(|c| c.exit(service, op, success, duration_us, || self.clock.now_us()));
        }
        if !bank && self.faults.has_pools() {
            let now = self.clock.now_us();
            self.faults.with(|fs| {
                for f in fs.iter().filter(|f| is_pool_for(f, site, now)) {
                    if success || !f.refused.take() {
                        f.in_flight.exit();
                    }
                }
            });
        }
    }

    /// Runs `f` on each active fault of `kind` with the time.
    fn each_active(&self, kind: FaultKind, mut f: impl FnMut(&Fault, u64)) {
        if !self.faults.any() {
            return;
        }
        let now = self.clock.now_us();
        self.faults.with(|fs| {
            for x in fs.iter().filter(|x| x.kind == kind && x.is_active(now)) {
                f(x, now);
            }
        });
    }
}

impl Guard for Steering {
    fn enter(&self, site: &CallSite<'_>) -> Verdict {
        self.guard_call(site.service, site.operation, site, None)
    }

    fn exit(&self, site: &CallSite<'_>, success: bool, duration_us: u64) {
        self.call_exit(
            site.service,
            site.operation,
            site,
            false,
            success,
            duration_us,
        );
    }

    fn bank(&self, bank: &str, site: &CallSite<'_>) -> Verdict {
        self.guard_call("bank", bank, site, Some(bank))
    }

    fn bank_exit(&self, bank: &str, site: &CallSite<'_>, success: bool, duration_us: u64) {
        self.call_exit("bank", bank, site, true, success, duration_us);
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
        let mut bad = None;
        self.each_active(FaultKind::BadRelease, |f, now| {
            if bad.is_none() && f.hits_service(service, "") {
                bad = f.bad_version().map(str::to_string);
                if bad.is_some() {
                    f.touch(now);
                }
            }
        });
        bad.or_else(|| self.state.version(service))
    }

    fn ledger_strategy(&self, account: &str) -> Option<LedgerStrategy> {
        self.state.ledger_strategy(account)
    }

    fn instance_isolated(&self, instance: &str) -> bool {
        self.levers.is_isolated(instance)
    }

    fn attach_instances(&self, table: &Arc<crate::instances::Instances>) {
        self.levers.attach(table);
    }

    /// Slow-ledger faults slow postings only while their database is the primary.
    fn ledger_delay_us(&self) -> u64 {
        let mut d = 0;
        let primary = self.levers.primary_db();
        self.each_active(FaultKind::SlowLedger, |f, now| {
            if f.hits_db(primary) {
                f.touch(now);
                d += f.delay_us;
            }
        });
        d
    }

    fn load_multiplier(&self) -> f64 {
        let mut m = 1.0;
        self.each_active(FaultKind::Surge, |f, now| {
            f.touch(now);
            m *= f.factor;
        });
        m
    }

    fn hot_merchant(&self) -> Option<(String, f64)> {
        let mut hot = None;
        self.each_active(FaultKind::HotMerchant, |f, now| {
            if let (None, Target::Merchant { merchant }) = (&hot, &f.target) {
                f.touch(now);
                hot = Some((merchant.clone(), f.share));
            }
        });
        hot
    }
}
