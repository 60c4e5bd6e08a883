//! Analyzer and SLA → alerts: each tick turns the analyzer's ranked candidates
//! (`diagnosis{kind,target}` = confidence) and the SLA's firing burn rates
//! (`slo_burn{objective,policy,severity}` = long-window burn) into samples for
//! the `alerts::Manager`, and hands its notifications to the `Notifier`
//! (dashboard feed at once; e-mail and webhook queued, retried, counted).

use alerts::{DashboardFeed, Manager, ManagerConfig, Notifier, Sample};
use analyzer::SharedAnalyzer;
use anyhow::Context;
use digest::SharedClock;
use parking_lot::Mutex;
use std::path::Path;
use std::sync::Arc;

/// The alert rules and route `warroom up` and the drills use without a config.
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

pub fn default_alerts_config() -> ManagerConfig {
    toml::from_str(DEFAULT_ALERTS).expect("built-in alerts config parses")
}

/// Alert manager and notifier, behind locks the dashboard shares.
pub struct Watch {
    pub manager: Arc<Mutex<Manager>>,
    pub notifier: Arc<tokio::sync::Mutex<Notifier>>,
    clock: SharedClock,
}

impl Watch {
    pub fn new(
        cfg: &ManagerConfig,
        clock: SharedClock,
        history: Option<&Path>,
    ) -> anyhow::Result<Self> {
        let manager = Manager::new(cfg, clock.clone(), history).context("alerts config")?;
        let feed = DashboardFeed::new(500);
        let notifier = Notifier::new(cfg.receivers.clone(), cfg.retry, feed, &cfg.external_url)
            .context("alerts receivers")?;
        Ok(Self {
            manager: Arc::new(Mutex::new(manager)),
            notifier: Arc::new(tokio::sync::Mutex::new(notifier)),
            clock,
        })
    }

    /// One evaluation: samples → alerts → notifications → deliveries due.
    pub async fn step(&self, analyzer: &SharedAnalyzer, sla: &Arc<Mutex<sla::Sla>>) {
        let mut samples = Vec::new();
        for c in analyzer.lock().candidates() {
            let target = super::heal::target_of(&c.root_cause);
            samples.push(Sample::new(
                "diagnosis",
                &[("kind", c.root_cause.kind.as_str()), ("target", &target)],
                c.confidence,
            ));
        }
        for b in sla::slo(&sla.lock()).firing {
            samples.push(Sample::new(
                "slo_burn",
                &[
                    ("objective", &b.objective),
                    ("policy", &b.policy),
                    ("severity", &b.severity),
                ],
                b.burn_long,
            ));
        }
        let notes = match self.manager.lock().evaluate(&samples) {
            Ok(n) => n,
            Err(e) => {
                eprintln!("alerts: {e}");
                Vec::new()
            }
        };
        let now = self.clock.now_us();
        let mut n = self.notifier.lock().await;
        n.enqueue(notes, now);
        n.deliver_due(now).await;
    }
}
