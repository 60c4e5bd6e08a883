//! The SLA crate's error type.

/// What went wrong loading or using objectives.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlaError {
    /// The objectives file was refused; the message names the field.
    #[error("objectives: {0}")]
    Config(String),
    /// A report was asked for an empty or inverted period.
    #[error("report period: {0}")]
    Period(String),
}
