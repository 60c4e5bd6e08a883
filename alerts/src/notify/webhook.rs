//! The webhook receiver: POSTs Alertmanager's v4 JSON body, so tools that accept
//! Alertmanager webhooks accept ours. A non-2xx answer is a failed delivery.

use crate::group::{Notification, NotificationStatus};
use crate::rule::{Alert, AlertState};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Where to POST.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: String,
    /// Optional bearer token sent as `Authorization: Bearer …`.
    #[serde(default)]
    pub bearer_token: Option<String>,
}

const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn alert_json(a: &Alert) -> Value {
    let resolved = a.state == AlertState::Resolved;
    json!({
        "status": if resolved { "resolved" } else { "firing" },
        "labels": a.labels,
        "annotations": a.annotations,
        "startsAt": digest::format_rfc3339(a.starts_at_us),
        "endsAt": if resolved { digest::format_rfc3339(a.ends_at_us) } else { ZERO_TIME.to_string() },
        "generatorURL": a.generator_url,
        "fingerprint": a.fingerprint,
    })
}

/// The Alertmanager v4 webhook body for one notification.
pub(crate) fn webhook_body(n: &Notification, external_url: &str) -> Value {
    json!({
        "version": "4",
        "groupKey": n.group_key,
        "truncatedAlerts": 0,
        "status": match n.status { NotificationStatus::Firing => "firing", NotificationStatus::Resolved => "resolved" },
        "receiver": n.receiver,
        "groupLabels": n.group_labels,
        "commonLabels": n.common_labels,
        "commonAnnotations": n.common_annotations,
        "externalURL": external_url,
        "alerts": n.alerts.iter().map(alert_json).collect::<Vec<_>>(),
    })
}

/// Sends one body; the error text says what went wrong.
pub(crate) async fn send(
    client: &reqwest::Client,
    cfg: &WebhookConfig,
    body: &Value,
) -> Result<(), String> {
    let mut req = client.post(&cfg.url).json(body);
    if let Some(t) = &cfg.bearer_token {
        req = req.bearer_auth(t);
    }
    let resp = req
        .send()
        .await
        .map_err(|e| format!("POST {}: {e}", cfg.url))?;
    if !resp.status().is_success() {
        return Err(format!("POST {}: HTTP {}", cfg.url, resp.status()));
    }
    Ok(())
}
