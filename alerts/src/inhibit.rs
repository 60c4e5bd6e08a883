//! Inhibition: a firing source alert mutes target alerts that share the `equal` labels —
//! a zone outage mutes the service alerts inside that zone.

use crate::error::AlertsError;
use crate::labels::{matches_all, parse_all, Labels, Matcher};
use crate::rule::Alert;
use serde::{Deserialize, Serialize};

/// An inhibit rule as configured.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InhibitConfig {
    pub source_matchers: Vec<String>,
    pub target_matchers: Vec<String>,
    /// Labels that must be equal in source and target (e.g. `["zone"]`).
    #[serde(default)]
    pub equal: Vec<String>,
}

/// A validated inhibit rule.
#[derive(Debug, Clone)]
pub(crate) struct InhibitRule {
    source: Vec<Matcher>,
    target: Vec<Matcher>,
    equal: Vec<String>,
}

impl InhibitRule {
    pub(crate) fn new(c: &InhibitConfig) -> Result<Self, AlertsError> {
        if c.source_matchers.is_empty() || c.target_matchers.is_empty() {
            return Err(crate::error::bad_config(
                "inhibit.source_matchers/target_matchers",
                "both must be non-empty",
            ));
        }
        Ok(Self {
            source: parse_all("inhibit.source_matchers", &c.source_matchers)?,
            target: parse_all("inhibit.target_matchers", &c.target_matchers)?,
            equal: c.equal.clone(),
        })
    }

    /// The built-in rule: a firing `ZoneOutage` mutes every other alert with the same zone.
    pub(crate) fn zone_outage() -> Self {
        Self::new(&InhibitConfig {
            source_matchers: vec!["alertname=ZoneOutage".into()],
            target_matchers: vec!["alertname!=ZoneOutage".into()],
            equal: vec!["zone".into()],
        })
        .expect("valid built-in rule")
    }

    /// Whether `target` is muted by one of the `firing` alerts.
    pub(crate) fn inhibits(&self, target: &Labels, firing: &[Alert]) -> bool {
        if !matches_all(&self.target, target) {
            return false;
        }
        firing.iter().any(|src| {
            matches_all(&self.source, &src.labels)
                && src.labels != *target
                && self
                    .equal
                    .iter()
                    .all(|l| src.labels.contains_key(l) && src.labels.get(l) == target.get(l))
        })
    }
}
