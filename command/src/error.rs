//! The one error type of the command crate, named by what failed.

/// What a commander's action ran into.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// No incident with this id (never opened, or long closed).
    #[error("no incident {0}")]
    UnknownIncident(u64),
    /// The incident has no plan waiting for a decision.
    #[error("incident {0} has no plan waiting for a commander")]
    NothingWaiting(u64),
    /// The incident is closed (recovered, superseded or resolved).
    #[error("incident {0} is closed")]
    Closed(u64),
    /// No action with this id (`RUN.INDEX`) on the incident.
    #[error("no action {0} on this incident")]
    UnknownAction(String),
    /// The healer refused.
    #[error(transparent)]
    Healer(#[from] healer::HealerError),
}
