//! Notices for people: approval requests, escalations, rejections, abandonments and
//! recoveries, taken from the incident timelines (each reported once) and sent by e-mail
//! through the alerts crate's SMTP sender (or shown on the dashboard by the caller).

use crate::incident::{EntryKind, Incident};
use serde::Serialize;

/// One message for a person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notice {
    pub incident: u64,
    pub kind: EntryKind,
    /// `commander`, or the plan's escalation target.
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// The kinds that people are told about.
pub const NOTIFIED: [EntryKind; 5] = [
    EntryKind::ApprovalRequested,
    EntryKind::Escalated,
    EntryKind::Rejected,
    EntryKind::Abandoned,
    EntryKind::Recovered,
];

/// The notices for `inc`'s timeline entries from index `from` on.
pub(crate) fn notices(inc: &Incident, from: usize) -> Vec<Notice> {
    let plan = inc
        .last_run()
        .and_then(|r| r.plan.clone())
        .unwrap_or_else(|| "none".into());
    inc.timeline[from.min(inc.timeline.len())..]
        .iter()
        .filter(|t| NOTIFIED.contains(&t.kind))
        .map(|t| {
            let run = t.run.and_then(|id| inc.runs.iter().find(|r| r.id == id));
            let to = match t.kind {
                EntryKind::Escalated => run
                    .and_then(|r| r.escalated_to.clone())
                    .unwrap_or_else(|| "commander".into()),
                _ => "commander".into(),
            };
            let what = t.kind.as_str();
            let mut body = format!(
                "Incident {}: {}\nPlan: {plan}\n{what}: {}\n\nTimeline:\n",
                inc.id,
                inc.title(),
                t.detail
            );
            for e in &inc.timeline {
                body.push_str(&format!(
                    "  {} {} {}{}\n",
                    digest::format_rfc3339(e.at_us),
                    e.kind.as_str(),
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
                subject: format!("[incident {}] {what}: {}", inc.id, inc.title()),
                body,
            }
        })
        .collect()
}

/// Sends a notice as one e-mail (to the addresses in `cfg`).
pub async fn send_email(cfg: &alerts::EmailConfig, n: &Notice) -> Result<(), String> {
    alerts::notify::email::send_text(cfg, &n.subject, &n.body).await
}
