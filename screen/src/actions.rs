//! What the screen asks for and what it gets back: silences (`POST /api/silences`,
//! answered with the [`Silence`](crate::Silence) created), drills (`GET /api/drills` lists
//! the [`DrillKind`]s, `POST /api/drills` answers [`DrillInjected`]), and a commander's
//! decision on a plan (`POST /api/incidents/{id}/approve` → [`Approved`],
//! `…/reject` with a [`RejectRequest`] → [`Rejected`]). The requests' checks live here,
//! so the server and the app apply the same rules.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A request that breaks a rule; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRequest(pub String);

impl std::fmt::Display for InvalidRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidRequest {}

fn invalid(msg: impl Into<String>) -> Result<(), InvalidRequest> {
    Err(InvalidRequest(msg.into()))
}

/// A short identifier: 1..=64 of `[A-Za-z0-9_.:-]`.
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b))
}

/// `POST /api/silences`: mute alerts whose labels match all `matchers` for `duration_s`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SilenceRequest {
    /// Label name → the value it must equal.
    pub matchers: BTreeMap<String, String>,
    pub duration_s: u64,
    #[serde(default)]
    pub comment: String,
}

impl SilenceRequest {
    /// At least one matcher, 1 s ..= 7 days, bounded text.
    pub fn validate(&self) -> Result<(), InvalidRequest> {
        if self.matchers.is_empty() {
            return invalid("matchers: at least one is needed");
        }
        if self.duration_s == 0 || self.duration_s > 7 * 86_400 {
            return invalid("duration_s: must be 1..=604800");
        }
        for (k, v) in &self.matchers {
            if !is_token(k) || v.is_empty() || v.len() > 200 {
                return invalid(format!("matchers: bad matcher {k:?}"));
            }
        }
        if self.comment.len() > 1000 {
            return invalid("comment: at most 1000 bytes");
        }
        Ok(())
    }
}

/// `POST /api/drills`: inject a fault (`fault` as payments-sim names it) into an optional target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrillRequest {
    pub fault: String,
    #[serde(default)]
    pub target: Option<String>,
}

impl DrillRequest {
    /// Both names are tokens ([`is_token`]).
    pub fn validate(&self) -> Result<(), InvalidRequest> {
        if !is_token(&self.fault) {
            return invalid("fault: a name of [a-z0-9_.:-], at most 64");
        }
        if let Some(t) = &self.target {
            if !is_token(t) {
                return invalid("target: a name of [a-z0-9_.:-], at most 64");
            }
        }
        Ok(())
    }
}

/// One row of `GET /api/drills`: a fault a drill can inject and the targets it takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrillKind {
    pub fault: String,
    pub targets: Vec<String>,
}

/// The answer of `POST /api/drills` (202): the fault spec now injected, e.g. `bank-outage:bank-b`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrillInjected {
    pub injected: String,
}

/// `POST /api/incidents/{id}/reject` (an empty body means no reason).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    #[serde(default)]
    pub reason: Option<String>,
}

impl RejectRequest {
    /// A reason of at most 1000 bytes.
    pub fn validate(&self) -> Result<(), InvalidRequest> {
        if self.reason.as_ref().is_some_and(|r| r.len() > 1000) {
            return invalid("reason: at most 1000 bytes");
        }
        Ok(())
    }
}

/// The answer of `POST /api/incidents/{id}/approve`: the plan may act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approved {
    pub ok: bool,
    /// The incident's id.
    pub incident: u64,
    /// The plan run approved.
    pub run: u64,
    pub approved_by: String,
}

/// The answer of `POST /api/incidents/{id}/reject`: nothing will change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    pub ok: bool,
    /// The incident's id.
    pub incident: u64,
    /// The plan run rejected.
    pub run: u64,
    pub rejected_by: String,
}
