//! screen: the contract between the dashboard's server (axum, `dashboard/`) and the
//! war-room screen (the Leptos wasm app, `dashboard/app`): one serde type for every body
//! the screen reads or sends under `/api/…` and for every live-stream event. Both sides
//! compile against these types, so a renamed or retyped field is a compile error on
//! both, not a blank panel.
//!
//! Owns: the types, their JSON names (kept as the API has always spelled them), and the
//! checks a request must pass (shared so the app can check before it sends).
//!
//! Must not: depend on anything but `serde` (it is built for wasm32), compute figures,
//! or know where they come from — the root wiring fills these types from the analyzer,
//! SLA, alerts, healer and collector.

mod actions;
mod alerts;
mod changes;
mod figures;
mod incidents;
mod levers;
mod services;
mod session;
mod slo;
mod topology;

pub use actions::{
    is_token, Approved, DrillInjected, DrillKind, DrillRequest, InvalidRequest, RejectRequest,
    Rejected, SilenceRequest,
};
pub use alerts::{Alert, AlertState, MatchOp, Matcher, Silence};
pub use changes::{ChangeEvent, ChangeKind, SpanKind, TraceSpan};
pub use figures::{Health, Overview, OverviewBody, SceneStatus};
pub use incidents::{
    Candidate, DamagePoint, Impact, IncidentDetail, IncidentRow, IncidentStatus, Plan, PlanStatus,
    Reconciliation, RunAction, RunDetail, TimelineEntry, TimelineKind,
};
pub use levers::{
    PlanApproval, PlanChoice, ResolveRequest, Resolved, RunRequest, RunStarted, UndoRequest,
    Undone, MAX_NOTE_BYTES,
};
pub use services::{
    Baseline, HealthJudgement, HotScope, HotSpot, ServiceRow, ServiceView, WindowStats,
};
pub use session::{Ack, ErrorBody, LoginRequest, Me, Role};
pub use slo::{
    BurnAlert, BurnPolicy, BurnStatus, Layer, LayerFigure, LayerReport, ObjectiveKind, Sli,
    SliFigures, SliStatus, SloBoard, SloObjective,
};
pub use topology::{NodeDetail, NodeKind, Topology, TopologyEdge, TopologyNode};

#[cfg(test)]
mod tests;
