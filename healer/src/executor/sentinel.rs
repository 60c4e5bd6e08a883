//! Sentinel's command API: `GET /getRules?type=flow|degrade` reads a rule list,
//! `POST /setRules?type=…` with the form field `data=<JSON array>` replaces it; hot-parameter
//! rules use Sentinel's own pair, `GET /getParamFlowRules` and `POST /setParamFlowRules`.
//! So the same plans drive real Sentinel-protected services (and payments-sim, which
//! speaks it too).

use super::rules::{rule_type, with_rule};
use super::{call, http_client, Applied, BoxFuture, ExecError, Executor};
use crate::plan::Action;
use serde_json::Value;

/// Talks to one Sentinel command endpoint (e.g. `http://10.0.0.5:8719`).
pub struct SentinelExecutor {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl SentinelExecutor {
    /// `token`: sent as a bearer token when the endpoint needs one (payments-sim does).
    pub fn new(base_url: &str, token: Option<&str>) -> Self {
        Self {
            base: base_url.trim_end_matches('/').into(),
            token: token.map(String::from),
            http: http_client(),
        }
    }

    fn auth(&self, r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    /// The rules of one type.
    pub async fn get_rules(&self, ty: &str) -> Result<Value, ExecError> {
        // Sentinel serves hot-parameter rules on their own pair of commands.
        let (path, q): (&str, &[(&str, &str)]) = if ty == "param-flow" {
            ("getParamFlowRules", &[])
        } else {
            ("getRules", &[("type", ty)])
        };
        let req = self.auth(self.http.get(format!("{}/{path}", self.base)).query(q));
        call(req, &format!("GET /{path}?type={ty}")).await
    }

    /// Replaces the rules of one type.
    pub async fn set_rules(&self, ty: &str, rules: &Value) -> Result<(), ExecError> {
        let data = serde_json::to_string(rules).expect("json");
        let (path, q): (&str, &[(&str, &str)]) = if ty == "param-flow" {
            ("setParamFlowRules", &[])
        } else {
            ("setRules", &[("type", ty)])
        };
        let req = self.auth(
            self.http
                .post(format!("{}/{path}", self.base))
                .query(q)
                .form(&[("data", data.as_str())]),
        );
        let answer = call(req, &format!("POST /{path}?type={ty}")).await?;
        match answer {
            Value::String(s) if s.trim() == "success" => Ok(()),
            other => Err(ExecError::Answer(format!("setRules said {other}"))),
        }
    }

    fn ty(action: &Action) -> Result<&'static str, ExecError> {
        rule_type(action).ok_or_else(|| ExecError::Unsupported {
            executor: "sentinel",
            action: action.describe(),
        })
    }
}

impl Executor for SentinelExecutor {
    fn apply<'a>(&'a self, action: &'a Action) -> BoxFuture<'a, Result<Applied, ExecError>> {
        Box::pin(async move {
            let ty = Self::ty(action)?;
            let before = self.get_rules(ty).await?;
            self.set_rules(ty, &with_rule(action, &before)?).await?;
            let after = self.get_rules(ty).await?;
            Ok(Applied { before, after })
        })
    }

    fn undo<'a>(
        &'a self,
        action: &'a Action,
        applied: &'a Applied,
    ) -> BoxFuture<'a, Result<Value, ExecError>> {
        Box::pin(async move {
            let ty = Self::ty(action)?;
            self.set_rules(ty, &applied.before).await?;
            self.get_rules(ty).await
        })
    }
}
