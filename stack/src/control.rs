//! A small client of payments-sim's control API over real HTTP with its bearer
//! token, for what the wiring itself does there: inject and clear a drill's
//! fault (`PUT /control/faults`) and put the control
//! plane back to its defaults between drills. The healer has its own executor.

use crate::error::StackError;
use serde_json::{json, Value};

/// The control API at `base` (e.g. `http://127.0.0.1:9090`).
#[derive(Clone)]
pub struct ControlClient {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl ControlClient {
    pub fn new(base: &str, token: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            http: reqwest::Client::new(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, StackError> {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("x-warroom-actor", "drill");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| StackError::Control(format!("{method} {path}: {e}")))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(StackError::Control(format!(
                "{method} {path}: {status}: {text}"
            )));
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> Result<Value, StackError> {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn put(&self, path: &str, body: Value) -> Result<Value, StackError> {
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }

    /// Replaces the faults with `specs` (CLI syntax, timed from now).
    pub async fn put_faults(&self, specs: &[String]) -> Result<(), StackError> {
        self.put("/control/faults", json!(specs)).await.map(|_| ())
    }

    /// Makes `rate` (0..=1) of payments decline for business reasons (a noise run's burst
    /// of insufficient funds and card declines; not a fault).
    pub async fn put_declines(&self, rate: f64) -> Result<(), StackError> {
        self.put("/control/declines", json!({ "rate": rate }))
            .await
            .map(|_| ())
    }

    /// Replaces the faults with `specs` (payments-sim's JSON form, timed from now).
    pub async fn put_fault_specs(&self, specs: &[Value]) -> Result<(), StackError> {
        self.put("/control/faults", Value::Array(specs.to_vec()))
            .await
            .map(|_| ())
    }

    /// Puts back what plans may have changed, touching only what differs from
    /// the defaults (each PUT is a change event the analyzer sees).
    pub async fn reset(&self) -> Result<(), StackError> {
        for kind in ["flow", "param", "degrade"] {
            let path = format!("/control/rules/{kind}");
            if self
                .get(&path)
                .await?
                .as_array()
                .is_some_and(|a| !a.is_empty())
            {
                self.put(&path, json!([])).await?;
            }
        }
        let switches = self.get("/control/switches").await?;
        if let Some(m) = switches.as_object() {
            let off: serde_json::Map<String, Value> = m
                .iter()
                .filter(|(_, v)| v.as_bool() == Some(false))
                .map(|(k, _)| (k.clone(), Value::Null))
                .collect();
            if !off.is_empty() {
                self.put("/control/switches", Value::Object(off)).await?;
            }
        }
        let channels = self.get("/control/channels").await?;
        if channels.as_array().is_some_and(|a| !a.is_empty()) {
            self.put("/control/channels", json!([])).await?;
        }
        let zones = self.get("/control/zones").await?;
        if zones.as_object().is_some_and(|m| !m.is_empty()) {
            self.put("/control/zones", json!({})).await?;
        }
        let instances = self.get("/control/instances").await?;
        if instances["isolated"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
        {
            self.put("/control/instances", json!({ "isolated": [] }))
                .await?;
        }
        let pools = self.get("/control/pools").await?;
        if let Some(m) = pools.as_object().filter(|m| !m.is_empty()) {
            let back: serde_json::Map<String, Value> =
                m.keys().map(|k| (k.clone(), Value::Null)).collect();
            self.put("/control/pools", Value::Object(back)).await?;
        }
        let db = self.get("/control/ledger-db").await?;
        let first = payments_sim::faults::LEDGER_DBS[0];
        if db["primary"].as_str().is_some_and(|p| p != first) {
            self.put("/control/ledger-db", json!({ "primary": first }))
                .await?;
        }
        let ledger = self.get("/control/ledger").await?;
        if let Some(m) = ledger.as_object().filter(|m| !m.is_empty()) {
            let back: serde_json::Map<String, Value> =
                m.keys().map(|k| (k.clone(), Value::Null)).collect();
            self.put("/control/ledger", Value::Object(back)).await?;
        }
        Ok(())
    }
}
