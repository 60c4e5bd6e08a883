//! healer: runs contingency plans against a diagnosed fault and proves recovery.
//!
//! Owns: the plan model in TOML with its validation ([`plan`]) and the built-in plans for
//! every payments-sim fault; the executors that act — payments-sim's control API, Sentinel's
//! command API, a generic webhook — behind one trait ([`executor`]); the engine that matches
//! a [`Trigger`] to a plan, applies guards, waits for approval, runs the typed steps (zone
//! shifts stage by stage), verifies, undoes and escalates ([`engine`]); incidents with their
//! timeline, MTTD and MTTR ([`incident`]) and the append-only audit log ([`audit`]).
//!
//! Must not: depend on the analyzer, the SLA crate or payments-sim (callers fill
//! [`Trigger`] and answer the [`Probe`]); steer a system other than through an executor;
//! sleep on timing (the engine reads the `Clock` it is given and moves on `tick`).

pub mod audit;
pub mod engine;
pub mod error;
pub mod executor;
pub mod incident;
pub mod notice;
pub mod plan;
pub mod probe;
pub mod trigger;

pub use audit::{AuditEntry, AuditLog};
pub use engine::{Engine, EngineConfig, Probe};
pub use error::HealerError;
pub use executor::{Applied, ExecError, Executor, ExecutorKind, Executors};
pub use incident::{
    Incident, IncidentState, IncidentSummary, Reconciliation, TimelineEntry, TimelineKind,
};
pub use notice::Notice;
pub use plan::{builtin_plans, parse_plan, Action, ApprovalMode, Plan};
pub use probe::OutcomeProbe;
pub use trigger::Trigger;
