//! The analyzer's error type.

/// What went wrong in the analyzer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnalyzerError {
    /// A configuration value was refused (the message names the field).
    #[error("analyzer config: {0}")]
    Config(String),
}
