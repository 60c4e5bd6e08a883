//! What starts a plan run: a diagnosis (kind + target) or a firing alert, with the times
//! the watchers saw it. Filled by the wiring from the analyzer and the alerts crate.

use digest::Micros;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A diagnosed fault or a firing alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    /// Diagnosis kind: `dependency_failure`, `latency`, `hot_spot`, `bad_release`,
    /// `overload`, `zone_failure`, `pool_exhaustion`, `slow_ledger`, … (empty for an alert).
    #[serde(default)]
    pub kind: String,
    /// `KIND:NAME`: `bank:icbc`, `service:trade`, `merchant:m42`, `zone:hz`.
    #[serde(default)]
    pub target: String,
    /// The firing alert's name, when an alert triggered.
    #[serde(default)]
    pub alert: Option<String>,
    /// Extra context usable in plans as `{label.NAME}` (e.g. `zone`, `version`, `service`).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// When the first bad request happened (from the digests), if known.
    #[serde(default)]
    pub first_bad_us: Option<Micros>,
    /// When the watchers detected it.
    pub detected_us: Micros,
    /// When the root cause was named.
    pub diagnosed_us: Micros,
}

impl Trigger {
    /// A diagnosis trigger detected and diagnosed at `at_us`.
    pub fn diagnosis(kind: &str, target: &str, at_us: Micros) -> Self {
        Self {
            kind: kind.into(),
            target: target.into(),
            alert: None,
            labels: BTreeMap::new(),
            first_bad_us: None,
            detected_us: at_us,
            diagnosed_us: at_us,
        }
    }

    /// A trigger from an analyzer root cause `{kind, service?, bank?, key?, zone?}`: the
    /// target is the key (`merchant:m42`), else `bank:NAME`, `zone:NAME`, `service:NAME`;
    /// every part present is also a label (`{label.service}` etc. in plans).
    pub fn from_cause(
        kind: &str,
        service: Option<&str>,
        bank: Option<&str>,
        key: Option<&str>,
        zone: Option<&str>,
        at_us: Micros,
    ) -> Self {
        let target = match (key, bank, zone, service) {
            (Some(k), ..) => k.to_string(),
            (None, Some(b), ..) => format!("bank:{b}"),
            (None, None, Some(z), _) => format!("zone:{z}"),
            (None, None, None, Some(s)) => format!("service:{s}"),
            _ => String::new(),
        };
        let mut t = Self::diagnosis(kind, &target, at_us);
        for (name, v) in [
            ("service", service),
            ("bank", bank),
            ("key", key),
            ("zone", zone),
        ] {
            if let Some(v) = v {
                t.labels.insert(name.into(), v.into());
            }
        }
        t
    }

    /// Blames one instance of the service (the analyzer's `RootCause::instance`): the
    /// target becomes `instance:NAME` (so `{target}` is `NAME`) and `NAME` the label
    /// `instance`. `None` leaves the trigger as it is.
    pub fn with_instance(mut self, instance: Option<&str>) -> Self {
        if let Some(i) = instance.filter(|i| !i.is_empty()) {
            self.target = format!("instance:{i}");
            self.labels.insert("instance".into(), i.into());
        }
        self
    }

    /// The target's kind (`bank` of `bank:icbc`).
    pub fn target_kind(&self) -> &str {
        self.target.split_once(':').map(|(k, _)| k).unwrap_or("")
    }

    /// The target's name (`icbc` of `bank:icbc`).
    pub fn target_name(&self) -> &str {
        self.target
            .split_once(':')
            .map(|(_, n)| n)
            .unwrap_or(&self.target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_cause_picks_the_most_specific_target() {
        let t = Trigger::from_cause(
            "hot_spot",
            Some("payment"),
            None,
            Some("merchant:m-hot"),
            None,
            5,
        );
        assert_eq!(
            (t.target.as_str(), t.target_kind(), t.target_name()),
            ("merchant:m-hot", "merchant", "m-hot")
        );
        assert_eq!(t.labels["service"], "payment");
        assert_eq!(
            Trigger::from_cause(
                "dependency",
                Some("bank-gateway"),
                Some("bank-b"),
                None,
                None,
                0
            )
            .target,
            "bank:bank-b"
        );
        assert_eq!(
            Trigger::from_cause("zone", None, None, None, Some("zone-b"), 0).target,
            "zone:zone-b"
        );
        assert_eq!(
            Trigger::from_cause("bad_release", Some("trade"), None, None, None, 0).target,
            "service:trade"
        );
        let t = Trigger::from_cause("latency", Some("payment-engine"), None, None, None, 0)
            .with_instance(Some("payment-engine-2"));
        assert_eq!(
            (t.target.as_str(), t.target_kind(), t.target_name()),
            ("instance:payment-engine-2", "instance", "payment-engine-2")
        );
        assert_eq!(t.labels["service"], "payment-engine");
        assert_eq!(t.labels["instance"], "payment-engine-2");
        let t = Trigger::from_cause("latency", Some("trade"), None, None, None, 0);
        assert_eq!(t.clone().with_instance(None), t);
        assert_eq!(t.clone().with_instance(Some("")), t);
    }
}
