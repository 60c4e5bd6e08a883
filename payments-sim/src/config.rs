//! Configuration of the simulated payment system (serde, unknown fields refused).
//! The load generator has its own config in `loadgen`.

use crate::guard::LedgerStrategy;
use serde::Deserialize;

/// How waits that are not contention (bank latency, injected delays) are spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Delays {
    /// Really wait (`tokio::time::sleep`): wall-clock behaviour, for live runs.
    Real,
    /// Add the time to the measured durations without waiting: for saturation
    /// benchmarks, where waiting would only measure the timer.
    Virtual,
}

/// The whole system.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimConfig {
    pub delays: Delays,
    pub ledger: LedgerConfig,
    /// Payments of at least this amount also get the (degradable) async risk check.
    pub risk_async_min_cents: i64,
    /// Payments above this amount are refused by the core risk check.
    pub risk_max_cents: i64,
    /// Coupon budget in cents; marketing refuses coupons once spent.
    pub coupon_budget_cents: i64,
    /// Value of one coupon in cents.
    pub coupon_cents: i64,
    /// Zones; users are split between them by hash unless the guard says otherwise.
    pub zones: Vec<String>,
    /// Built-in version of every service (the guard may report another).
    pub version: String,
    /// Instances of each service per zone (1..=16): a service runs
    /// `zones.len() * instances_per_zone` instances named `{service}-{n}`,
    /// instance n in zone `zones[(n-1) % zones.len()]`.
    pub instances_per_zone: u32,
    /// Calls a second each bounded service absorbs across its instances (`[capacity]
    /// cashier = 900.0`); beyond it calls queue, slow down and time out (`capacity.rs`).
    /// A service not named is unbounded (the default: every service).
    pub capacity: std::collections::BTreeMap<String, f64>,
    /// How long a caller waits in a bounded service's queue before it gives up (ms).
    pub queue_timeout_ms: u64,
}

/// The entry's capacity over the offered payments a second that `warroom up` and drills
/// provision ([`SimConfig::provision_entry`]).
pub const ENTRY_HEADROOM: f64 = 3.0;

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            delays: Delays::Real,
            ledger: LedgerConfig::default(),
            risk_async_min_cents: 50_000,
            risk_max_cents: 5_000_000,
            coupon_budget_cents: i64::MAX / 4,
            coupon_cents: 500,
            zones: vec!["zone-a".into(), "zone-b".into()],
            version: "1.0.0".into(),
            instances_per_zone: 2,
            capacity: std::collections::BTreeMap::new(),
            queue_timeout_ms: 1_000,
        }
    }
}

/// The accounting core.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LedgerConfig {
    /// Modelled row-lock hold time per posting, microseconds (0 = none). Waited for
    /// real (tokio's timer: at least 1 ms when not 0), so contention is real.
    pub hold_us: u64,
    /// Sub-accounts of a `split` account.
    pub split_ways: u32,
    /// Most postings a `buffered` account applies under one row lock.
    pub batch_max: usize,
    /// Opening balance of every user's balance account.
    pub user_opening_cents: i64,
    /// Credit line of every user.
    pub credit_limit_cents: i64,
    /// Default strategy for user accounts (debited with a balance check).
    pub user_strategy: LedgerStrategy,
    /// Default strategy for merchant accounts (credited by every payment).
    pub merchant_strategy: LedgerStrategy,
    /// Default strategy for internal accounts (bank clearing accounts).
    pub internal_strategy: LedgerStrategy,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        Self {
            hold_us: 1000,
            split_ways: 8,
            batch_max: 4096,
            user_opening_cents: 1_000_000_000,
            credit_limit_cents: 50_000_000,
            user_strategy: LedgerStrategy::Lock,
            merchant_strategy: LedgerStrategy::Buffered,
            internal_strategy: LedgerStrategy::Buffered,
        }
    }
}

