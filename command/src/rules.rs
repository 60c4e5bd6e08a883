//! The rules that turn a diagnosis into a plan run and a plan run's question "has it
//! cleared?" into an answer: the healer target of a root cause, the trigger an incident
//! raises, when a service-wide diagnosis waits for the analyzer to name one instance, and
//! which candidates do not count against a plan (its own load shedding, a zone it drained).

use crate::incident::Incident;
use crate::meter::FailureMeter;
use analyzer::{Candidate, CauseKind, RootCause};
use digest::Micros;
use healer::Trigger;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// Rule settings (`[rules]` in the config; every field optional).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// How long a service-wide latency or error diagnosis is held back while the analyzer
    /// may still name one sick instance (its per-instance views need a few hundred ms of
    /// calls): acting on the service would pick a plan that cannot route around the
    /// instance. Milliseconds.
    pub localize_ms: u64,
    /// Result codes of the control plane's own, deliberate refusals (a plan's flow or
    /// hot-parameter limit): a candidate whose only failures are these, and whose calls are
    /// not slow, is the plan working, not the fault.
    pub shed_codes: Vec<String>,
}

impl Default for RulesConfig {
    fn default() -> Self {
        Self {
            localize_ms: 1_500,
            shed_codes: vec!["FLOW_LIMITED".into(), "PARAM_FLOW_LIMITED".into()],
        }
    }
}

/// The healer's target for a root cause: `instance:NAME` (one sick instance of a
/// service), `bank:NAME`, `zone:NAME`, the business key (`merchant:NAME`), else
/// `service:NAME`.
pub fn target_of(rc: &RootCause) -> String {
    if let Some(instance) = &rc.instance {
        return format!("instance:{instance}");
    }
    match rc.kind {
        CauseKind::Dependency => format!("bank:{}", rc.bank.as_deref().unwrap_or("")),
        CauseKind::Zone => format!("zone:{}", rc.zone.as_deref().unwrap_or("")),
        CauseKind::HotSpot if rc.key.is_some() => rc.key.clone().unwrap_or_default(),
        _ => format!("service:{}", rc.service.as_deref().unwrap_or("")),
    }
}

impl RulesConfig {
    /// Whether a candidate is only a plan's own load shedding.
    pub fn only_shedding(&self, c: &Candidate) -> bool {
        !c.codes.is_empty()
            && c.codes
                .iter()
                .all(|(code, _)| self.shed_codes.iter().any(|s| s == code))
            && c.slow_share < 0.05
    }

    /// Whether a candidate names a key only for its share of the traffic: no failures, no
    /// slow calls (a hot key the plan has made harmless, e.g. by buffering its postings).
    pub fn only_share(&self, c: &Candidate) -> bool {
        c.root_cause.kind == CauseKind::HotSpot && c.codes.is_empty() && c.slow_share < 0.05
    }

    /// Whether `i`'s diagnosis is service-wide latency or errors young enough that the
    /// analyzer may still name one instance.
    pub fn awaits_instance(&self, i: &Incident, now_us: Micros) -> bool {
        let rc = &i.root_cause;
        matches!(rc.kind, CauseKind::Latency | CauseKind::Errors)
            && rc.instance.is_none()
            && rc.service.is_some()
            && now_us.saturating_sub(i.diagnosed_us.max(1)) < self.localize_ms * 1_000
    }

    /// The targets the analyzer still names: every candidate's target but the plans' own
    /// shedding, a hot key named only for its share (nobody hurt), and zones the control
    /// plane has drained of users (a cut-over leaves the zone without traffic — a "drop" —
    /// and its last failures in the window, but nobody is hurt there). A plan run has
    /// cleared when its target is not among them.
    pub fn still_named(&self, candidates: &[Candidate], drained: &HashSet<String>) -> Targets {
        Targets(
            candidates
                .iter()
                .filter(|c| {
                    !self.only_shedding(c) && !self.only_share(c) && !drained_zone(c, drained)
                })
                .map(|c| target_of(&c.root_cause))
                .collect(),
        )
    }
}

/// Whether a candidate blames a zone that no user is routed to any more.
pub fn drained_zone(c: &Candidate, drained: &HashSet<String>) -> bool {
    c.root_cause.kind == CauseKind::Zone
        && c.root_cause
            .zone
            .as_deref()
            .is_some_and(|z| drained.contains(z))
}

/// The healer targets the analyzer names at one tick.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets(pub HashSet<String>);

/// What the healer's [`healer::Probe`] reads at one step: the targets still named (a run
/// has cleared when its target is not among them) and the failure meter (the no-harm
/// check's failed payments per second).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Readings {
    pub named: Targets,
    pub failures: FailureMeter,
}

impl Readings {
    /// The span the normal rates are read over: the ten seconds that ended two before
    /// detection, or as much of them as the meter holds.
    fn normal_span(&self, t: &Trigger) -> (Micros, Micros) {
        let seen = t.detected_us;
        let to = seen.saturating_sub(2_000_000);
        let from = seen
            .saturating_sub(12_000_000)
            .max(self.failures.oldest_us().unwrap_or(0))
            .min(to);
        (from, to)
    }
}

