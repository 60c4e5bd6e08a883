//! payments-sim: the observed payment system — cashier, trade (acquiring) with
//! business-type plugins, payment service, payment engine (bank card, balance,
//! credit), accounting core (double-entry ledger, hot-account strategies), clearing,
//! bank gateway (virtual banks from data files, routing by weight and health), risk
//! (sync core check, degradable async check) and marketing (degradable coupons);
//! its load generator; reconciliation; and (issue 3) faults and control plane.
//!
//! Every call writes digests through `digest`'s `Recorder` (server, client and
//! integrator records, W3C `traceparent` across every hop). Two run modes share
//! handlers and digests: in-process and HTTP ([`Mode`]).
//!
//! Must not: depend on any war-room crate but `digest` (the watched system never
//! depends on its watchers); block the payment path on observability; mark `pub`
//! what no other crate uses (`unreachable_pub` warns).

#![warn(unreachable_pub)]

pub mod bank;
#[cfg(feature = "bench")]
pub mod bench;
mod capacity;
mod config;
pub mod control;
mod ctx;
mod error;
pub mod faults;
pub mod guard;
mod hotpath;
mod instances;
mod ledger;
pub mod loadgen;
pub mod msg;
mod recon;
mod rpc;
mod services;
mod sim;
mod store;
mod world;

pub use config::{Delays, LedgerConfig, SimConfig, ENTRY_HEADROOM};
pub use error::SimError;
pub use instances::Instances;
pub use ledger::{AccountId, JournalEntry, Ledger};
pub use loadgen::{run_load, LoadConfig, LoadReport};
pub use recon::{Mismatch, ReconReport};
pub use sim::{Mode, PayOutcome, PaymentInput, Sim, SimBuilder};
