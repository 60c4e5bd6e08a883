//! The faults of a run: each with absolute start and end on the run's clock, its
//! resolved target and magnitudes, and what it records as ground truth (when it
//! started, ended or was removed, and when it first touched a call).

use super::scope::Scope;
use super::shape::Shape;
use super::spec::FaultSpec;
use super::{defaults, Binding, FaultError, FaultKind, Target};
use crate::hotpath::{Cache, InFlight, Published, Refusals};
use digest::{format_rfc3339, Micros};
use parking_lot::Mutex;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

thread_local! {
    static LIVE: Cache = const { Cache::new(Vec::new()) };
}

/// One fault in a run.
#[derive(Debug)]
pub(crate) struct Fault {
    pub id: u64,
    pub kind: FaultKind,
    pub target: Target,
    pub spec: FaultSpec,
    pub start_us: Micros,
    pub end_us: Option<Micros>,
    /// Extra latency, timeout, queue wait or ledger delay, in µs.
    pub delay_us: u64,
    /// Share of affected calls that fail.
    pub rate: f64,
    pub factor: f64,
    pub share: f64,
    pub pool: u32,
    /// Ramp and flapping.
    pub(super) shape: Shape,
    /// The calls it touches.
    pub(super) scope: Scope,
    removed_us: AtomicU64,
    first_affected_us: AtomicU64,
    /// Bad release / config push: announced as a deploy (a config change); rolled
    /// back (reverted) through the control API; its automatic end handled.
    announced: AtomicBool,
    rolled_back: AtomicBool,
    end_handled: AtomicBool,
    /// Bad release: (version before, bad version), fixed when it deploys;
    /// config push: (config before, bad config).
    release: OnceLock<(String, String)>,
    /// Pool exhaustion: calls holding a slot of the pool.
    pub(super) in_flight: InFlight,
    /// Pool exhaustion: refused calls whose exit is still to come.
    pub(super) refused: Refusals,
}

impl Fault {
    fn new(id: u64, spec: FaultSpec, base_us: Micros, b: &Binding<'_>) -> Result<Self, FaultError> {
        let target = spec.bind(b)?;
        let shape = Shape::check(&spec)?;
        let scope = Scope::check(&spec)?;
        let start_us = base_us + (spec.start_s * 1e6) as u64;
        let end_us = spec.duration_s.map(|d| start_us + (d * 1e6) as u64);
        use FaultKind::*;
        let delay_ms = spec.delay_ms.unwrap_or(match spec.kind {
            Latency => defaults::LATENCY_MS,
            Timeout => defaults::TIMEOUT_MS,
            BadRelease => defaults::RELEASE_LATENCY_MS,
            PoolExhaustion => defaults::POOL_WAIT_MS,
            SlowLedger => defaults::SLOW_LEDGER_MS,
            _ => 0,
        });
        let rate = spec.rate.unwrap_or(match spec.kind {
            Errors => defaults::ERROR_RATE,
            BadRelease => defaults::RELEASE_ERROR_RATE,
            ConfigPush => defaults::CONFIG_ERROR_RATE,
            _ => 1.0,
        });
        Ok(Self {
            id,
            kind: spec.kind,
            target,
            start_us,
            end_us,
            delay_us: delay_ms * 1000,
            rate,
            factor: spec.factor.unwrap_or(defaults::SURGE_FACTOR),
            share: spec.share.unwrap_or(defaults::HOT_SHARE),
            pool: spec.pool.unwrap_or(defaults::POOL_SIZE),
            shape,
            scope,
            spec,
            removed_us: AtomicU64::new(0),
            first_affected_us: AtomicU64::new(0),
            announced: AtomicBool::new(false),
            rolled_back: AtomicBool::new(false),
            end_handled: AtomicBool::new(false),
            release: OnceLock::new(),
            in_flight: InFlight::default(),
            refused: Refusals::default(),
        })
    }

    /// The end that applies: the scheduled end, or the removal if earlier.
    pub(crate) fn effective_end_us(&self) -> Option<Micros> {
        let removed = self.removed_us.load(Ordering::Acquire);
        match (self.end_us, removed) {
            (e, 0) => e,
            (Some(e), r) => Some(e.min(r)),
            (None, r) => Some(r),
        }
    }

