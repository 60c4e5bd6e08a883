//! Analyzer and SLA → alerts: each step turns the analyzer's ranked candidates
//! (`diagnosis{kind,target}` = confidence) and the SLA's firing burn rates
//! (`slo_burn{objective,policy,severity}` = long-window burn) into samples for the
//! `alerts::Manager`, and hands its notifications to the `Notifier` (dashboard feed at
//! once; e-mail and webhook queued, retried, counted).

use crate::rules::target_of;
use alerts::{AlertsError, DashboardFeed, Manager, ManagerConfig, Notifier, Sample};
use analyzer::Analyzer;
use digest::SharedClock;
use parking_lot::Mutex;
use std::path::Path;
use std::sync::Arc;

/// The alert rules and route the war room uses without a config.
pub const DEFAULT_ALERTS: &str = r#"
[[rules]]
name = "RootCauseDiagnosed"
series = "diagnosis"
op = ">="
threshold = 0.5
for_s = 0
labels = { severity = "page" }
annotations = { summary = "{{ $labels.kind }} on {{ $labels.target }} (confidence {{ $value }})" }

[[rules]]
name = "ErrorBudgetBurn"
series = "slo_burn"
op = ">"
threshold = 0
for_s = 0
labels = { severity = "ticket" }
annotations = { summary = "{{ $labels.objective }} burns its budget ({{ $labels.policy }})" }

[route]
receiver = "war-room"
group_by = ["alertname", "target"]
group_wait_s = 0
group_interval_s = 5

[[receivers]]
name = "war-room"
dashboard = true
"#;

/// [`DEFAULT_ALERTS`], parsed.
pub fn default_alerts_config() -> ManagerConfig {
    toml::from_str(DEFAULT_ALERTS).expect("built-in alerts config parses")
}

/// The samples one step publishes: a `diagnosis` per candidate, an `slo_burn` per firing
/// burn-rate policy.
pub fn samples(a: &Analyzer, firing: &[sla::BurnAlert]) -> Vec<Sample> {
    let mut out = Vec::new();
    for c in a.candidates() {
        let target = target_of(&c.root_cause);
        out.push(Sample::new(
            "diagnosis",
            &[("kind", c.root_cause.kind.as_str()), ("target", &target)],
            c.confidence,
        ));
    }
    for b in firing {
        out.push(Sample::new(
            "slo_burn",
            &[
                ("objective", &b.objective),
                ("policy", &b.policy),
                ("severity", &b.severity),
            ],
            b.burn_long,
        ));
    }
    out
}

/// Alert manager and notifier, behind locks the dashboard shares.
pub struct Alerting {
    pub manager: Arc<Mutex<Manager>>,
    pub notifier: Arc<tokio::sync::Mutex<Notifier>>,
    clock: SharedClock,
}

impl Alerting {
    /// `history`: the file alert state changes are appended to.
    pub fn new(
        cfg: &ManagerConfig,
        clock: SharedClock,
        history: Option<&Path>,
    ) -> Result<Self, AlertsError> {
        let manager = Manager::new(cfg, clock.clone(), history)?;
        let feed = DashboardFeed::new(500);
        let notifier = Notifier::new(cfg.receivers.clone(), cfg.retry, feed, &cfg.external_url)?;
        Ok(Self {
            manager: Arc::new(Mutex::new(manager)),
            notifier: Arc::new(tokio::sync::Mutex::new(notifier)),
            clock,
        })
    }

    /// One evaluation: samples → alerts → notifications → deliveries due.
    pub async fn step(&self, analyzer: &Mutex<Analyzer>, sla: &Mutex<sla::Sla>) {
        let firing = sla.lock().firing();
        let samples = samples(&analyzer.lock(), &firing);
        let notes = match self.manager.lock().evaluate(&samples) {
            Ok(n) => n,
            Err(e) => {
                // A sample the rules refuse is a wiring defect; the step goes on.
                tracing::warn!(error = %e, "alerts: samples refused");
                Vec::new()
            }
        };
        let now = self.clock.now_us();
        let mut n = self.notifier.lock().await;
        n.enqueue(notes, now);
        n.deliver_due(now).await;
    }
}
