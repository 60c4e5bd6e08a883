//! The control plane of payments-sim: Sentinel-style rules (flow, hot parameter,
//! degrade/circuit breaker), degrade switches, the risk sync-check cap, bank channel
//! weights, zone split,
//! service versions, service configs (reverting an operator's config push) and ledger strategies, instance isolation, pool resizes and
//! the ledger's database switchover — and, through [`Steering`], the
//! [`crate::guard::Guard`] the services consult on every call. `api` serves it
//! over HTTP (token-authenticated), including Sentinel's command endpoints.
//!
//! Imports run one way: `api` → `steering` (and its `Guard` impl, `hot`) → the
//! parts it composes (`rule_book`, `switches`, `routing`, `releases`, `configs`, and the
//! crate's `faults`) → `changes`, `error` and the rule model (`rules`, `limits`,
//! `breaker`, `window`).
//!
//! Must not: block or allocate on the payment path when nothing is configured;
//! emit change events for faults (only for control changes, deploys and config pushes).

pub mod api;
#[cfg(feature = "bench")]
pub mod bench;
mod breaker;
mod changes;
mod configs;
mod declines;
mod error;
mod hot;
mod limits;
mod releases;
mod risk;
mod routing;
mod rule_book;
mod rules;
mod steering;
mod switches;
mod window;

pub use breaker::BreakerState;
pub use changes::ChangeSink;
pub use declines::DeclinesBody;
pub use error::ControlError;
pub use risk::{RiskBody, RiskView};
pub use routing::{
    ChannelBody, InstanceView, InstancesView, IsolateBody, LedgerDbView, SwitchoverBody,
};
pub use rules::RuleType;
pub use steering::Steering;
