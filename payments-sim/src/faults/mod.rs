//! Fault injection: what can break (kinds and their targets), how a fault is
//! written (`KIND[:TARGET][@START_S[+DURATION_S]]` or a JSON body), and the set of
//! faults live in a run with its ground truth for drills.
//!
//! Faults never announce themselves: their starts and ends are kept only in
//! the ground truth (`Steering::ground_truth`), never as change events. A bad release and a
//! config push are the exceptions by nature: a release is a deploy and a config push is a
//! config change, and both are announced.
//!
//! Shapes and scopes (`shape.rs`, `scope.rs`): a fault may ramp up (`ramp_s`), flap
//! (`flap_on_s`/`flap_off_s`) and be confined to a scene, a channel, a merchant group or
//! shadow traffic.

mod active;
mod effects;
mod scope;
mod shape;
mod spec;

pub(crate) use active::FaultSet;
pub use active::{ActivePeriod, GroundTruth};
pub use spec::{parse_fault, FaultSpec};

/// The ledger's databases: the primary at start, then its standby.
pub const LEDGER_DBS: [&str; 2] = ["ledger-db-1", "ledger-db-2"];

/// What a fault's target is checked and bound against when it is installed:
/// the system's instances (an `instance:NAME` must exist) and the ledger's
/// primary database (a slow-ledger without a database binds to it).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Binding<'a> {
    pub instances: &'a crate::instances::Instances,
    pub primary_db: &'a str,
}

use serde::{Deserialize, Serialize};

/// Default targets and magnitudes when a spec leaves them out.
pub mod defaults {
    /// latency / errors / timeout without a target hit this service.
    pub const SERVICE: &str = "payment-engine";
    /// bank-outage without a target takes down this bank.
    pub const BANK: &str = "bank-a";
    /// bad-release / pool-exhaustion without a target hit this service.
    pub const RELEASE_SERVICE: &str = "payment";
    /// config-push without a target breaks this service.
    pub const CONFIG_SERVICE: &str = "payment";
    pub const POOL_SERVICE: &str = "accounting";
    /// hot-merchant without a target makes this merchant hot.
    pub const MERCHANT: &str = "m-hot";
    /// zone-outage without a target takes down this zone.
    pub const ZONE: &str = "zone-b";
    pub const LATENCY_MS: u64 = 300;
    pub const ERROR_RATE: f64 = 0.5;
    pub const TIMEOUT_MS: u64 = 1000;
    pub const SURGE_FACTOR: f64 = 3.0;
    pub const HOT_SHARE: f64 = 0.5;
    pub const RELEASE_ERROR_RATE: f64 = 0.3;
    pub const RELEASE_LATENCY_MS: u64 = 100;
    /// Share of a config-pushed service's calls that fail (as for errors).
    pub const CONFIG_ERROR_RATE: f64 = ERROR_RATE;
    /// Who pushes the bad config (the change event's `by`): an operator.
    pub const CONFIG_PUSHED_BY: &str = "ops-lin";
    pub const POOL_SIZE: u32 = 2;
    pub const POOL_WAIT_MS: u64 = 200;
    pub const SLOW_LEDGER_MS: u64 = 50;
}

/// What breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    Latency,
    Errors,
    Timeout,
    BankOutage,
    Surge,
    HotMerchant,
    BadRelease,
    PoolExhaustion,
    SlowLedger,
    ZoneOutage,
    /// An operator's config push that breaks a service until it is reverted
    /// (`/control/configs`).
    ConfigPush,
}

impl FaultKind {
    pub(crate) const ALL: [FaultKind; 11] = [
        Self::Latency,
        Self::Errors,
        Self::Timeout,
        Self::BankOutage,
        Self::Surge,
        Self::HotMerchant,
        Self::BadRelease,
        Self::PoolExhaustion,
        Self::SlowLedger,
        Self::ZoneOutage,
        Self::ConfigPush,
    ];
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Latency => "latency",
            Self::Errors => "errors",
            Self::Timeout => "timeout",
            Self::BankOutage => "bank-outage",
            Self::Surge => "surge",
            Self::HotMerchant => "hot-merchant",
            Self::BadRelease => "bad-release",
            Self::PoolExhaustion => "pool-exhaustion",
            Self::SlowLedger => "slow-ledger",
            Self::ZoneOutage => "zone-outage",
            Self::ConfigPush => "config-push",
        }
    }
    pub(crate) fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for FaultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a fault hits.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub(crate) enum Target {
    /// A service, or one operation of it.
    Service {
        service: String,
        operation: Option<String>,
    },
    /// A bank channel (`bank:NAME`).
    Bank {
        bank: String,
    },
    Zone {
        zone: String,
    },
    Merchant {
        merchant: String,
    },
    /// One instance of a service (`instance:payment-engine-2`): latency,
    /// errors and timeout on the calls it serves.
    Instance {
        service: String,
        instance: String,
    },
    /// One of the ledger's databases ([`LEDGER_DBS`]; slow-ledger). Empty
    /// until installed: then the primary of that moment.
    #[serde(rename = "ledger-db")]
    LedgerDb {
        db: String,
    },
    /// The whole run (surge).
    Global,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Service {
                service,
                operation: Some(op),
            } => write!(f, "{service}:{op}"),
            Target::Service {
                service,
                operation: None,
            } => f.write_str(service),
            Target::Bank { bank } => write!(f, "bank:{bank}"),
            Target::Zone { zone } => f.write_str(zone),
            Target::Merchant { merchant } => f.write_str(merchant),
            Target::Instance { instance, .. } => write!(f, "instance:{instance}"),
            Target::LedgerDb { db } => f.write_str(db),
            Target::Global => f.write_str("*"),
        }
    }
}

/// Why a fault spec was refused; `field` names the part that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fault {spec:?}: {field}: {reason}")]
pub struct FaultError {
    pub spec: String,
    pub field: String,
    pub reason: String,
}
