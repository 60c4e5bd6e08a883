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
//! per-second rollups the analyzer merges.

pub mod config;
pub mod counts;
pub mod duration;
pub mod engine;
pub mod error;

pub use config::{BankSpec, BurnPolicy, Objective, ObjectiveKind, Objectives, DEFAULT_OBJECTIVES};
pub use counts::Counts;
pub use engine::{
    slo, BurnAlert, BurnStatus, Layer, LayerFigure, LayerReport, ObjectiveStatus, ReportRow, Sla,
    SlaReport, Sli, SliFigures, SliStatus, SloSnapshot,
};
pub use error::SlaError;
