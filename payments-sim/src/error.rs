//! Errors of payments-sim's public API: bad configuration, bad bank data, bad
//! trace headers, and I/O when binding the HTTP mode's listeners.

/// What went wrong setting up or driving the simulated payment system.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("config field `{field}`: {reason}")]
    Config { field: String, reason: String },
    #[error("bank data {file}: {reason}")]
    BankData { file: String, reason: String },
    #[error("header `{header}`: {reason}")]
    Header {
        header: &'static str,
        reason: String,
    },
    #[error("cannot bind {what}: {source}")]
    Bind {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl SimError {
    pub(crate) fn config(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Config {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