    /// Within its window and, if it flaps, in an on phase.
    pub(crate) fn is_active(&self, now_us: Micros) -> bool {
        now_us >= self.start_us
            && self.effective_end_us().is_none_or(|e| now_us < e)
            && self.shape.is_on(self.start_us, now_us)
    }

    /// Its extra delay at `now` (grown by its ramp).
    #[inline]
    pub(crate) fn delay_at(&self, now_us: Micros) -> u64 {
        if !self.shape.ramps() {
            return self.delay_us;
        }
        (self.delay_us as f64 * self.shape.strength(self.start_us, now_us)) as u64
    }

    /// Its failure rate at `now` (grown by its ramp).
    #[inline]
    pub(crate) fn rate_at(&self, now_us: Micros) -> f64 {
        self.rate * self.shape.strength(self.start_us, now_us)
    }

    /// Its load factor at `now`: from 1 to `factor` along its ramp.
    pub(crate) fn factor_at(&self, now_us: Micros) -> f64 {
        1.0 + (self.factor - 1.0) * self.shape.strength(self.start_us, now_us)
    }

    /// Is the call at `site` within the fault's scope (scene, channel, merchants, shadow)?
    #[inline]
    pub(crate) fn in_scope(&self, site: &crate::guard::CallSite<'_>) -> bool {
        self.scope.admits(site)
    }

    /// Notes that the fault changed a call at `now_us` (first time only).
    pub(crate) fn touch(&self, now_us: Micros) {
        if self.first_affected_us.load(Ordering::Relaxed) == 0 {
            let _ = self.first_affected_us.compare_exchange(
                0,
                now_us.max(1),
                Ordering::AcqRel,
                Ordering::Relaxed,
            );
        }
    }

    /// Does this fault hit a served call of `service`/`operation`?
    pub(crate) fn hits_service(&self, service: &str, operation: &str) -> bool {
        match &self.target {
            Target::Service {
                service: s,
                operation: op,
            } => s == service && op.as_deref().is_none_or(|o| o == operation),
            _ => false,
        }
    }

    /// Does this fault hit the served call at `site`: its service (or
    /// operation), or the instance serving it?
    pub(crate) fn hits_served(&self, site: &crate::guard::CallSite<'_>) -> bool {
        match &self.target {
            Target::Instance { instance, .. } => instance == site.instance,
            _ => self.hits_service(site.service, site.operation),
        }
    }

    /// Is this fault bound to ledger database `db`?
    pub(crate) fn hits_db(&self, db: &str) -> bool {
        matches!(&self.target, Target::LedgerDb { db: d } if d == db)
    }

    /// Could this fault change a call to `site` (or to `bank`)? By target only,
    /// without the clock: the payment path asks this first.
    pub(crate) fn could_hit(&self, site: &crate::guard::CallSite<'_>, bank: Option<&str>) -> bool {
        if !self.scope.admits(site) {
            return false;
        }
        match (&self.target, bank) {
            (Target::Service { .. }, None) => self.hits_service(site.service, site.operation),
            (Target::Instance { instance, .. }, None) => instance == site.instance,
            (Target::Zone { zone }, None) => zone == site.zone,
            (Target::Bank { bank: b }, Some(called)) => b == called,
            _ => false,
        }
    }

    pub(crate) fn hits_bank(&self, bank: &str) -> bool {
        matches!(&self.target, Target::Bank { bank: b } if b == bank)
    }

    /// The bad release's version, once deployed and not rolled back.
    pub(crate) fn bad_version(&self) -> Option<&str> {
        if self.rolled_back.load(Ordering::Acquire) {
            return None;
        }
        self.release.get().map(|(_, bad)| bad.as_str())
    }

    /// Bad release / config push: is its announcement or its end due at `now`?
    pub(crate) fn release_due(&self, now: Micros) -> bool {
        matches!(self.kind, FaultKind::BadRelease | FaultKind::ConfigPush)
            && now >= self.start_us
            && if self.announced.load(Ordering::Acquire) {
                !self.is_active(now)
                    && !self.rolled_back.load(Ordering::Acquire)
                    && !self.end_handled.load(Ordering::Acquire)
            } else {
                self.is_active(now)
            }
    }

