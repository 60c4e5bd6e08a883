//! command: the war room's command loop — the one [`Incident`] from detection to recovery,
//! and the rules between the analyzer's diagnosis and the healer's plans.
//!
//! Owns: the incident book (opened by the analyzer's detection, refined as the diagnosis
//! improves, closed recovered or superseded: [`IncidentBook`]); one typed timeline per
//! incident that carries the plan runs, approvals, actions, verification, reconciliation and
//! notes, under one id end to end (API, screen, audit, drill JSON); the rules that turn a
//! diagnosis into a plan run (target mapping, the localisation wait, revisions, what counts
//! as cleared: [`RulesConfig`]); reconciliation after a heal through [`Books`]; the alert
//! samples the analyzer and SLA publish ([`Alerting`]); notices for people; the overview's
//! figures ([`figures`]). [`CommandLoop`] runs it all, one step after each analyzer tick.
//!
//! Must not: compute figures from raw records (the analyzer does), act on a system other
//! than through the healer's executors, know payments-sim (its books come in through
//! [`Books`]), or read the wall clock (time comes from the `Clock`).

mod alerting;
mod book;
mod books;
mod command_loop;
mod error;
pub mod figures;
mod incident;
mod meter;
mod notice;
mod rules;

pub use alerting::{default_alerts_config, samples, Alerting, DEFAULT_ALERTS};
pub use book::{BookConfig, IncidentBook, Observation};
pub use books::{Books, BooksReport, Mismatch};
pub use command_loop::{CommandConfig, CommandLoop, DiagnosisSource, Situation};
pub use error::CommandError;
pub use incident::{
    DamagePoint, Entry, EntryKind, Incident, IncidentStatus, Reconciliation, RunRecord,
    DAMAGE_POINTS,
};
pub use meter::{FailureMeter, PaymentTally};
pub use notice::{send_email, Notice, NOTIFIED};
pub use rules::{drained_zone, target_of, trigger_of, Readings, RulesConfig, Targets};
