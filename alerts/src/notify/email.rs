//! The e-mail receiver: one plain-text message per notification, sent with `lettre` over
//! SMTP (no TLS: meant for a relay on loopback or a trusted network).

use crate::group::{Notification, NotificationStatus};
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// SMTP relay and addresses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// `host:port` of the SMTP relay.
    pub smarthost: String,
    pub from: String,
    pub to: Vec<String>,
}

/// The subject line, Alertmanager style: `[FIRING:3] HighErrors trade`.
pub(crate) fn subject(n: &Notification) -> String {
    let (s, count) = match n.status {
        NotificationStatus::Firing => (
            "FIRING",
            n.alerts.iter().filter(|a| a.ends_at_us == 0).count(),
        ),
        NotificationStatus::Resolved => ("RESOLVED", n.alerts.len()),
    };
    let labels: Vec<&str> = n.group_labels.values().map(String::as_str).collect();
    format!("[{s}:{count}] {}", labels.join(" "))
}

/// The plain-text body: one block per alert.
pub(crate) fn body(n: &Notification, external_url: &str) -> String {
    let mut b = format!("Group {}\nReceiver {}\n\n", n.group_key, n.receiver);
    for a in &n.alerts {
        b.push_str(&format!(
            "- {} [{}] since {}\n",
            a.name(),
            if a.ends_at_us == 0 {
                "firing"
            } else {
                "resolved"
            },
            digest::format_rfc3339(a.starts_at_us)
        ));
        for (k, v) in a.labels.iter().chain(a.annotations.iter()) {
            b.push_str(&format!("    {k}: {v}\n"));
        }
    }
    b.push_str(&format!("\n{external_url}\n"));
    b
}

/// Sends one notification as one e-mail to every address.
pub(crate) async fn send(
    cfg: &EmailConfig,
    n: &Notification,
    external_url: &str,
) -> Result<(), String> {
    send_text(cfg, &subject(n), &body(n, external_url)).await
}

/// Sends one plain-text e-mail to every address (also used by the healer for approval
/// requests and escalations).
pub async fn send_text(cfg: &EmailConfig, subject: &str, body: &str) -> Result<(), String> {
    let (host, port) = cfg
        .smarthost
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
        .ok_or_else(|| format!("smarthost `{}` is not host:port", cfg.smarthost))?;
    let mut m = Message::builder()
        .from(
            cfg.from
                .parse()
                .map_err(|e| format!("from `{}`: {e}", cfg.from))?,
        )
        .subject(subject)
        .header(ContentType::TEXT_PLAIN);
    for to in &cfg.to {
        m = m.to(to.parse().map_err(|e| format!("to `{to}`: {e}"))?);
    }
    let msg = m
        .body(body.to_string())
        .map_err(|e| format!("message: {e}"))?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(port)
        .timeout(Some(Duration::from_secs(5)))
        .build();
    transport
        .send(msg)
        .await
        .map_err(|e| format!("SMTP {}: {e}", cfg.smarthost))?;
    Ok(())
}
