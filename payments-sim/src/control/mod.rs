//! The control plane of payments-sim: Sentinel-style rules (flow, hot parameter,
//! degrade/circuit breaker), degrade switches, bank channel weights, zone split,
//! service versions and ledger strategies, instance isolation, pool resizes and
//! the ledger's database switchover — and, through [`Steering`], the
//! [`crate::guard::Guard`] the services consult on every call. `api` serves it
//! over HTTP (token-authenticated), including Sentinel's command endpoints.
//!
//! Must not: block or allocate on the payment path when nothing is configured;
//! emit change events for faults (only for control changes and deploys).

pub mod api;
pub mod bench;
pub mod breaker;
pub mod error;
mod hot;
mod levers;
pub mod limits;
mod release;
pub mod rules;
pub mod snapshot;
pub mod state;
mod steering;
pub mod window;

pub use error::ControlError;
pub use levers::{
    InstanceView, InstancesView, IsolateBody, LedgerDbView, SwitchoverBody, MAX_POOL,
};
pub use rules::{DegradeRule, FlowRule, ParamFlowItem, ParamFlowRule, RuleType, PARAM_KEYS};
pub use state::ChannelBody;
pub use steering::{ChangeSink, Steering, CHANNEL_SERVICE, LEDGER_SERVICE};
