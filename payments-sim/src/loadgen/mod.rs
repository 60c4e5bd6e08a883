//! The load generator: open-loop at a target TPS (with a ramp and the guard's
//! surge multiplier), a scene / channel / pay-tool mix, Zipf-distributed users and
//! merchants, an optional flash-sale hot merchant (`m-hot`, also steerable by the
//! guard's hot-merchant fault), and a shadow fraction. Reports achieved TPS,
//! success rate and latency percentiles. Also a closed-loop saturation driver for
//! benchmarks.

mod zipf;

pub(crate) use zipf::Zipf;

use crate::msg::{merchant_id, Biz, PayTool};
use crate::sim::{PaymentInput, Sim};
use digest::Histogram;
use parking_lot::Mutex;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A named share of the mix.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weighted {
    pub name: String,
    pub weight: u32,
}

fn w(name: &str, weight: u32) -> Weighted {
    Weighted {
        name: name.into(),
        weight,
    }
}

/// What load to make.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoadConfig {
    /// Target payments per second (before the guard's load multiplier).
    pub tps: f64,
    pub duration_s: f64,
    /// Seconds to ramp linearly from 0 to `tps`.
    pub ramp_s: f64,
    /// Share of payments that are shadow (full-link stress test) traffic.
    pub shadow_fraction: f64,
    pub users: u32,
    pub merchants: u32,
    /// Zipf exponents of user and merchant popularity.
    pub user_zipf: f64,
    pub merchant_zipf: f64,
    /// Flash sale: share of payments that go to the hot merchant `m-hot`.
    pub hot_merchant_share: f64,
    /// Scenes: `quick_pay`, `scan_pay` (goods), `bill_pay` (bill), `mobile_topup` (top-up).
    pub scenes: Vec<Weighted>,
    /// Channels: `SDK`, `WAP`, `PC`, `POS`.
    pub channels: Vec<Weighted>,
    /// Pay tools: `bank_card`, `balance`, `credit`.
    pub tools: Vec<Weighted>,
    /// Share of payments using a coupon.
    pub coupon_fraction: f64,
    /// Payments in flight above which new ones are shed (counted, not made).
    pub max_in_flight: u64,
    pub seed: u64,
}

impl Default for LoadConfig {
    fn default() -> Self {
        Self {
            tps: 100.0,
            duration_s: 10.0,
            ramp_s: 0.0,
            shadow_fraction: 0.0,
            users: 100_000,
            merchants: 5_000,
            user_zipf: 0.8,
            merchant_zipf: 1.0,
            hot_merchant_share: 0.0,
            scenes: vec![
                w("quick_pay", 50),
                w("scan_pay", 30),
                w("bill_pay", 12),
                w("mobile_topup", 8),
            ],
            channels: vec![w("SDK", 60), w("WAP", 20), w("PC", 10), w("POS", 10)],
            tools: vec![w("bank_card", 50), w("balance", 35), w("credit", 15)],
            coupon_fraction: 0.2,
            max_in_flight: 200_000,
            seed: 7,
        }
    }
}

fn frac(field: &str, v: f64) -> Result<(), crate::SimError> {
    if !(0.0..=1.0).contains(&v) {
        return Err(crate::SimError::config(
            field,
            format!("{v} is not within 0..=1"),
        ));
    }
    Ok(())
}

impl LoadConfig {
    pub fn validate(&self) -> Result<(), crate::SimError> {
        use crate::SimError;
        if !(self.tps > 0.0 && self.tps.is_finite()) {
            return Err(SimError::config("tps", "must be > 0"));
        }
        if !(self.duration_s > 0.0 && self.duration_s.is_finite()) {
            return Err(SimError::config("duration_s", "must be > 0"));
        }
        if self.ramp_s.is_nan() || self.ramp_s < 0.0 {
            return Err(SimError::config("ramp_s", "must be >= 0"));
        }
        frac("shadow_fraction", self.shadow_fraction)?;
        frac("hot_merchant_share", self.hot_merchant_share)?;
        frac("coupon_fraction", self.coupon_fraction)?;
        if self.users == 0 || self.merchants == 0 {
            return Err(SimError::config("users/merchants", "must be > 0"));
        }
        for (field, list, known) in [
            (
                "scenes",
                &self.scenes,
                &["quick_pay", "scan_pay", "bill_pay", "mobile_topup"][..],
            ),
            ("channels", &self.channels, &["SDK", "WAP", "PC", "POS"][..]),
            (
                "tools",
                &self.tools,
                &["bank_card", "balance", "credit"][..],
            ),
        ] {
            if list.iter().map(|x| x.weight as u64).sum::<u64>() == 0 {
                return Err(SimError::config(field, "weights sum to 0"));
            }
            if let Some(x) = list.iter().find(|x| !known.contains(&x.name.as_str())) {
                return Err(SimError::config(
                    field,
                    format!("unknown {:?} (known: {known:?})", x.name),
                ));
            }
        }
        Ok(())
    }
}

