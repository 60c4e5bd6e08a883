//! healer: runs contingency plans against a diagnosed fault and proves recovery.
//!
//! Owns: the plan model in TOML with its validation ([`plan`]) and the built-in plans for
//! every payments-sim fault; the executors that act — payments-sim's control API, Sentinel's
//! command API, a generic webhook — behind one trait ([`executor`]); the [`Engine`] that, for
//! an incident's [`Trigger`], matches a plan, applies guards, waits for approval, runs the
//! typed steps (zone shifts stage by stage), verifies, undoes and escalates — each of those a
//! [`PlanRun`] whose events ([`RunUpdate`]) the caller puts on the incident's timeline; and
//! the append-only [`AuditLog`].
//!
//! Must not: own incidents (the `command` crate does: one id from detection to recovery;
//! a run only carries that id); depend on the analyzer, the SLA or alerts crates or
//! payments-sim (callers fill [`Trigger`] and answer the [`Probe`]); steer a system other
//! than through an executor; sleep on timing (the engine reads the `Clock` it is given and
//! moves on `tick`).

mod audit;
mod engine;
mod error;
pub mod executor;
pub mod plan;
mod probe;
mod run;
mod trigger;

pub use audit::{AuditEntry, AuditLog};
pub use engine::{Engine, EngineConfig, HarmGuard, PlanOption, Probe};
pub use error::HealerError;
pub use executor::{Applied, ExecError, Executor, ExecutorKind, Executors};
pub use plan::{builtin_plans, parse_plan, Action, ApprovalMode, Plan};
pub use probe::OutcomeProbe;
pub use run::{
    ActionRecord, PlanRun, RunEvent, RunEventKind, RunId, RunState, RunSummary, RunUpdate,
};
pub use trigger::Trigger;