impl SimConfig {
    /// Parses a TOML config; errors name the field.
    pub fn from_toml(s: &str) -> Result<SimConfig, crate::SimError> {
        let c: SimConfig =
            toml::from_str(s).map_err(|e| crate::SimError::config("(toml)", e.to_string()))?;
        c.validate()?;
        Ok(c)
    }
    /// Provisions the entry service (cashier, where every payment starts) for `headroom`
    /// times `tps` calls a second, unless the config already bounds it: with the default
    /// headroom of 3 a flash crowd of twice the load is absorbed and a surge of three
    /// times it is not. `tps` 0 (no simulated load) leaves the system unbounded.
    pub fn provision_entry(&mut self, tps: f64, headroom: f64) {
        if tps > 0.0 && headroom > 0.0 {
            let entry = crate::msg::Service::Cashier.name().to_string();
            self.capacity.entry(entry).or_insert(tps * headroom);
        }
    }

    pub fn validate(&self) -> Result<(), crate::SimError> {
        use crate::SimError;
        if self.zones.is_empty() {
            return Err(SimError::config("zones", "at least one zone"));
        }
        if !(1..=crate::instances::MAX_PER_ZONE).contains(&self.instances_per_zone) {
            return Err(SimError::config("instances_per_zone", "must be 1..=16"));
        }
        if self.zones.iter().any(|z| z.is_empty()) || self.zones.len() > 64 {
            return Err(SimError::config("zones", "1..=64 zones, each with a name"));
        }
        if self.ledger.split_ways == 0 || self.ledger.split_ways > 1024 {
            return Err(SimError::config("ledger.split_ways", "must be 1..=1024"));
        }
        if self.ledger.batch_max == 0 {
            return Err(SimError::config("ledger.batch_max", "must be > 0"));
        }
        if self.ledger.user_opening_cents < 0 || self.ledger.credit_limit_cents < 0 {
            return Err(SimError::config(
                "ledger",
                "opening balance and credit limit must be >= 0",
            ));
        }
        for (svc, per_s) in &self.capacity {
            if crate::msg::Service::from_name(svc).is_none() {
                return Err(SimError::config(
                    "capacity",
                    format!("{svc:?} is not a service of payments-sim"),
                ));
            }
            if !(per_s.is_finite() && *per_s > 0.0) {
                return Err(SimError::config(
                    "capacity",
                    format!("{svc}: calls a second must be a positive number"),
                ));
            }
        }
        if self.queue_timeout_ms == 0 || self.queue_timeout_ms > 60_000 {
            return Err(SimError::config("queue_timeout_ms", "must be 1..=60000"));
        }
        if self.coupon_cents < 0 || self.risk_max_cents <= 0 {
            return Err(SimError::config(
                "coupon_cents/risk_max_cents",
                "must be positive",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn toml_refuses_unknown_fields_and_names_them() {
        let e = SimConfig::from_toml("[ledger]\nhold_ms = 3\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("hold_ms"), "{e}");
        let c =
            SimConfig::from_toml("delays = \"virtual\"\n[ledger]\nmerchant_strategy = \"split\"\n")
                .unwrap();
        assert_eq!(c.delays, Delays::Virtual);
        assert_eq!(c.ledger.merchant_strategy, LedgerStrategy::Split);
        assert!(SimConfig::from_toml("zones = []").is_err());
        assert_eq!(SimConfig::default().instances_per_zone, 2);
        assert_eq!(
            SimConfig::from_toml("instances_per_zone = 3\n")
                .unwrap()
                .instances_per_zone,
            3
        );
        for bad in ["instances_per_zone = 0", "instances_per_zone = 17"] {
            let e = SimConfig::from_toml(bad).unwrap_err().to_string();
            assert!(e.contains("instances_per_zone"), "{bad}: {e}");
        }
        let e = SimConfig::from_toml("instances_per_zone = \"two\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("instances_per_zone"), "{e}");
    }
}
