//! payments-sim's control API over HTTP with a bearer token (issue 3): rules under
//! `/control/rules/{flow|param|degrade}` (whole lists, replaced), and
//! `/control/switches`, `/control/versions`, `/control/ledger` (maps, merged; `null`
//! restores a default), `/control/channels` (a `[{bank, weight}]` table, replaced) and
//! `/control/zones` (`{zone: percent}`, replaced); and the routing levers of issue 6 —
//! `/control/instances` (the isolated set), `/control/pools` (merged) and
//! `/control/ledger-db` (switchover), see [`super::levers`]. Each apply reads the state
//! first; undo writes that state back (merged maps get the old value or `null` for the
//! touched key; the ledger primary is put back; `isolate`'s undo takes only its own
//! instance out of the isolated set, so isolations made meanwhile by others stay);
//! `/control/configs` (`config_revert`: `{service: "previous"}`, whose undo leaves the
//! revert in place — a broken config is never put back).

use super::levers::{isolate_body, restore_field, switchover_body};
use super::rules::{rule_type, with_rule};
use super::{call, client_with_timeout, http_client, Applied, BoxFuture, ExecError, Executor};
use crate::plan::Action;
use serde_json::{json, Map, Value};

/// Who the change events name (`x-warroom-actor`).
pub const ACTOR: &str = "healer";

/// payments-sim's control plane at `base_url`.
pub struct SimExecutor {
    base: String,
    token: String,
    http: reqwest::Client,
    /// Bank channels to fill the table with while it is at the routing defaults.
    pub banks: Vec<String>,
    /// Zones to split evenly while the split is at its default.
    pub zones: Vec<String>,
}