fn pick(list: &[Weighted], r: u64) -> &str {
    let total: u64 = list.iter().map(|x| x.weight as u64).sum();
    let mut r = r % total.max(1);
    for x in list {
        if r < x.weight as u64 {
            return &x.name;
        }
        r -= x.weight as u64;
    }
    &list[0].name
}

/// Draws payments from the mix.
pub struct PaymentGen {
    cfg: LoadConfig,
    users: Arc<Zipf>,
    merchants: Arc<Zipf>,
    rng: SmallRng,
    scenes: Vec<(Arc<str>, Biz)>,
    channels: Vec<Arc<str>>,
}

fn biz_of(scene: &str) -> Biz {
    match scene {
        "bill_pay" => Biz::Bill,
        "mobile_topup" => Biz::Topup,
        _ => Biz::Goods,
    }
}

impl PaymentGen {
    pub fn new(cfg: &LoadConfig) -> Self {
        Self {
            users: Arc::new(Zipf::new(cfg.users, cfg.user_zipf)),
            merchants: Arc::new(Zipf::new(cfg.merchants, cfg.merchant_zipf)),
            rng: SmallRng::seed_from_u64(cfg.seed),
            scenes: cfg
                .scenes
                .iter()
                .map(|s| (Arc::from(s.name.as_str()), biz_of(&s.name)))
                .collect(),
            channels: cfg
                .channels
                .iter()
                .map(|c| Arc::from(c.name.as_str()))
                .collect(),
            cfg: cfg.clone(),
        }
    }

    /// The next payment; `hot` is the guard's hot merchant (id, share) if any.
    pub fn next(&mut self, hot: Option<(u32, f64)>) -> PaymentInput {
        let r = &mut self.rng;
        let si = {
            let name = pick(&self.cfg.scenes, r.random());
            self.cfg
                .scenes
                .iter()
                .position(|s| s.name == name)
                .unwrap_or(0)
        };
        let ci = {
            let name = pick(&self.cfg.channels, r.random());
            self.cfg
                .channels
                .iter()
                .position(|s| s.name == name)
                .unwrap_or(0)
        };
        let tool = match pick(&self.cfg.tools, r.random()) {
            "balance" => PayTool::Balance,
            "credit" => PayTool::Credit,
            _ => PayTool::BankCard,
        };
        let (scene, biz) = self.scenes[si].clone();
        let user = self.users.sample(r.random());
        let mut merchant = self.merchants.sample(r.random());
        if self.cfg.hot_merchant_share > 0.0 && r.random::<f64>() < self.cfg.hot_merchant_share {
            merchant = 0;
        }
        if let Some((id, share)) = hot {
            if r.random::<f64>() < share {
                merchant = id;
            }
        }
        let amount_cents = match biz {
            Biz::Topup => [1_000, 2_000, 5_000, 10_000, 20_000][r.random_range(0..5)],
            _ => {
                let b: f64 = r.random();
                if b < 0.70 {
                    r.random_range(100..20_000)
                } else if b < 0.95 {
                    r.random_range(20_000..200_000)
                } else {
                    r.random_range(200_000..2_000_000)
                }
            }
        };
        PaymentInput {
            user,
            merchant,
            amount_cents,
            scene,
            channel: self.channels[ci].clone(),
            biz,
            tool,
            coupon: r.random::<f64>() < self.cfg.coupon_fraction,
            shadow: r.random::<f64>() < self.cfg.shadow_fraction,
        }
    }
}

/// What a load run achieved.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    pub payments: u64,
    pub succeeded: u64,
    pub shadow_payments: u64,
    /// Payments not made because `max_in_flight` were in flight.
    pub shed: u64,
    pub elapsed_s: f64,
    pub achieved_tps: f64,
    pub success_rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Payments by result code.
    pub codes: BTreeMap<String, u64>,
}

#[derive(Default)]
struct Tally {
    hist: Histogram,
    payments: u64,
    succeeded: u64,
    shadow: u64,
    codes: BTreeMap<String, u64>,
}

