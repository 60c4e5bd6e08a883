//! Alert rules over named samples: a threshold held for `for_s` seconds turns an alert
//! pending → firing; when the condition stops holding (or its sample disappears) the alert
//! is resolved. Labels and annotations (with `{{ $value }}` / `{{ $labels.x }}`) are added.

use crate::error::{bad_config, AlertsError};
use crate::labels::{fingerprint, matches_all, parse_all, Labels, Matcher};
use digest::Micros;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One observation the rules read: an analyzer series value, an SLA burn rate, an anomaly
/// score or a diagnosis (value 1), named and labelled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub name: String,
    #[serde(default)]
    pub labels: Labels,
    pub value: f64,
}

impl Sample {
    pub fn new(name: &str, labels: &[(&str, &str)], value: f64) -> Self {
        Self {
            name: name.into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value,
        }
    }
}

/// Comparison of a sample value with the rule threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
}

impl Op {
    fn holds(self, v: f64, t: f64) -> bool {
        match self {
            Op::Gt => v > t,
            Op::Ge => v >= t,
            Op::Lt => v < t,
            Op::Le => v <= t,
        }
    }
}

/// A rule as written in configuration (TOML or JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// The alert name (becomes the `alertname` label).
    pub name: String,
    /// The sample name the rule reads, e.g. `service_error_ratio`.
    pub series: String,
    /// Matchers on the sample labels, e.g. `["service=\"trade\""]`.
    #[serde(default)]
    pub matchers: Vec<String>,
    pub op: Op,
    pub threshold: f64,
    /// How long the condition must hold before the alert fires (seconds; 0 fires at once).
    #[serde(default)]
    pub for_s: f64,
    #[serde(default)]
    pub labels: Labels,
    #[serde(default)]
    pub annotations: Labels,
}

/// A validated rule.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub config: RuleConfig,
    matchers: Vec<Matcher>,
    for_us: u64,
}

impl Rule {
    pub(crate) fn new(config: RuleConfig) -> Result<Self, AlertsError> {
        let field = |f: &str| format!("rule `{}`.{f}", config.name);
        if config.name.is_empty() {
            return Err(bad_config("rule.name", "must not be empty"));
        }
        if config.series.is_empty() {
            return Err(bad_config(field("series"), "must not be empty"));
        }
        if !config.threshold.is_finite() {
            return Err(bad_config(field("threshold"), "must be a finite number"));
        }
        if !(config.for_s >= 0.0 && config.for_s < 86_400.0 * 365.0) {
            return Err(bad_config(field("for_s"), "must be between 0 and a year"));
        }
        let matchers = parse_all(&field("matchers"), &config.matchers)?;
        Ok(Self {
            for_us: (config.for_s * 1e6) as u64,
            matchers,
            config,
        })
    }
}

/// Where an alert is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Pending,
    Firing,
    Resolved,
}

/// One alert instance (a rule × a label set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub fingerprint: String,
    pub labels: Labels,
    pub annotations: Labels,
    pub state: AlertState,
    /// When the condition first held.
    pub active_at_us: Micros,
    /// When it started firing (0 while pending).
    pub starts_at_us: Micros,
    /// When it resolved (0 while active).
    pub ends_at_us: Micros,
    pub value: f64,
    pub generator_url: String,
}

impl Alert {
    pub(crate) fn name(&self) -> &str {
        self.labels
            .get("alertname")
            .map(String::as_str)
            .unwrap_or("")
    }
}

/// All rules and the live state of their alerts.
#[derive(Debug, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    /// Active alerts (pending or firing) by fingerprint.
    active: BTreeMap<String, Alert>,
    /// Base URL for `generatorURL` (e.g. the dashboard).
    pub external_url: String,
}