impl healer::Probe for Readings {
    fn cleared(&self, t: &Trigger) -> bool {
        !self.named.0.contains(&t.target)
    }
    /// Failed payments but a plan's shedding of the surplus above the payment rate of
    /// the ten seconds that ended two before detection (the normal rate).
    fn failure_rate(&self, t: &Trigger, from_us: Micros, to_us: Micros) -> Option<f64> {
        let (from, to) = self.normal_span(t);
        let normal = self.failures.payment_rate(from, to);
        self.failures.harm_rate(from_us, to_us, normal)
    }
    /// Failed payments over the last second (shed surplus aside) within the no-harm bar
    /// of the normal rate.
    fn payments_recovered(&self, t: &Trigger) -> bool {
        let Some(now) = self.failures.newest_us() else {
            return false;
        };
        let Some(rate) = self.failure_rate(t, now.saturating_sub(1_000_000), now) else {
            return false;
        };
        let normal = self.normal_failure_rate(t).unwrap_or(0.0);
        !healer::HarmGuard::default().worse(normal, rate)
    }
    /// Failures in the second before detection no higher than the normal rate (with the
    /// no-harm bar's slack): the fault showed only at detection.
    fn setting_in(&self, t: &Trigger) -> bool {
        let seen = t.detected_us;
        let (Some(pre), Some(normal)) = (
            self.failures
                .rate(seen.saturating_sub(1_200_000), seen.saturating_sub(200_000)),
            self.normal_failure_rate(t),
        ) else {
            return false;
        };
        !healer::HarmGuard::default().worse(normal, pre)
    }
    fn normal_failure_rate(&self, t: &Trigger) -> Option<f64> {
        let (from, to) = self.normal_span(t);
        self.failures.rate(from, to)
    }
    fn fault_rate(&self, _t: &Trigger, from_us: Micros, to_us: Micros) -> Option<f64> {
        self.failures.unshed_rate(from_us, to_us)
    }
}

/// The trigger an incident raises: kind and target from its root cause, every part of the
/// cause as a label (`{label.service}` in plans), the incident's times.
pub fn trigger_of(i: &Incident) -> Trigger {
    let rc = &i.root_cause;
    let mut labels = BTreeMap::new();
    for (k, v) in [
        ("service", &rc.service),
        ("bank", &rc.bank),
        ("zone", &rc.zone),
        ("key", &rc.key),
        ("instance", &rc.instance),
    ] {
        if let Some(v) = v {
            labels.insert(k.to_string(), v.clone());
        }
    }
    labels.insert("incident".into(), i.id.to_string());
    if let Some(ch) = &rc.change {
        // What kind of change a bad release is blamed on (`deploy`, `config`, …): a
        // config push is cured by reverting the config, not by a rollback.
        labels.insert("change".into(), ch.event.as_str().to_string());
    }
    Trigger {
        kind: rc.kind.as_str().to_string(),
        target: target_of(rc),
        alert: None,
        labels,
        first_bad_us: (i.start_us > 0).then_some(i.start_us),
        detected_us: i.detected_us,
        diagnosed_us: i.diagnosed_us,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(rc: RootCause, codes: &[(&str, u64)], slow_share: f64) -> Candidate {
        Candidate {
            root_cause: rc,
            confidence: 0.9,
            evidence: Vec::new(),
            codes: codes.iter().map(|(c, n)| (c.to_string(), *n)).collect(),
            slow_share,
        }
    }

    #[test]
    fn targets_name_the_most_specific_component() {
        let mut rc = RootCause::service(CauseKind::Latency, "payment-engine");
        assert_eq!(target_of(&rc), "service:payment-engine");
        rc.instance = Some("payment-engine-2".into());
        assert_eq!(target_of(&rc), "instance:payment-engine-2");
        assert_eq!(target_of(&RootCause::bank("bank-b")), "bank:bank-b");
        assert_eq!(target_of(&RootCause::zone("zone-a")), "zone:zone-a");
        let mut hot = RootCause::service(CauseKind::HotSpot, "trade");
        assert_eq!(target_of(&hot), "service:trade", "a hot spot without a key");
        hot.key = Some("merchant:m-hot".into());
        assert_eq!(target_of(&hot), "merchant:m-hot");
    }

    #[test]
    fn a_plans_own_shedding_and_a_drained_zone_do_not_count() {
        let r = RulesConfig::default();
        let shed = cand(
            RootCause::service(CauseKind::Overload, "cashier"),
            &[("FLOW_LIMITED", 40), ("PARAM_FLOW_LIMITED", 3)],
            0.0,
        );
        assert!(r.only_shedding(&shed));
        let slow_shed = cand(
            RootCause::service(CauseKind::Overload, "cashier"),
            &[("FLOW_LIMITED", 40)],
            0.2,
        );
        assert!(!r.only_shedding(&slow_shed), "slow calls are a fault");
        let mixed = cand(
            RootCause::service(CauseKind::Errors, "trade"),
            &[("FLOW_LIMITED", 40), ("SYSTEM_ERROR", 1)],
            0.0,
        );
        assert!(!r.only_shedding(&mixed));
        let no_codes = cand(RootCause::service(CauseKind::Latency, "risk"), &[], 0.0);
        assert!(!r.only_shedding(&no_codes));
        let zone = cand(RootCause::zone("zone-b"), &[("TIMEOUT", 9)], 0.0);
        let drained: HashSet<String> = ["zone-b".to_string()].into();
        let named = r.still_named(&[shed, mixed, zone.clone()], &drained);
        assert_eq!(named.0, HashSet::from(["service:trade".to_string()]));
        let named = r.still_named(&[zone], &HashSet::new());
        assert!(
            named.0.contains("zone:zone-b"),
            "a zone still in use counts"
        );
        let t = Trigger::diagnosis("zone", "zone:zone-b", 0);
        let r = |named| Readings {
            named,
            failures: FailureMeter::default(),
        };
        assert!(!healer::Probe::cleared(&r(named), &t));
        assert!(healer::Probe::cleared(&r(Targets::default()), &t));
    }
}
