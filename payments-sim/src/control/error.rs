//! The control plane's one error type: what was refused and which field caused it,
//! and the two checks every body goes through (JSON that names the bad field, names
//! that are names). The HTTP edge (`api.rs`) maps it to a status; nothing here
//! knows about HTTP.

/// Why a control request was refused. A refused request changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// A field of a body failed to parse or validate.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// A valid body the current state cannot take (it would leave a service
    /// with no instance in rotation); HTTP 409.
    #[error("{field}: {reason}")]
    Conflict { field: String, reason: String },
    /// An unknown rule type (`flow`, `degrade`, `param-flow`/`param` are known).
    #[error("type: unknown rule type {0:?} (expected flow, degrade or param-flow)")]
    UnknownRuleType(String),
    /// A fault spec that does not parse.
    #[error(transparent)]
    Fault(#[from] crate::faults::FaultError),
}

impl ControlError {
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
    pub(crate) fn conflict(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Conflict {
            field: field.into(),
            reason: reason.into(),
        }
    }
    /// The field named by the error, if any (`[0].count`, `type`, `kind`, …).
    pub(crate) fn field(&self) -> Option<String> {
        match self {
            Self::Invalid { field, .. } | Self::Conflict { field, .. } => Some(field.clone()),
            Self::UnknownRuleType(_) => Some("type".into()),
            Self::Fault(e) => Some(e.field.clone()),
        }
    }
}

/// Parses JSON into `T`, naming the path of the offending field on failure
/// (`[1].count: invalid type: string "x", expected a number`).
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ControlError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(v) => {
            de.end()
                .map_err(|e| ControlError::invalid("body", e.to_string()))?;
            Ok(v)
        }
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let field = if path == "." || path.is_empty() {
                "body".to_string()
            } else {
                path
            };
            Err(ControlError::invalid(field, inner.to_string()))
        }
    }
}

/// Checks that `name` (a switch, bank, zone, service or account) is a name:
/// 1..=64 of a-z, 0-9, `.`, `_`, `-`, `:`.
pub(crate) fn check_name(field: &str, name: &str) -> Result<(), ControlError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-:".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ControlError::invalid(
            field,
            format!("{name:?} is not a name (1..=64 of a-z, 0-9, '.', '_', '-', ':')"),
        ))
    }
}
