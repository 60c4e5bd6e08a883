//! The one error type of the alerts crate, named by what failed.

/// What went wrong in alert configuration, silences, storage or delivery.
#[derive(Debug, thiserror::Error)]
pub enum AlertsError {
    /// A matcher string such as `zone="hz"` could not be parsed.
    #[error("bad matcher `{matcher}`: {reason}")]
    BadMatcher {
        matcher: String,
        reason: &'static str,
    },
    /// A rule, route, receiver or inhibit rule is invalid; `field` names the culprit.
    #[error("bad config at `{field}`: {reason}")]
    BadConfig { field: String, reason: String },
    /// A silence request was refused.
    #[error("bad silence: {0}")]
    BadSilence(String),
    /// No silence with this id.
    #[error("no silence with id {0}")]
    UnknownSilence(String),
    /// The history file could not be read or written.
    #[error("alert store {path}: {source}")]
    Store {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A notification could not be delivered (it stays queued for a retry).
    #[error("delivery to {receiver}/{channel} failed: {reason}")]
    Delivery {
        receiver: String,
        channel: &'static str,
        reason: String,
    },
}

pub(crate) fn bad_config(field: impl Into<String>, reason: impl Into<String>) -> AlertsError {
    AlertsError::BadConfig {
        field: field.into(),
        reason: reason.into(),
    }
}
