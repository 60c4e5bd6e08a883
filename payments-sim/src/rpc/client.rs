//! The client side of the HTTP run mode: a call to another service as a real
//! HTTP request (`POST /rpc/<operation>`, JSON body, `traceparent`, `baggage`
//! and `x-caller` headers); transport failures become reply codes.

use crate::ctx::CallCtx;
use crate::msg::{Op, PayRequest, Reply, Service};
use std::borrow::Cow;

/// The HTTP client side: one pooled client, one base URL per service.
pub(crate) struct HttpTransport {
    client: reqwest::Client,
    urls: Vec<String>,
}

impl HttpTransport {
    /// `urls[i]` (`http://host:port`) serves `Service::ALL[i]`.
    pub(crate) fn new(urls: Vec<String>) -> HttpTransport {
        HttpTransport {
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .expect("a plain-HTTP client always builds"),
            urls,
        }
    }

    pub(crate) async fn call(
        &self,
        to: Service,
        caller: &str,
        ctx: &CallCtx,
        op: Op,
        req: &PayRequest,
    ) -> Reply {
        let span = ctx.parent.expect("a call has a client span");
        let url = format!("{}/rpc/{}", self.urls[to as usize], op.name());
        let resp = self
            .client
            .post(url)
            .header("traceparent", ctx.traceparent(span))
            .header("baggage", ctx.baggage())
            .header("x-caller", caller)
            .json(req)
            .send()
            .await;
        match resp {
            Ok(r) if r.status().is_success() => match r.json::<Reply>().await {
                Ok(reply) => reply,
                Err(_) => Reply::fail("RPC_BAD_RESPONSE", Some("Transport")),
            },
            Ok(r) => Reply {
                code: Cow::Owned(format!("RPC_HTTP_{}", r.status().as_u16())),
                error: Some(Cow::Borrowed("Transport")),
                virtual_us: 0,
                bank: None,
            },
            Err(_) => Reply::fail("RPC_UNREACHABLE", Some("Transport")),
        }
    }
}
