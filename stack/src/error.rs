//! The one error type of the stack crate: which part could not be built or reached.

/// What failed while building or driving the stack.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error("data dir {path}: {source}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("payments-sim: {0}")]
    Sim(#[from] payments_sim::SimError),
    #[error("control API: {0}")]
    ControlServe(#[from] payments_sim::control::api::ServeError),
    /// A call to the control API failed (`METHOD PATH: why`).
    #[error("control API {0}")]
    Control(String),
    #[error("collector store: {0}")]
    Store(#[from] collector::StoreError),
    #[error("collector: {0}")]
    Collector(#[from] collector::OpenError),
    #[error("analyzer config: {0}")]
    Analyzer(#[from] analyzer::AnalyzerError),
    #[error("alerts: {0}")]
    Alerts(#[from] alerts::AlertsError),
    #[error("healer: {0}")]
    Healer(#[from] healer::HealerError),
}
