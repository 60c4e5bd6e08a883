//! The seam between the screen and the rest of war-room: [`DashboardBackend`], the
//! figures and actions the dashboard reads and calls, each typed with the `screen`
//! crate's types (the same ones the wasm app deserializes).
//!
//! Queries are cheap and synchronous (they read in-memory state); a trace (read from
//! storage) and the actions return a future because they may wait or call out (the
//! healer, the payments-sim control plane). The commander's levers (the plans that can
//! answer an incident, run, undo, resolve) are actions too.

use screen::{
    Alert, Approved, ChangeEvent, DrillInjected, DrillKind, DrillRequest, HotSpot, IncidentDetail,
    IncidentRow, InvalidRequest, Overview, PlanChoice, Rejected, ResolveRequest, Resolved,
    RunRequest, RunStarted, SceneStatus, ServiceRow, Silence, SilenceRequest, SloBoard, Topology,
    TraceSpan, UndoRequest, Undone,
};
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;

/// Why a backend query or action failed. Mapped to 404/400/409/503 at the edge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl From<InvalidRequest> for BackendError {
    fn from(e: InvalidRequest) -> Self {
        BackendError::Invalid(e.0)
    }
}

pub type BackendResult<T> = Result<T, BackendError>;

/// A backend answer that may have to wait: a trace read from storage, an action.
pub type BackendFuture<T> = Pin<Box<dyn Future<Output = BackendResult<T>> + Send + 'static>>;

/// The typed result of an action (approve, reject, run, undo, resolve, silence, drill).
pub type ActionFuture<T> = BackendFuture<T>;

/// Who asked for an action (already authenticated and authorised by the dashboard).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub user: String,
    pub role: crate::auth::Role,
}

/// What the dashboard reads and calls. The root wiring implements it over the analyzer,
/// SLA, alerts, healer and the collector's store; defaults return empty lists and
/// refuse actions, so a partial backend shows empty panels instead of failing.
pub trait DashboardBackend: Send + Sync + 'static {
    fn overview(&self) -> Overview;
    fn scenes(&self) -> Vec<SceneStatus>;
    fn topology(&self) -> Topology;
    fn services(&self) -> Vec<ServiceRow> {
        Vec::new()
    }
    fn hotspots(&self) -> Vec<HotSpot> {
        Vec::new()
    }
    /// Newest first.
    fn incidents(&self) -> Vec<IncidentRow> {
        Vec::new()
    }
    fn incident(&self, id: &str) -> BackendResult<IncidentDetail> {
        Err(BackendError::NotFound(format!("incident {id}")))
    }
    fn alerts(&self) -> Vec<Alert> {
        Vec::new()
    }
    fn silences(&self) -> Vec<Silence> {
        Vec::new()
    }
    fn slo(&self) -> SloBoard {
        SloBoard::default()
    }
    /// Change events (deploys, rules, plan actions), newest first.
    fn changes(&self) -> Vec<ChangeEvent> {
        Vec::new()
    }
    /// Every span of one trace (`id`: 32 hex digits, already checked), in start order.
    fn trace(&self, id: digest::TraceId) -> BackendFuture<Vec<TraceSpan>> {
        let e = BackendError::NotFound(format!("trace {}", id.to_hex()));
        Box::pin(async move { Err(e) })
    }
    /// The faults a drill can inject.
    fn drill_kinds(&self) -> Vec<DrillKind> {
        Vec::new()
    }
    fn approve(&self, id: &str, by: &Actor) -> ActionFuture<Approved> {
        let _ = (id, by);
        unavailable("approvals need the healer")
    }
    fn reject(&self, id: &str, by: &Actor, reason: Option<String>) -> ActionFuture<Rejected> {
        let _ = (id, by, reason);
        unavailable("approvals need the healer")
    }
    /// The plans that can answer incident `id`, with what each would change (the one the
    /// healer picks first). Without a healer: none, for an incident that exists.
    fn plans(&self, id: &str) -> BackendFuture<Vec<PlanChoice>> {
        let known = self.incident(id).map(|_| Vec::new());
        Box::pin(async move { known })
    }
    /// Runs `req.plan` for incident `id` now, approved by `by`.
    fn run_plan(&self, id: &str, req: RunRequest, by: &Actor) -> ActionFuture<RunStarted> {
        let _ = (id, req, by);
        unavailable("running a plan needs the healer")
    }
    /// Undoes one applied action (`req.action`, `RUN.INDEX`) of incident `id`'s runs.
    fn undo(&self, id: &str, req: UndoRequest, by: &Actor) -> ActionFuture<Undone> {
        let _ = (id, req, by);
        unavailable("undoing an action needs the healer")
    }
    /// Closes incident `id` as resolved, with `req.note`.
    fn resolve(&self, id: &str, req: ResolveRequest, by: &Actor) -> ActionFuture<Resolved> {
        let _ = (id, req, by);
        unavailable("resolving an incident needs the command loop")
    }
    fn create_silence(&self, req: SilenceRequest, by: &Actor) -> ActionFuture<Silence> {
        let _ = (req, by);
        unavailable("silences need the alerts engine")
    }
    fn inject_drill(&self, req: DrillRequest, by: &Actor) -> ActionFuture<DrillInjected> {
        let _ = (req, by);
        unavailable("drills need the payments-sim control plane")
    }
}

fn unavailable<T: Send + 'static>(what: &'static str) -> ActionFuture<T> {
    Box::pin(async move { Err(BackendError::Unavailable(what.into())) })
}