    /// Bad release: has its deploy been announced?
    pub(crate) fn is_announced(&self) -> bool {
        self.announced.load(Ordering::Acquire)
    }

    /// Bad release: claims its deploy at `now` (true once, while it is active).
    pub(crate) fn claim_deploy(&self, now: Micros) -> bool {
        self.is_active(now) && !self.announced.swap(true, Ordering::AcqRel)
    }

    /// Bad release: deployed, replacing version `before` with `bad`.
    pub(crate) fn deployed(&self, before: String, bad: String) {
        let _ = self.release.set((before, bad));
    }

    /// Bad release: the versions (before, bad) of its deploy.
    pub(crate) fn release(&self) -> Option<(&str, &str)> {
        self.release.get().map(|(b, v)| (b.as_str(), v.as_str()))
    }

    /// Bad release: claims its automatic end at `now` (true once, after it
    /// ended, unless it was rolled back first).
    pub(crate) fn claim_end(&self, now: Micros) -> bool {
        !self.is_active(now)
            && !self.rolled_back.load(Ordering::Acquire)
            && !self.end_handled.swap(true, Ordering::AcqRel)
    }

    /// Bad release: rolled back through the control plane; its defect is gone.
    pub(crate) fn roll_back(&self) {
        self.rolled_back.store(true, Ordering::Release);
    }

    /// Has the control plane rolled it back (a release) or reverted it (a config)?
    pub(crate) fn is_rolled_back(&self) -> bool {
        self.rolled_back.load(Ordering::Acquire)
    }

    pub(crate) fn ground_truth(&self, now: Micros) -> GroundTruth {
        let first = self.first_affected_us.load(Ordering::Acquire);
        let end = self.effective_end_us();
        let (periods, active_periods_dropped) = self.shape.periods(self.start_us, end, now);
        GroundTruth {
            id: self.id,
            kind: self.kind,
            target: self.target.to_string(),
            start_us: self.start_us,
            end_us: end,
            first_affected_us: (first != 0).then_some(first),
            start: format_rfc3339(self.start_us),
            end: end.map(format_rfc3339),
            rolled_back: self.rolled_back.load(Ordering::Acquire),
            active: periods
                .into_iter()
                .map(|(from, to)| ActivePeriod {
                    start_us: from,
                    end_us: to,
                    start: format_rfc3339(from),
                    end: to.map(format_rfc3339),
                })
                .collect(),
            active_periods_dropped,
            spec: self.spec.clone(),
        }
    }
}

/// What a drill knows that the analyzer must find out: one entry per fault.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroundTruth {
    pub id: u64,
    pub kind: FaultKind,
    pub target: String,
    pub start_us: Micros,
    /// Scheduled end or removal; absent while it runs open-ended.
    pub end_us: Option<Micros>,
    /// The first call the fault changed, if any yet.
    pub first_affected_us: Option<Micros>,
    pub start: String,
    pub end: Option<String>,
    /// A bad release rolled back, or a config push reverted, through the control API.
    pub rolled_back: bool,
    /// When it was really on, up to now: its window, or each on phase of a
    /// flapping fault (the latest ones; see `active_periods_dropped`). Empty
    /// before it starts.
    pub active: Vec<ActivePeriod>,
    /// Earlier on phases left out of `active` (a long-flapping fault).
    pub active_periods_dropped: u64,
    pub spec: FaultSpec,
}

/// One stretch `[start, end)` a fault was on; `end` absent while it still is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivePeriod {
    pub start_us: Micros,
    pub end_us: Option<Micros>,
    pub start: String,
    pub end: Option<String>,
}

/// The faults of a run.
#[derive(Debug)]
pub(crate) struct FaultSet {
    live: Published<Vec<Arc<Fault>>>,
    writer: Mutex<()>,
    history: Mutex<Vec<Arc<Fault>>>,
    any: AtomicBool,
    releases: AtomicBool,
    pools: AtomicBool,
    next_id: AtomicU64,
}

