//! Receivers and delivery. The dashboard feed takes a notification at once; e-mail and
//! webhook deliveries are queued and attempted by [`Notifier::deliver_due`]; a failure is
//! counted, its error kept, and retried with exponential backoff until `max_attempts`, after
//! which it is counted as given up. Nothing fails silently: see [`Notifier::stats`].

mod dashboard;
pub mod email;
mod webhook;

pub use dashboard::{DashboardFeed, FeedEntry};
pub use webhook::WebhookConfig;

use crate::error::{bad_config, AlertsError};
use crate::group::Notification;
use digest::Micros;
use email::EmailConfig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A named receiver: any of dashboard, e-mail, webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverConfig {
    pub name: String,
    #[serde(default)]
    pub dashboard: bool,
    #[serde(default)]
    pub email: Option<EmailConfig>,
    #[serde(default)]
    pub webhook: Option<WebhookConfig>,
}

/// Backoff between attempts: `initial`, doubling, capped at `max`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    pub initial_backoff_s: f64,
    pub max_backoff_s: f64,
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            initial_backoff_s: 1.0,
            max_backoff_s: 60.0,
            max_attempts: 10,
        }
    }
}

/// Delivery figures of one receiver channel (`email` or `webhook`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeliveryStats {
    pub sent: u64,
    pub failed_attempts: u64,
    pub gave_up: u64,
    pub pending: u64,
    pub last_error: Option<String>,
    pub last_error_at_us: Micros,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Channel {
    Email,
    Webhook,
}

impl Channel {
    fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
        }
    }
}

#[derive(Debug)]
struct Pending {
    receiver: String,
    channel: Channel,
    notification: Notification,
    attempts: u32,
    next_at_us: Micros,
}

/// Delivers notifications to receivers.
#[derive(Debug)]
pub struct Notifier {
    receivers: BTreeMap<String, ReceiverConfig>,
    feed: DashboardFeed,
    queue: Vec<Pending>,
    stats: BTreeMap<(String, Channel), DeliveryStats>,
    retry: RetryPolicy,
    external_url: String,
    http: reqwest::Client,
}

impl Notifier {
    pub fn new(
        receivers: Vec<ReceiverConfig>,
        retry: RetryPolicy,
        feed: DashboardFeed,
        external_url: &str,
    ) -> Result<Self, AlertsError> {
        let mut map = BTreeMap::new();
        for (i, r) in receivers.into_iter().enumerate() {
            if r.name.is_empty() {
                return Err(bad_config(
                    format!("receivers[{i}].name"),
                    "must not be empty",
                ));
            }
            if let Some(e) = &r.email {
                if e.to.is_empty() {
                    return Err(bad_config(
                        format!("receivers[{i}].email.to"),
                        "needs an address",
                    ));
                }
            }
            if map.insert(r.name.clone(), r).is_some() {
                return Err(bad_config(
                    format!("receivers[{i}].name"),
                    "duplicate receiver",
                ));
            }
        }
        if !(retry.initial_backoff_s > 0.0
            && retry.max_backoff_s >= retry.initial_backoff_s
            && retry.max_attempts > 0)
        {
            return Err(bad_config(
                "retry",
                "need initial_backoff_s > 0, max_backoff_s ≥ it, max_attempts ≥ 1",
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(5))
            .build()
            .map_err(|e| bad_config("webhook", e.to_string()))?;
        Ok(Self {
            receivers: map,
            feed,
            queue: Vec::new(),
            stats: BTreeMap::new(),
            retry,
            external_url: external_url.into(),
            http,
        })
    }

    /// Hands notifications over: the dashboard gets them now, e-mail and webhook are queued.
    pub fn enqueue(&mut self, notes: Vec<Notification>, now: Micros) {
        for n in notes {
            let Some(r) = self.receivers.get(&n.receiver) else {
                continue;
            };
            if r.dashboard {
                self.feed.push(n.clone());
            }
            let mut chans = Vec::new();
            if r.email.is_some() {
                chans.push(Channel::Email);
            }
            if r.webhook.is_some() {
                chans.push(Channel::Webhook);
            }
            for channel in chans {
                self.stats
                    .entry((n.receiver.clone(), channel))
                    .or_default()
                    .pending += 1;
                self.queue.push(Pending {
                    receiver: n.receiver.clone(),
                    channel,
                    notification: n.clone(),
                    attempts: 0,
                    next_at_us: now,
                });
            }
        }
    }

    /// Attempts every queued delivery that is due; returns how many succeeded.
    pub async fn deliver_due(&mut self, now: Micros) -> usize {
        let mut ok = 0;
        let queue = std::mem::take(&mut self.queue);
        for mut p in queue {
            if p.next_at_us > now {
                self.queue.push(p);
                continue;
            }
            let r = &self.receivers[&p.receiver];
            let result = match p.channel {
                Channel::Email => {
                    email::send(
                        r.email.as_ref().expect("email"),
                        &p.notification,
                        &self.external_url,
                    )
                    .await
                }
                Channel::Webhook => {
                    let body = webhook::webhook_body(&p.notification, &self.external_url);
                    webhook::send(&self.http, r.webhook.as_ref().expect("webhook"), &body).await
                }
            };
            let st = self
                .stats
                .entry((p.receiver.clone(), p.channel))
                .or_default();
            p.attempts += 1;
            match result {
                Ok(()) => {
                    st.sent += 1;
                    st.pending -= 1;
                    ok += 1;
                }
                Err(e) => {
                    st.failed_attempts += 1;
                    st.last_error = Some(e);
                    st.last_error_at_us = now;
                    if p.attempts >= self.retry.max_attempts {
                        st.gave_up += 1;
                        st.pending -= 1;
                    } else {
                        let back = (self.retry.initial_backoff_s
                            * 2f64.powi(p.attempts as i32 - 1))
                        .min(self.retry.max_backoff_s);
                        p.next_at_us = now + (back * 1e6) as u64;
                        self.queue.push(p);
                    }
                }
            }
        }
        ok
    }

    /// When the next queued attempt is due, if any.
    pub fn next_due(&self) -> Option<Micros> {
        self.queue.iter().map(|p| p.next_at_us).min()
    }

    /// Figures per `receiver/channel`, e.g. `oncall/email`.
    pub fn stats(&self) -> BTreeMap<String, DeliveryStats> {
        self.stats
            .iter()
            .map(|((r, c), s)| (format!("{r}/{}", c.as_str()), s.clone()))
            .collect()
    }
}