enum Shape {
    /// The whole document is replaced by PUT.
    Replace,
    /// PUT merges keys; undo writes the old value of `key` (or `null`).
    Merge(String),
    /// PUT sets one field of the document; undo writes that field as it was.
    Field(&'static str),
}

impl SimExecutor {
    pub fn new(base_url: &str, token: &str, banks: &[&str], zones: &[&str]) -> Self {
        Self {
            base: base_url.trim_end_matches('/').into(),
            token: token.into(),
            http: http_client(),
            banks: banks.iter().map(|s| s.to_string()).collect(),
            zones: zones.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Each HTTP call fails after `t` instead of [`super::HTTP_TIMEOUT`].
    pub fn with_timeout(mut self, t: std::time::Duration) -> Self {
        self.http = client_with_timeout(t);
        self
    }

    fn path(a: &Action) -> Result<&'static str, ExecError> {
        Ok(match a {
            Action::FlowLimit { .. } => "/control/rules/flow",
            Action::ParamLimit { .. } => "/control/rules/param",
            Action::CircuitBreaker { .. } => "/control/rules/degrade",
            Action::ChannelWeight { .. } => "/control/channels",
            Action::Degrade { .. } => "/control/switches",
            Action::Rollback { .. } => "/control/versions",
            Action::ZoneShift { .. } => "/control/zones",
            Action::LedgerStrategy { .. } => "/control/ledger",
            Action::Isolate { .. } => "/control/instances",
            Action::PoolSize { .. } => "/control/pools",
            Action::LedgerSwitchover {} => "/control/ledger-db",
            Action::RiskSkip { .. } => "/control/risk",
            Action::ConfigRevert { .. } => "/control/configs",
            Action::Call { .. } => {
                return Err(ExecError::Unsupported {
                    executor: "sim",
                    action: a.describe(),
                })
            }
        })
    }

    async fn get(&self, path: &str) -> Result<Value, ExecError> {
        call(
            self.http
                .get(format!("{}{path}", self.base))
                .bearer_auth(&self.token),
            &format!("GET {path}"),
        )
        .await
    }

    async fn put(&self, path: &str, body: &Value) -> Result<Value, ExecError> {
        let req = self
            .http
            .put(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("x-warroom-actor", ACTOR)
            .json(body);
        call(req, &format!("PUT {path}")).await
    }

    /// The body to PUT for `a` given the current state, and how to undo it.
    fn change(&self, a: &Action, cur: &Value) -> Result<(Value, Shape), ExecError> {
        if rule_type(a).is_some() {
            return Ok((with_rule(a, cur)?, Shape::Replace));
        }
        Ok(match a {
            Action::ChannelWeight { bank, weight } => {
                let mut table: Vec<(String, u64)> = cur
                    .as_array()
                    .map(|v| {
                        v.iter()
                            .filter_map(|c| {
                                Some((
                                    c.get("bank")?.as_str()?.to_string(),
                                    c.get("weight")?.as_u64()?,
                                ))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                if table.is_empty() {
                    if self.banks.is_empty() {
                        return Err(ExecError::Config(
                            "the channel table is at its defaults and no banks are configured"
                                .into(),
                        ));
                    }
                    table = self.banks.iter().map(|b| (b.clone(), 100)).collect();
                }
                match table.iter_mut().find(|(b, _)| b == bank) {
                    Some(e) => e.1 = *weight as u64,
                    None => table.push((bank.clone(), *weight as u64)),
                }
                (
                    json!(table
                        .iter()
                        .map(|(b, w)| json!({"bank": b, "weight": w}))
                        .collect::<Vec<_>>()),
                    Shape::Replace,
                )
            }
            Action::Degrade { feature, enabled } => (
                json!({ feature.clone(): enabled }),
                Shape::Merge(feature.clone()),
            ),
            Action::Rollback { service, version } => (
                json!({ service.clone(): version }),
                Shape::Merge(service.clone()),
            ),
            Action::LedgerStrategy { account, strategy } => (
                json!({ account.clone(): strategy }),
                Shape::Merge(account.clone()),
            ),
            Action::Isolate {
                instance,
                max_per_service,
            } => (
                isolate_body(cur, instance, *max_per_service)?,
                Shape::Field("isolated"),
            ),
            Action::PoolSize { service, size } => (
                json!({ service.clone(): size }),
                Shape::Merge(service.clone()),
            ),
            Action::LedgerSwitchover {} => (switchover_body(cur)?, Shape::Field("primary")),
            Action::ConfigRevert { service } => (
                json!({ service.clone(): "previous" }),
                Shape::Merge(service.clone()),
            ),
            Action::RiskSkip { below_cents } => (
                json!({ "sync_skip_below_cents": below_cents }),
                Shape::Field("sync_skip_below_cents"),
            ),
            Action::ZoneShift {
                from, to, fraction, ..
            } => (
                self.shift(cur, from, to.as_deref(), *fraction)?,
                Shape::Replace,
            ),
            _ => unreachable!("rules and calls handled above"),
        })
    }

    /// Moves `fraction` of `from`'s share (whole percent, at least 1 when above 0).
    fn shift(
        &self,
        cur: &Value,
        from: &str,
        to: Option<&str>,
        fraction: f64,
    ) -> Result<Value, ExecError> {
        let mut split: Vec<(String, i64)> = cur
            .as_object()
            .map(|o| {
                o.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_i64()?)))
                    .collect()
            })
            .unwrap_or_default();
        if split.is_empty() {
            let n = self.zones.len() as i64;
            if n == 0 {
                return Err(ExecError::Config(
                    "the zone split is at its default and no zones are configured".into(),
                ));
            }
            split = self
                .zones
                .iter()
                .enumerate()
                .map(|(i, z)| (z.clone(), 100 / n + i64::from((i as i64) < 100 % n)))
                .collect();
        }
        let have = split
            .iter()
            .find(|(z, _)| z == from)
            .map(|(_, s)| *s)
            .ok_or_else(|| ExecError::Config(format!("zone {from} is not in the split")))?;
        let mut moved = (have as f64 * fraction).round() as i64;
        if fraction > 0.0 && moved == 0 && have > 0 {
            moved = 1;
        }
        let takers: Vec<usize> = split
            .iter()
            .enumerate()
            .filter(|(_, (z, _))| z != from && to.is_none_or(|t| t == z))
            .map(|(i, _)| i)
            .collect();
        if takers.is_empty() {
            return Err(ExecError::Config(format!(
                "no zone to take traffic from {from}"
            )));
        }
        for (k, &i) in takers.iter().enumerate() {
            let n = takers.len() as i64;
            split[i].1 += moved / n + i64::from((k as i64) < moved % n);
        }
        split
            .iter_mut()
            .find(|(z, _)| z == from)
            .expect("present")
            .1 -= moved;
        Ok(Value::Object(
            split
                .into_iter()
                .map(|(z, s)| (z, json!(s)))
                .collect::<Map<_, _>>(),
        ))
    }
}

impl Executor for SimExecutor {
    fn apply<'a>(&'a self, action: &'a Action) -> BoxFuture<'a, Result<Applied, ExecError>> {
        Box::pin(async move {
            let path = Self::path(action)?;
            let before = self.get(path).await?;
            let (body, _) = self.change(action, &before)?;
            self.put(path, &body).await?;
            let after = self.get(path).await?;
            Ok(Applied { before, after })
        })
    }

    fn undo<'a>(
        &'a self,
        action: &'a Action,
        applied: &'a Applied,
    ) -> BoxFuture<'a, Result<Value, ExecError>> {
        Box::pin(async move {
            let path = Self::path(action)?;
            if let Action::ConfigRevert { .. } = action {
                // A broken config is never put back: the revert stays.
                return self.get(path).await;
            }
            let body = if let Action::Isolate { instance, .. } = action {
                // Only this step's instance comes back: isolations made meanwhile by
                // others stay (equal to the set before when nobody else changed it).
                let was = restore_field(&applied.before, "isolated")?;
                if was["isolated"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|i| i == instance.as_str()))
                {
                    return self.get(path).await;
                }
                let cur = self.get(path).await?;
                let mut now = restore_field(&cur, "isolated")?;
                if let Some(a) = now["isolated"].as_array_mut() {
                    a.retain(|i| i != instance.as_str());
                }
                now
            } else {
                match self.change(action, &applied.before)?.1 {
                    Shape::Replace => applied.before.clone(),
                    Shape::Merge(key) => {
                        json!({ key.clone(): applied.before.get(&key).cloned().unwrap_or(Value::Null) })
                    }
                    Shape::Field(f) => restore_field(&applied.before, f)?,
                }
            };
            self.put(path, &body).await?;
            self.get(path).await
        })
    }
}
