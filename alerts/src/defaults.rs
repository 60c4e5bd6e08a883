//! The war room's default alerting, for a stack started with no alert configuration:
//! rules over the sample names the wiring publishes from the analyzer and SLA side, one
//! `warroom` receiver (the dashboard feed), grouped per incident-sized unit.
//!
//! Sample names (labels in brackets): `service_error_ratio` [service, zone],
//! `service_p99_ms` [service, zone], `bank_error_ratio` [bank], `zone_error_ratio` [zone],
//! `slo_burn_rate` [objective, window], `diagnosis` (value 1 while named) [kind, target].

use crate::manager::ManagerConfig;
use serde_json::json;

/// A valid [`ManagerConfig`]; add e-mail or webhook receivers and routes as needed.
pub fn war_room_config(external_url: &str) -> ManagerConfig {
    serde_json::from_value(json!({
        "external_url": external_url,
        "rules": [
            {"name": "ServiceErrors", "series": "service_error_ratio", "op": ">", "threshold": 0.05, "for_s": 1.0,
             "labels": {"severity": "page"},
             "annotations": {"summary": "{{ $labels.service }} fails {{ $value }} of calls"}},
            {"name": "ServiceSlow", "series": "service_p99_ms", "op": ">", "threshold": 1000.0, "for_s": 2.0,
             "labels": {"severity": "page"},
             "annotations": {"summary": "{{ $labels.service }} p99 {{ $value }} ms"}},
            {"name": "BankDown", "series": "bank_error_ratio", "op": ">", "threshold": 0.2, "for_s": 1.0,
             "labels": {"severity": "page"},
             "annotations": {"summary": "bank {{ $labels.bank }} fails {{ $value }} of calls"}},
            {"name": "ZoneOutage", "series": "zone_error_ratio", "op": ">", "threshold": 0.5, "for_s": 1.0,
             "labels": {"severity": "page"},
             "annotations": {"summary": "zone {{ $labels.zone }} fails {{ $value }} of calls"}},
            {"name": "SloFastBurn", "series": "slo_burn_rate", "op": ">", "threshold": 14.4, "for_s": 0.0,
             "labels": {"severity": "page"},
             "annotations": {"summary": "{{ $labels.objective }} burns its budget {{ $value }}x over {{ $labels.window }}"}},
            {"name": "Diagnosed", "series": "diagnosis", "op": ">=", "threshold": 1.0, "for_s": 0.0,
             "labels": {"severity": "info"},
             "annotations": {"summary": "{{ $labels.kind }} on {{ $labels.target }}"}}
        ],
        "route": {"receiver": "warroom", "group_by": ["alertname", "zone"], "group_wait_s": 1.0,
                  "group_interval_s": 5.0, "repeat_interval_s": 3600.0},
        "receivers": [{"name": "warroom", "dashboard": true}]
    }))
    .expect("the default alert config deserializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Manager, Sample};
    use digest::ManualClock;
    use std::sync::Arc;

    #[test]
    fn defaults_are_valid_and_a_zone_outage_mutes_its_services() {
        let cfg = war_room_config("http://127.0.0.1:8080");
        let clock = ManualClock::new(1_000_000_000);
        let mut m = Manager::new(&cfg, Arc::new(clock.clone()), None).unwrap();
        let samples = [
            Sample::new("zone_error_ratio", &[("zone", "zone-b")], 0.9),
            Sample::new(
                "service_error_ratio",
                &[("service", "trade"), ("zone", "zone-b")],
                0.9,
            ),
            Sample::new(
                "service_error_ratio",
                &[("service", "trade"), ("zone", "zone-a")],
                0.9,
            ),
        ];
        let mut notes = Vec::new();
        for _ in 0..4 {
            notes.extend(m.evaluate(&samples).unwrap());
            clock.advance_secs(1);
        }
        let names: Vec<(String, usize)> = notes
            .iter()
            .map(|n| (n.group_labels["alertname"].clone(), n.alerts.len()))
            .collect();
        assert!(names.contains(&("ZoneOutage".into(), 1)), "{names:?}");
        // trade in zone-b is inhibited; trade in zone-a is not.
        let svc: Vec<&crate::Notification> = notes
            .iter()
            .filter(|n| n.group_labels["alertname"] == "ServiceErrors")
            .collect();
        assert_eq!(svc.len(), 1);
        assert_eq!(svc[0].alerts[0].labels["zone"], "zone-a");
    }
}
