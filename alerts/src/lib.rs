//! alerts: turns samples (analyzer series, SLA burn rates, anomalies, diagnoses) into alerts
//! and tells the right people once.
//!
//! Owns: alert rules and their pending → firing → resolved state (`rule`), label matchers
//! (`labels`), silences (`silence`), inhibition (`inhibit`), the routing tree (`route`),
//! grouping with group wait / interval / repeat and dedup (`group`, which reads routes), the
//! receivers — dashboard feed, e-mail over SMTP, Alertmanager-v4 webhook ([`notify`]) —
//! with retried, counted delivery, and the append-only history file (`store`).
//! [`Manager`] ties them together and is driven by a `digest::Clock` and explicit calls.
//!
//! Must not: depend on the analyzer or the healer (callers fill [`Sample`]s), sleep on
//! timing (every timer reads the clock it is given), or drop a notification silently;
//! mark `pub` what no other crate uses (`unreachable_pub` warns).

#![warn(unreachable_pub)]

mod error;
mod group;
mod inhibit;
mod labels;
mod manager;
pub mod notify;
mod route;
mod rule;
mod silence;
mod store;

pub use error::AlertsError;
pub use group::{Notification, NotificationStatus};
pub use inhibit::InhibitConfig;
pub use labels::{Labels, MatchOp, Matcher};
pub use manager::{AlertView, Manager, ManagerConfig};
pub use notify::email::EmailConfig;
pub use notify::{
    DashboardFeed, DeliveryStats, FeedEntry, Notifier, ReceiverConfig, RetryPolicy, WebhookConfig,
};
pub use route::RouteConfig;
pub use rule::{Alert, AlertState, Evaluation, Op, RuleConfig, RuleSet, Sample};
pub use silence::{Silence, SilenceRequest};
pub use store::HistoryEntry;
