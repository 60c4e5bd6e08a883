//! What installed faults do to the payment path, as [`FaultSet`] methods the
//! guard calls: refuse or slow a served call or a bank call (within the fault's
//! scope, at its ramp's strength, in its on phases), hold pool slots,
//! slow ledger postings, multiply the load, make a merchant hot, report a bad
//! release's version, fail a config-pushed service. With no fault installed each is one atomic load; the
//! clock is read only when a fault could apply, and nothing is allocated but a
//! refusal's code strings and the values returned owned.
//!
//! A call failed by a fault is a served call that failed (it counts in the
//! breakers like any other failure); a call a rule refused is not served, so
//! only the pools' bookkeeping sees it.

use super::active::{Fault, FaultSet};
use super::{FaultKind, Target};
use crate::guard::{CallSite, Verdict};
use digest::SharedClock;
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
            let d = f.delay_at(now);
            if d > 0 {
                f.touch(now);
                *delay += d;
            }
        }
        FaultKind::Errors if f.hits_served(site) && chance(f.rate_at(now)) => {
            f.touch(now);
            return Some(reject("SYSTEM_ERROR", "InternalError", *delay));
        }
        FaultKind::Timeout if f.hits_served(site) && chance(f.rate_at(now)) => {
            f.touch(now);
            return Some(reject("TIMEOUT", "TimeoutException", *delay + f.delay_us));
        }
        FaultKind::ConfigPush
            if hits() && f.is_announced() && !f.is_rolled_back() && chance(f.rate_at(now)) =>
        {
            f.touch(now);
            return Some(reject("SYSTEM_ERROR", "ConfigException", *delay));
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
            let d = f.delay_at(now);
            if d > 0 {
                f.touch(now);
                *delay += d;
            }
            None
        }
        FaultKind::Errors if chance(f.rate_at(now)) => {
            f.touch(now);
            Some(reject("BANK_ERROR", "BankSystemError", *delay))
        }
        FaultKind::Timeout if chance(f.rate_at(now)) => {
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

/// Faults on a call; `rule_refused` means a rule already refused it (only
/// the pools' bookkeeping is done then). `Err` is a refusal.
fn faults_on_call(
    faults: &[Arc<Fault>],
    site: &CallSite<'_>,
    bank: Option<&str>,
    now: u64,
    mut delay: u64,
    rule_refused: bool,
    resized_pool: impl Fn(&str) -> Option<u32>,
) -> Result<u64, Option<Verdict>> {
    let mut out = None;
    if !rule_refused {
        for f in faults
            .iter()
            .filter(|f| f.is_active(now) && f.in_scope(site))
        {
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
            let size = *resized.get_or_insert_with(|| resized_pool(site.service));
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

impl FaultSet {
    /// The faults' verdict on a call the rules judged `verdict` (`bank` set
    /// for a bank call): a refusal, more delay, or the rules' verdict.
    /// `resized_pool` is the control plane's pool size for a service, which
    /// supersedes an exhausted pool.
    pub(crate) fn judge(
        &self,
        site: &CallSite<'_>,
        bank: Option<&str>,
        verdict: Verdict,
        clock: &SharedClock,
        resized_pool: impl Fn(&str) -> Option<u32>,
    ) -> Verdict {
        let (delay, rule_refused) = match &verdict {
            Verdict::Pass { delay_us } => (*delay_us, false),
            Verdict::Reject { .. } => (0, true),
        };
        let outcome = self.with(|fs| {
            if !fs.iter().any(|f| f.could_hit(site, bank)) {
                return if rule_refused { Err(None) } else { Ok(delay) };
            }
            let now = clock.now_us();
            faults_on_call(fs, site, bank, now, delay, rule_refused, resized_pool)
        });
        match outcome {
            Ok(delay_us) => Verdict::Pass { delay_us },
            Err(Some(v)) => v,
            Err(None) => verdict,
        }
    }

    /// The end of a served call (not a bank call): frees its pool slot, or
    /// cancels a refusal against it.
    #[inline]
    pub(crate) fn exit(&self, site: &CallSite<'_>, success: bool, clock: &SharedClock) {
        if self.has_pools() {
            self.exit_pools(site, success, clock);
        }
    }

    fn exit_pools(&self, site: &CallSite<'_>, success: bool, clock: &SharedClock) {
        let now = clock.now_us();
        self.with(|fs| {
            for f in fs.iter().filter(|f| is_pool_for(f, site, now)) {
                if success || !f.refused.take() {
                    f.in_flight.exit();
                }
            }
        });
    }

    /// Runs `f` on each active fault of `kind` with the time.
    #[inline]
    fn each_active(&self, kind: FaultKind, clock: &SharedClock, mut f: impl FnMut(&Fault, u64)) {
        if !self.any() {
            return;
        }
        let now = clock.now_us();
        self.with(|fs| {
            for x in fs.iter().filter(|x| x.kind == kind && x.is_active(now)) {
                f(x, now);
            }
        });
    }

    /// The version of a live bad release of `service`, if any.
    #[inline]
    pub(crate) fn bad_version(&self, service: &str, clock: &SharedClock) -> Option<String> {
        let mut bad = None;
        self.each_active(FaultKind::BadRelease, clock, |f, now| {
            if bad.is_none() && f.hits_service(service, "") {
                bad = f.bad_version().map(str::to_string);
                if bad.is_some() {
                    f.touch(now);
                }
            }
        });
        bad
    }

    /// Extra latency per ledger posting: slow-ledger faults slow postings only
    /// while their database is the `primary`.
    pub(crate) fn ledger_delay_us(&self, primary: &str, clock: &SharedClock) -> u64 {
        let mut d = 0;
        self.each_active(FaultKind::SlowLedger, clock, |f, now| {
            if f.hits_db(primary) {
                f.touch(now);
                d += f.delay_at(now);
            }
        });
        d
    }

    /// The load generator's multiplier (surges); 1.0 normally.
    pub(crate) fn load_multiplier(&self, clock: &SharedClock) -> f64 {
        let mut m = 1.0;
        self.each_active(FaultKind::Surge, clock, |f, now| {
            f.touch(now);
            m *= f.factor_at(now);
        });
        m
    }

    /// The hot merchant and its share of all payments, if one is hot.
    pub(crate) fn hot_merchant(&self, clock: &SharedClock) -> Option<(String, f64)> {
        let mut hot = None;
        self.each_active(FaultKind::HotMerchant, clock, |f, now| {
            if let (None, Target::Merchant { merchant }) = (&hot, &f.target) {
                f.touch(now);
                hot = Some((merchant.clone(), f.share));
            }
        });
        hot
    }
}