impl Tally {
    fn add(&mut self, ok: bool, shadow: bool, code: &str, latency_us: u64) {
        self.payments += 1;
        self.succeeded += u64::from(ok);
        self.shadow += u64::from(shadow);
        self.hist.record(latency_us);
        match self.codes.get_mut(code) {
            Some(n) => *n += 1,
            None => {
                self.codes.insert(code.to_string(), 1);
            }
        }
    }
    fn report(&self, shed: u64, elapsed_s: f64) -> LoadReport {
        LoadReport {
            payments: self.payments,
            succeeded: self.succeeded,
            shadow_payments: self.shadow,
            shed,
            elapsed_s,
            achieved_tps: if elapsed_s > 0.0 {
                self.payments as f64 / elapsed_s
            } else {
                0.0
            },
            success_rate: if self.payments > 0 {
                self.succeeded as f64 / self.payments as f64
            } else {
                0.0
            },
            p50_ms: self.hist.quantile(0.5) as f64 / 1000.0,
            p99_ms: self.hist.quantile(0.99) as f64 / 1000.0,
            codes: self.codes.clone(),
        }
    }
}

/// Runs open-loop load against `sim` and waits for every payment it started.
pub async fn run_load(sim: &Arc<Sim>, cfg: &LoadConfig) -> Result<LoadReport, crate::SimError> {
    cfg.validate()?;
    let guard = sim.guard();
    let mut gen = PaymentGen::new(cfg);
    let tally = Arc::new(Mutex::new(Tally::default()));
    let in_flight = Arc::new(AtomicU64::new(0));
    let mut shed = 0u64;
    let start = Instant::now();
    let mut issued = 0u64;
    let mut planned = 0.0f64;
    let mut last = 0.0f64;
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        let t = start.elapsed().as_secs_f64();
        if t >= cfg.duration_s {
            break;
        }
        // Integrate the rate over the step since the last tick.
        let ramp = |x: f64| {
            if cfg.ramp_s > 0.0 {
                (x / cfg.ramp_s).min(1.0)
            } else {
                1.0
            }
        };
        let rate = cfg.tps * guard.load_multiplier().max(0.0);
        planned += rate * (t - last) * (ramp(t) + ramp(last)) / 2.0;
        last = t;
        let hot = guard
            .hot_merchant()
            .and_then(|(k, share)| merchant_id(&k).map(|id| (id, share)));
        while (issued as f64) < planned.floor() {
            issued += 1;
            if in_flight.load(Ordering::Relaxed) >= cfg.max_in_flight {
                shed += 1;
                continue;
            }
            let p = gen.next(hot);
            let shadow = p.shadow;
            let sim = sim.clone();
            let tally = tally.clone();
            let inf = in_flight.clone();
            inf.fetch_add(1, Ordering::Relaxed);
            tasks.spawn(async move {
                let o = sim.pay(p).await;
                tally.lock().add(o.ok, shadow, &o.code, o.latency_us);
                inf.fetch_sub(1, Ordering::Relaxed);
            });
        }
        while tasks.try_join_next().is_some() {}
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    while tasks.join_next().await.is_some() {}
    let rep = tally.lock().report(shed, elapsed);
    Ok(rep)
}

/// Closed loop: `workers` payers paying back to back for `duration`; for benchmarks.
#[cfg(feature = "bench")]
pub(crate) async fn saturate(
    sim: &Arc<Sim>,
    cfg: &LoadConfig,
    workers: usize,
    duration: Duration,
) -> LoadReport {
    let tally = Arc::new(Mutex::new(Tally::default()));
    let base = PaymentGen::new(cfg);
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..workers.max(1) {
        let mut gen = base.fork(cfg.seed.wrapping_add(i as u64 * 7919));
        let sim = sim.clone();
        let tally = tally.clone();
        tasks.spawn(async move {
            let mut local = Tally::default();
            while Instant::now() < deadline {
                let p = gen.next(None);
                let shadow = p.shadow;
                let o = sim.pay(p).await;
                local.add(o.ok, shadow, &o.code, o.latency_us);
            }
            let mut t = tally.lock();
            t.hist.merge(&local.hist);
            t.payments += local.payments;
            t.succeeded += local.succeeded;
            t.shadow += local.shadow;
            for (k, v) in local.codes {
                *t.codes.entry(k).or_default() += v;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = start.elapsed().as_secs_f64();
    let rep = tally.lock().report(0, elapsed);
    rep
}

#[cfg(feature = "bench")]
impl PaymentGen {
    /// Another generator with the same mix and tables (shared) and its own seed.
    pub(crate) fn fork(&self, seed: u64) -> Self {
        Self {
            cfg: self.cfg.clone(),
            users: self.users.clone(),
            merchants: self.merchants.clone(),
            rng: SmallRng::seed_from_u64(seed),
            scenes: self.scenes.clone(),
            channels: self.channels.clone(),
        }
    }
}
