//! Notices for people: approval requests, escalations, rejections, abandonments and
//! recoveries, taken from the incident timelines (each reported once) and sent by e-mail
//! through the alerts crate's SMTP sender (or shown on the dashboard by the caller).

use crate::incident::{Incident, TimelineKind};
use serde::{Deserialize, Serialize};

/// One message for a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub incident: u64,
    pub kind: TimelineKind,
    /// `commander`, or the plan's escalation target.
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// The kinds that people are told about.
pub const NOTIFIED: [TimelineKind; 5] = [
    TimelineKind::ApprovalRequested,
    TimelineKind::Escalated,
    TimelineKind::Rejected,
    TimelineKind::Abandoned,
    TimelineKind::Recovered,
];

pub(crate) fn notices(inc: &Incident, from: usize) -> Vec<Notice> {
    inc.timeline[from..]
        .iter()
        .filter(|t| NOTIFIED.contains(&t.kind))
        .map(|t| {
            let to = match t.kind {
                TimelineKind::Escalated => inc
                    .escalated_to
                    .clone()
                    .unwrap_or_else(|| "commander".into()),
                _ => "commander".into(),
            };
            let what = serde_json::to_value(t.kind)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            let mut body = format!(
                "Incident {}: {} on {}\nPlan: {}\n{}: {}\n\nTimeline:\n",
                inc.id,
                inc.trigger.kind,
                inc.trigger.target,
                inc.plan.as_deref().unwrap_or("none"),
                what,
                t.detail
            );
            for e in &inc.timeline {
                body.push_str(&format!(
                    "  {} {:?} {}{}\n",
                    digest::format_rfc3339(e.at_us),
                    e.kind,
                    e.detail,
                    e.by.as_deref()
                        .map(|b| format!(" (by {b})"))
                        .unwrap_or_default()
                ));
            }
            Notice {
                incident: inc.id,
                kind: t.kind,
                to,
                subject: format!(
                    "[incident {}] {what}: {} {}",
                    inc.id, inc.trigger.kind, inc.trigger.target
                ),
                body,
            }
        })
        .collect()
}

/// Sends a notice as one e-mail (to the addresses in `cfg`).
pub async fn send_email(cfg: &alerts::EmailConfig, n: &Notice) -> Result<(), String> {
    alerts::notify::email::send_text(cfg, &n.subject, &n.body).await
}
