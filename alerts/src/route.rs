//! The routing tree: each alert walks from the root to the deepest matching route (first
//! match wins among siblings unless a route says `continue`); the route names the receiver
//! and the grouping settings ([`GroupSettings`]), inherited from its parent when not set.
//! The groups (`group.rs`) read a route; a route knows nothing of groups.

use crate::error::{bad_config, AlertsError};
use crate::labels::{matches_all, parse_all, Labels, Matcher};
use serde::{Deserialize, Serialize};

/// Grouping and timing of one route.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GroupSettings {
    pub group_by: Vec<String>,
    pub group_wait_us: u64,
    pub group_interval_us: u64,
    pub repeat_interval_us: u64,
}

impl Default for GroupSettings {
    /// War-room defaults: seconds, not Alertmanager's minutes.
    fn default() -> Self {
        Self {
            group_by: vec!["alertname".into()],
            group_wait_us: 1_000_000,
            group_interval_us: 5_000_000,
            repeat_interval_us: 4 * 3600 * 1_000_000,
        }
    }
}

/// A route as configured.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Receiver name; the root must have one, children inherit it.
    #[serde(default)]
    pub receiver: Option<String>,
    #[serde(default)]
    pub matchers: Vec<String>,
    /// Labels that split alerts into groups; `["..."]` groups by every label.
    #[serde(default)]
    pub group_by: Option<Vec<String>>,
    #[serde(default)]
    pub group_wait_s: Option<f64>,
    #[serde(default)]
    pub group_interval_s: Option<f64>,
    #[serde(default)]
    pub repeat_interval_s: Option<f64>,
    /// Keep matching siblings after this one matched.
    #[serde(default, rename = "continue")]
    pub continue_matching: bool,
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
}

/// A validated route node.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    /// Position in the tree, e.g. `0.2.1`; part of the group key.
    pub id: String,
    pub receiver: String,
    pub settings: GroupSettings,
    matchers: Vec<Matcher>,
    continue_matching: bool,
    children: Vec<Route>,
}

fn secs(field: &str, v: Option<f64>, parent: u64) -> Result<u64, AlertsError> {
    match v {
        None => Ok(parent),
        Some(s) if s.is_finite() && s >= 0.0 => Ok((s * 1e6) as u64),
        Some(_) => Err(bad_config(
            field,
            "must be a non-negative number of seconds",
        )),
    }
}

impl Route {
    /// Builds the tree; `receivers` are the known receiver names.
    pub(crate) fn new(c: &RouteConfig, receivers: &[String]) -> Result<Self, AlertsError> {
        let root = GroupSettings::default();
        if c.receiver.is_none() {
            return Err(bad_config(
                "route.receiver",
                "the root route needs a receiver",
            ));
        }
        Self::build(c, "0", "route", "", &root, receivers)
    }

    fn build(
        c: &RouteConfig,
        id: &str,
        path: &str,
        parent_receiver: &str,
        parent: &GroupSettings,
        receivers: &[String],
    ) -> Result<Self, AlertsError> {
        let receiver = c
            .receiver
            .clone()
            .unwrap_or_else(|| parent_receiver.to_string());
        if !receivers.contains(&receiver) {
            return Err(bad_config(
                format!("{path}.receiver"),
                format!("unknown receiver `{receiver}`"),
            ));
        }
        let settings = GroupSettings {
            group_by: c
                .group_by
                .clone()
                .unwrap_or_else(|| parent.group_by.clone()),
            group_wait_us: secs(
                &format!("{path}.group_wait_s"),
                c.group_wait_s,
                parent.group_wait_us,
            )?,
            group_interval_us: secs(
                &format!("{path}.group_interval_s"),
                c.group_interval_s,
                parent.group_interval_us,
            )?,
            repeat_interval_us: secs(
                &format!("{path}.repeat_interval_s"),
                c.repeat_interval_s,
                parent.repeat_interval_us,
            )?,
        };
        if settings.group_interval_us == 0 {
            return Err(bad_config(
                format!("{path}.group_interval_s"),
                "must be above 0",
            ));
        }
        let matchers = parse_all(&format!("{path}.matchers"), &c.matchers)?;
        let children = c
            .routes
            .iter()
            .enumerate()
            .map(|(i, r)| {
                Self::build(
                    r,
                    &format!("{id}.{i}"),
                    &format!("{path}.routes[{i}]"),
                    &receiver,
                    &settings,
                    receivers,
                )
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            id: id.into(),
            receiver,
            settings,
            matchers,
            continue_matching: c.continue_matching,
            children,
        })
    }

    /// The routes an alert with these labels goes to (at least one: the root).
    pub(crate) fn matching(&self, labels: &Labels) -> Vec<&Route> {
        let mut out = Vec::new();
        self.walk(labels, &mut out);
        if out.is_empty() {
            out.push(self);
        }
        out
    }

    fn walk<'a>(&'a self, labels: &Labels, out: &mut Vec<&'a Route>) -> bool {
        if !matches_all(&self.matchers, labels) {
            return false;
        }
        let before = out.len();
        for child in &self.children {
            if child.walk(labels, out) && !child.continue_matching {
                break;
            }
        }
        if out.len() == before {
            out.push(self);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deepest_match_and_inheritance() {
        let cfg: RouteConfig = serde_json::from_value(serde_json::json!({
            "receiver": "dashboard", "group_by": ["alertname"], "group_wait_s": 2.0,
            "routes": [
                {"matchers": ["severity=page"], "receiver": "oncall", "routes": [
                    {"matchers": ["team=ledger"], "receiver": "ledger"}
                ]},
                {"matchers": ["severity=page"], "receiver": "never"},
                {"matchers": ["bank!=\"\""], "receiver": "banks", "continue": true},
                {"matchers": ["bank=icbc"], "receiver": "icbc"}
            ]
        }))
        .unwrap();
        let rx: Vec<String> = ["dashboard", "oncall", "ledger", "never", "banks", "icbc"]
            .map(String::from)
            .to_vec();
        let root = Route::new(&cfg, &rx).unwrap();
        let l = |p: &[(&str, &str)]| -> Labels {
            p.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        let r = root.matching(&l(&[("severity", "page"), ("team", "ledger")]));
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].receiver, "ledger");
        assert_eq!(r[0].settings.group_wait_us, 2_000_000);
        assert_eq!(r[0].settings.group_by, vec!["alertname".to_string()]);
        assert_eq!(
            root.matching(&l(&[("severity", "page")]))[0].receiver,
            "oncall"
        );
        assert_eq!(root.matching(&l(&[]))[0].receiver, "dashboard");
        let both: Vec<&str> = root
            .matching(&l(&[("bank", "icbc")]))
            .iter()
            .map(|r| r.receiver.as_str())
            .collect();
        assert_eq!(both, vec!["banks", "icbc"]);
    }

    #[test]
    fn bad_routes_name_the_field() {
        let rx = vec!["a".to_string()];
        let e = Route::new(
            &RouteConfig {
                receiver: Some("b".into()),
                ..Default::default()
            },
            &rx,
        )
        .unwrap_err();
        assert!(e.to_string().contains("route.receiver"), "{e}");
        let cfg = RouteConfig {
            receiver: Some("a".into()),
            routes: vec![RouteConfig {
                group_wait_s: Some(-1.0),
                ..Default::default()
            }],
            ..Default::default()
        };
        let e = Route::new(&cfg, &rx).unwrap_err().to_string();
        assert!(e.contains("route.routes[0].group_wait_s"), "{e}");
    }
}
