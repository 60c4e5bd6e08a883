//! The generic webhook executor: POSTs `{"phase":"apply"|"undo","action":{…},"before":…}`
//! as JSON (bearer token optional) and takes `{"before":…,"after":…}` back if the other
//! side sends it. For levers war-room has no built-in executor for.

use super::{call, http_client, Applied, BoxFuture, ExecError, Executor};
use crate::plan::Action;
use serde_json::{json, Value};

pub struct WebhookExecutor {
    url: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl WebhookExecutor {
    pub fn new(url: &str, token: Option<&str>) -> Self {
        Self {
            url: url.into(),
            token: token.map(String::from),
            http: http_client(),
        }
    }

    async fn post(&self, body: Value) -> Result<Value, ExecError> {
        let mut r = self.http.post(&self.url).json(&body);
        if let Some(t) = &self.token {
            r = r.bearer_auth(t);
        }
        call(r, &format!("POST {}", self.url)).await
    }
}

impl Executor for WebhookExecutor {
    fn apply<'a>(&'a self, action: &'a Action) -> BoxFuture<'a, Result<Applied, ExecError>> {
        Box::pin(async move {
            let a = self
                .post(json!({"phase": "apply", "action": action}))
                .await?;
            Ok(Applied {
                before: a.get("before").cloned().unwrap_or(Value::Null),
                after: a.get("after").cloned().unwrap_or(a),
            })
        })
    }

    fn undo<'a>(
        &'a self,
        action: &'a Action,
        applied: &'a Applied,
    ) -> BoxFuture<'a, Result<Value, ExecError>> {
        Box::pin(async move {
            let a = self
                .post(json!({"phase": "undo", "action": action, "before": applied.before}))
                .await?;
            Ok(a.get("after").cloned().unwrap_or(a))
        })
    }
}