impl Default for FaultSet {
    fn default() -> Self {
        Self {
            live: Published::new(Vec::new(), &LIVE),
            writer: Mutex::new(()),
            history: Mutex::new(Vec::new()),
            any: AtomicBool::new(false),
            releases: AtomicBool::new(false),
            pools: AtomicBool::new(false),
            next_id: AtomicU64::new(0),
        }
    }
}

impl FaultSet {
    /// Is any fault installed (active or scheduled)? One atomic load.
    #[inline]
    pub(crate) fn any(&self) -> bool {
        self.any.load(Ordering::Acquire)
    }

    /// Is a bad release or a config push installed (it has time-driven
    /// announcements and end events)?
    #[inline]
    pub(crate) fn has_releases(&self) -> bool {
        self.releases.load(Ordering::Acquire)
    }

    /// Is a pool-exhaustion fault installed (it needs every exit)?
    #[inline]
    pub(crate) fn has_pools(&self) -> bool {
        self.pools.load(Ordering::Acquire)
    }

    /// The installed faults (one reference count; not for the payment path).
    pub(crate) fn snapshot(&self) -> Arc<Vec<Arc<Fault>>> {
        self.live.load()
    }

    /// Runs `f` on the installed faults from this thread's cache (payment path).
    pub(crate) fn with<R>(&self, f: impl FnOnce(&[Arc<Fault>]) -> R) -> R {
        self.live.with(|v| f(v))
    }

    fn build(
        &self,
        specs: Vec<FaultSpec>,
        base_us: Micros,
        b: &Binding<'_>,
    ) -> Result<Vec<Arc<Fault>>, FaultError> {
        // Validate all before taking ids, so a bad list changes nothing.
        for s in &specs {
            s.bind(b)?;
        }
        specs
            .into_iter()
            .map(|s| {
                let id = self.next_id.fetch_add(1, Ordering::AcqRel) + 1;
                Fault::new(id, s, base_us, b).map(Arc::new)
            })
            .collect()
    }

    fn install(&self, all: Vec<Arc<Fault>>) {
        self.any.store(!all.is_empty(), Ordering::Release);
        self.releases.store(
            all.iter()
                .any(|f| matches!(f.kind, FaultKind::BadRelease | FaultKind::ConfigPush)),
            Ordering::Release,
        );
        self.pools.store(
            all.iter().any(|f| f.kind == FaultKind::PoolExhaustion),
            Ordering::Release,
        );
        self.live.publish(all);
    }

    /// Adds faults whose times count from `base_us`.
    pub(crate) fn add(
        &self,
        specs: Vec<FaultSpec>,
        base_us: Micros,
        b: &Binding<'_>,
    ) -> Result<Vec<Arc<Fault>>, FaultError> {
        let new = self.build(specs, base_us, b)?;
        let _w = self.writer.lock();
        let mut all: Vec<_> = self.live.load().iter().cloned().collect();
        all.extend(new.iter().cloned());
        self.history.lock().extend(new.iter().cloned());
        self.install(all);
        Ok(new)
    }

    /// Replaces all faults: the old ones end at `now_us` (if still running).
    pub(crate) fn replace(
        &self,
        specs: Vec<FaultSpec>,
        base_us: Micros,
        now_us: Micros,
        b: &Binding<'_>,
    ) -> Result<Vec<Arc<Fault>>, FaultError> {
        let new = self.build(specs, base_us, b)?;
        let _w = self.writer.lock();
        for f in self.live.load().iter() {
            let _ = f.removed_us.compare_exchange(
                0,
                now_us.max(1),
                Ordering::AcqRel,
                Ordering::Relaxed,
            );
        }
        self.history.lock().extend(new.iter().cloned());
        self.install(new.clone());
        Ok(new)
    }

    /// Every fault ever installed in this run, in order, with what happened.
    pub(crate) fn ground_truth(&self, now: Micros) -> Vec<GroundTruth> {
        self.history
            .lock()
            .iter()
            .map(|f| f.ground_truth(now))
            .collect()
    }
}
