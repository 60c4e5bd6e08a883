//! alerts: turns samples (analyzer series, SLA burn rates, anomalies, diagnoses) into alerts
//! and tells the right people once.
//!
//! Owns: alert rules and their pending → firing → resolved state ([`rule`]), label matchers
//! ([`labels`]), silences ([`silence`]), inhibition ([`inhibit`]), the routing tree
//! ([`route`]), grouping with group wait / interval / repeat and dedup ([`group`]), the
//! receivers — dashboard feed, e-mail over SMTP, Alertmanager-v4 webhook ([`notify`]) —
//! with retried, counted delivery, and the append-only history file ([`store`]).
//! [`Manager`] ties them together and is driven by a `digest::Clock` and explicit calls.
//!
//! Must not: depend on the analyzer or the healer (callers fill [`Sample`]s), sleep on
//! timing (every timer reads the clock it is given), or drop a notification silently.

pub mod defaults;
pub mod error;
pub mod group;
pub mod inhibit;
pub mod labels;
pub mod manager;
pub mod notify;
pub mod route;
pub mod rule;
pub mod silence;
pub mod store;

pub use defaults::war_room_config;
pub use error::AlertsError;
pub use group::{GroupSettings, Notification, NotificationStatus};
pub use inhibit::InhibitRule;
pub use labels::{fingerprint, Labels, MatchOp, Matcher};
pub use manager::{Manager, ManagerConfig};
pub use notify::dashboard::{DashboardFeed, FeedEntry};
pub use notify::email::EmailConfig;
pub use notify::webhook::{webhook_body, WebhookConfig};
pub use notify::{DeliveryStats, Notifier, ReceiverConfig, RetryPolicy};
pub use route::{Route, RouteConfig};
pub use rule::{Alert, AlertState, Op, Rule, RuleConfig, RuleSet, Sample};
pub use silence::{Silence, SilenceRequest, Silences};
pub use store::{HistoryEntry, Store};
