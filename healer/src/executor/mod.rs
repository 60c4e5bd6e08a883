//! Executors: the one trait every lever implements — apply an [`Action`] (reading the
//! state before it, so it can be undone) and undo it (putting that state back). Three
//! implementations: payments-sim's control API ([`sim`]), Sentinel's command API
//! ([`sentinel`]) and a generic webhook ([`webhook`]).

pub mod levers;
pub mod rules;
pub mod sentinel;
pub mod sim;
pub mod webhook;

use crate::plan::Action;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed, sendable future (the trait is object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Which executor a step goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecutorKind {
    Sim,
    Sentinel,
    Webhook,
}

/// The state around one applied action; `before` is what undo puts back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Applied {
    pub before: Value,
    pub after: Value,
}

/// Why an executor could not act.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExecError {
    #[error("{executor} does not support {action}")]
    Unsupported {
        executor: &'static str,
        action: String,
    },
    #[error("{0}")]
    Http(String),
    #[error("unexpected answer: {0}")]
    Answer(String),
    #[error("{0}")]
    Config(String),
    /// A step's own guard refused it (e.g. too many instances of a service isolated).
    #[error("refused by the step's guard: {0}")]
    Guard(String),
}

/// A lever on a running system.
pub trait Executor: Send + Sync {
    /// Applies `action`, returning the state before and after.
    fn apply<'a>(&'a self, action: &'a Action) -> BoxFuture<'a, Result<Applied, ExecError>>;
    /// Puts back `applied.before`; returns the state after the undo.
    fn undo<'a>(
        &'a self,
        action: &'a Action,
        applied: &'a Applied,
    ) -> BoxFuture<'a, Result<Value, ExecError>>;
}

/// The executors an engine may use, by kind.
#[derive(Clone, Default)]
pub struct Executors {
    map: BTreeMap<ExecutorKind, Arc<dyn Executor>>,
}

impl Executors {
    pub fn with(mut self, kind: ExecutorKind, e: Arc<dyn Executor>) -> Self {
        self.map.insert(kind, e);
        self
    }
    pub fn get(&self, kind: ExecutorKind) -> Option<&Arc<dyn Executor>> {
        self.map.get(&kind)
    }
}

/// How long one executor HTTP call may take (connect included) before it fails. Short on
/// purpose: the wiring ticks the engine under a lock, so a hung control plane must cost
/// seconds, not minutes. A step that times out fails; the engine undoes and escalates.
pub const HTTP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

pub(crate) fn http_client() -> reqwest::Client {
    client_with_timeout(HTTP_TIMEOUT)
}

pub(crate) fn client_with_timeout(t: std::time::Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(t)
        .connect_timeout(t)
        .build()
        .expect("a TLS-free reqwest client builds")
}

/// Sends a request and reads a JSON (or, for Sentinel's `success`, text) answer.
pub(crate) async fn call(req: reqwest::RequestBuilder, what: &str) -> Result<Value, ExecError> {
    let resp = req
        .send()
        .await
        .map_err(|e| ExecError::Http(format!("{what}: {e}")))?;
    let status = resp.status();
    let text = resp
        .text()
        .await
        .map_err(|e| ExecError::Http(format!("{what}: {e}")))?;
    if !status.is_success() {
        return Err(ExecError::Http(format!(
            "{what}: HTTP {status}: {}",
            text.chars().take(300).collect::<String>()
        )));
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::String(text)))
}