impl RuleSet {
    pub fn new(configs: Vec<RuleConfig>) -> Result<Self, AlertsError> {
        let mut names = std::collections::BTreeSet::new();
        let mut rules = Vec::new();
        for c in configs {
            if !names.insert(c.name.clone()) {
                return Err(bad_config(
                    format!("rule `{}`", c.name),
                    "duplicate rule name",
                ));
            }
            rules.push(Rule::new(c)?);
        }
        Ok(Self {
            rules,
            ..Default::default()
        })
    }

    /// Pending and firing alerts.
    pub(crate) fn active(&self) -> impl Iterator<Item = &Alert> {
        self.active.values()
    }

    /// Puts back an alert that was active before a restart (its `for` clock keeps running).
    pub(crate) fn restore(&mut self, alert: Alert) {
        if alert.state != AlertState::Resolved
            && self.rules.iter().any(|r| r.config.name == alert.name())
        {
            self.active.insert(alert.fingerprint.clone(), alert);
        }
    }

    /// Evaluates every rule against one snapshot of samples: the state transitions, every
    /// alert firing now, and the alerts resolved by this evaluation.
    pub fn evaluate(&mut self, samples: &[Sample], now: Micros) -> Evaluation {
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Evaluation::default();
        for rule in &self.rules {
            let c = &rule.config;
            for s in samples {
                if s.name != c.series
                    || !s.value.is_finite()
                    || !matches_all(&rule.matchers, &s.labels)
                {
                    continue;
                }
                if !c.op.holds(s.value, c.threshold) {
                    continue;
                }
                let mut labels = s.labels.clone();
                labels.extend(c.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
                labels.insert("alertname".into(), c.name.clone());
                let fp = fingerprint(&labels);
                seen.insert(fp.clone());
                let annotations = render_all(&c.annotations, &labels, s.value);
                let alert = self.active.entry(fp.clone()).or_insert_with(|| Alert {
                    fingerprint: fp.clone(),
                    generator_url: format!("{}/alerts?rule={}", self.external_url, c.name),
                    labels: labels.clone(),
                    annotations: annotations.clone(),
                    state: AlertState::Pending,
                    active_at_us: now,
                    starts_at_us: 0,
                    ends_at_us: 0,
                    value: s.value,
                });
                alert.value = s.value;
                alert.annotations = annotations;
                if alert.state == AlertState::Pending
                    && now.saturating_sub(alert.active_at_us) >= rule.for_us
                {
                    alert.state = AlertState::Firing;
                    alert.starts_at_us = now;
                    out.changed.push(alert.clone());
                } else if alert.state == AlertState::Pending && alert.active_at_us == now {
                    out.changed.push(alert.clone());
                }
                if alert.state == AlertState::Firing {
                    out.firing.push(alert.clone());
                }
            }
        }
        let gone: Vec<String> = self
            .active
            .keys()
            .filter(|fp| !seen.contains(*fp))
            .cloned()
            .collect();
        for fp in gone {
            let mut a = self.active.remove(&fp).expect("present");
            if a.state == AlertState::Firing {
                a.state = AlertState::Resolved;
                a.ends_at_us = now;
                out.resolved.push(a.clone());
                out.changed.push(a);
            }
        }
        out
    }
}

/// The result of one evaluation.
#[derive(Debug, Default)]
pub struct Evaluation {
    /// State transitions (pending, firing, resolved), for the history.
    pub changed: Vec<Alert>,
    /// Every alert firing now.
    pub firing: Vec<Alert>,
    /// Alerts that resolved in this evaluation.
    pub resolved: Vec<Alert>,
}

fn render_all(templates: &Labels, labels: &Labels, value: f64) -> Labels {
    templates
        .iter()
        .map(|(k, t)| (k.clone(), render(t, labels, value)))
        .collect()
}

/// Replaces `{{ $value }}` and `{{ $labels.NAME }}` in an annotation.
pub(crate) fn render(template: &str, labels: &Labels, value: f64) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let Some(j) = rest[i..].find("}}") else {
            out.push_str(&rest[i..]);
            return out;
        };
        let expr = rest[i + 2..i + j].trim();
        if expr == "$value" {
            out.push_str(&format!("{value}"));
        } else if let Some(name) = expr.strip_prefix("$labels.") {
            out.push_str(labels.get(name).map(String::as_str).unwrap_or(""));
        } else {
            out.push_str(&rest[i..i + j + 2]);
        }
        rest = &rest[i + j + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(for_s: f64) -> RuleConfig {
        RuleConfig {
            name: "HighErrors".into(),
            series: "error_ratio".into(),
            matchers: vec!["service=~\"trade|cashier\"".into()],
            op: Op::Gt,
            threshold: 0.05,
            for_s,
            labels: [("severity".to_string(), "page".to_string())].into(),
            annotations: [(
                "summary".to_string(),
                "{{ $labels.service }} at {{ $value }}".to_string(),
            )]
            .into(),
        }
    }

    #[test]
    fn pending_firing_resolved() {
        let mut rs = RuleSet::new(vec![rule(2.0)]).unwrap();
        let bad = [Sample::new("error_ratio", &[("service", "trade")], 0.5)];
        let e = rs.evaluate(&bad, 1_000_000);
        assert_eq!(e.changed.len(), 1);
        assert_eq!(e.changed[0].state, AlertState::Pending);
        assert!(e.firing.is_empty());
        assert!(rs.evaluate(&bad, 2_000_000).changed.is_empty());
        let e = rs.evaluate(&bad, 3_000_000);
        assert_eq!(e.firing.len(), 1);
        assert_eq!(e.firing[0].annotations["summary"], "trade at 0.5");
        assert_eq!(e.firing[0].labels["severity"], "page");
        assert_eq!(e.firing[0].starts_at_us, 3_000_000);
        let ok = [Sample::new("error_ratio", &[("service", "trade")], 0.01)];
        let e = rs.evaluate(&ok, 4_000_000);
        assert_eq!(e.resolved.len(), 1);
        assert_eq!(e.resolved[0].ends_at_us, 4_000_000);
        assert_eq!(rs.active().count(), 0);
    }

    #[test]
    fn pending_that_clears_never_fires() {
        let mut rs = RuleSet::new(vec![rule(5.0)]).unwrap();
        rs.evaluate(
            &[Sample::new("error_ratio", &[("service", "trade")], 0.5)],
            0,
        );
        let e = rs.evaluate(&[], 1_000_000);
        assert!(e.resolved.is_empty() && e.changed.is_empty());
        assert_eq!(rs.active().count(), 0);
    }

    #[test]
    fn matchers_and_non_finite_values_filter() {
        let mut rs = RuleSet::new(vec![rule(0.0)]).unwrap();
        let e = rs.evaluate(
            &[
                Sample::new("error_ratio", &[("service", "ledger")], 0.9),
                Sample::new("error_ratio", &[("service", "trade")], f64::NAN),
                Sample::new("latency", &[("service", "trade")], 0.9),
            ],
            0,
        );
        assert!(e.firing.is_empty());
    }

    #[test]
    fn bad_rules_name_the_field() {
        let mut r = rule(0.0);
        r.matchers = vec!["oops".into()];
        let e = RuleSet::new(vec![r]).unwrap_err().to_string();
        assert!(e.contains("rule `HighErrors`.matchers[0]"), "{e}");
        let mut r = rule(-1.0);
        r.name = "X".into();
        assert!(RuleSet::new(vec![r])
            .unwrap_err()
            .to_string()
            .contains("for_s"));
        assert!(RuleSet::new(vec![rule(0.0), rule(0.0)]).is_err());
        let bad: Result<RuleConfig, _> =
            serde_json::from_str(r#"{"name":"a","series":"b","op":">","threshold":1,"fro_s":3}"#);
        assert!(bad.unwrap_err().to_string().contains("fro_s"));
    }
}
