//! sla: judges the watched system against its objectives — per service, per
//! scene and per external dependency (a bank, checked layer by layer:
//! reachable → available → within timeout → within contract, first failing
//! layer reported) — with error budgets, multi-window multi-burn-rate
//! evaluation (the SRE workbook table by default, windows down to seconds) and
//! SLA reports for any period.
//!
//! Owns: the objectives file model, good/bad counters per objective, burn rates.
//! Must not: do I/O, read the wall clock (time comes from a `digest::Clock`),
//! or depend on war-room crates other than `digest`: it reads the same
//! per-second rollups the analyzer merges; mark `pub` what no other crate uses
//! (`unreachable_pub` warns).

#![warn(unreachable_pub)]

mod config;
mod counts;
mod duration;
mod engine;
mod error;

pub use config::{BankSpec, BurnPolicy, Objective, ObjectiveKind, Objectives, MAX_DISCOVERED};
pub use engine::{
    slo, BurnAlert, BurnStatus, Layer, LayerFigure, LayerReport, ObjectiveStatus, ReportRow, Sla,
    SlaReport, Sli, SliFigures, SliStatus, SloSnapshot,
};
pub use error::SlaError;
