//! The one error type of the healer crate, named by what failed.

/// What went wrong in a plan, a run, an approval, or the audit log.
#[derive(Debug, thiserror::Error)]
pub enum HealerError {
    /// A plan is invalid; `field` names the culprit (e.g. `steps[2].flow_limit.qps`).
    #[error("plan `{plan}`: `{field}`: {reason}")]
    Plan {
        plan: String,
        field: String,
        reason: String,
    },
    /// No plan run with this id.
    #[error("no plan run {0}")]
    UnknownRun(u64),
    /// The run is not waiting for a decision.
    #[error("plan run {id} is {state}, not awaiting approval")]
    NotAwaitingApproval { id: u64, state: String },
    /// No plan of this name.
    #[error("no plan `{0}`")]
    UnknownPlan(String),
    /// The plan does not fit the incident's target.
    #[error("plan `{plan}` does not fit {target}")]
    DoesNotFit { plan: String, target: String },
    /// Another run is working on the target or a resource the plan changes.
    #[error("{0}")]
    Busy(String),
    /// No applied action with this index in the run.
    #[error("plan run {run} has no action {index}")]
    UnknownAction { run: u64, index: usize },
    /// The action was undone already.
    #[error("action {index} of plan run {run} is undone already")]
    AlreadyUndone { run: u64, index: usize },
    /// The executor could not undo the action.
    #[error("undo failed: {0}")]
    Undo(String),
    /// The audit log could not be written.
    #[error("audit log {path}: {source}")]
    Audit {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

pub(crate) fn plan_err(
    plan: &str,
    field: impl Into<String>,
    reason: impl Into<String>,
) -> HealerError {
    HealerError::Plan {
        plan: plan.into(),
        field: field.into(),
        reason: reason.into(),
    }
}
