//! A steered payments-sim with its control API (axum `oneshot`, no socket), a
//! manual clock for fault windows, digests in memory and change events in a
//! Vec: the bench for the lever tests (instances, pools, ledger database).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use digest::MemorySink;
use digest::{ChangeEvent, DigestRecord, ManualClock, SpanKind};
use http_body_util::BodyExt;
use parking_lot::Mutex;
use payments_sim::control::{api, Steering};
use payments_sim::msg::{Biz, PayTool};
use payments_sim::{Mode, PaymentInput, Sim};
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

pub const TOKEN: &str = "lever-token";
pub const T0: u64 = 1_800_000_000_000_000;
pub const S: u64 = 1_000_000;

pub struct Lab {
    pub sim: Arc<Sim>,
    pub steering: Arc<Steering>,
    pub app: axum::Router,
    pub clock: ManualClock,
    pub mem: Arc<MemorySink>,
    pub events: Arc<Mutex<Vec<ChangeEvent>>>,
    seen: usize,
    n: u32,
}

/// A lab on `toml` (merged over `delays = "virtual"`) in `mode`. With
/// `real_durations`, digests are timed by the wall clock (for waits that
/// really happen, like ledger row-lock holds); fault windows still follow the
/// manual clock. Banks never decline or fail on their own.
pub async fn lab(toml: &str, mode: Mode, real_durations: bool) -> Lab {
    let clock = ManualClock::new(T0);
    let events = Arc::new(Mutex::new(Vec::new()));
    let ev = events.clone();
    let steering = Arc::new(Steering::new(
        Arc::new(clock.clone()),
        Arc::new(move |e| ev.lock().push(e)),
    ));
    let mem = Arc::new(MemorySink::new());
    let sim = super::steered_sim(toml, mode, &steering, &mem, &clock, real_durations).await;
    let app = api::router(steering.clone(), TOKEN).unwrap();
    Lab {
        sim,
        steering,
        app,
        clock,
        mem,
        events,
        seen: 0,
        n: 0,
    }
}

fn payment(n: u32, merchant: u32, tool: PayTool) -> PaymentInput {
    PaymentInput {
        user: 1 + n % 997,
        merchant,
        amount_cents: 1_000 + (n as i64 % 50) * 10,
        scene: Arc::from("quick_pay"),
        channel: Arc::from("SDK"),
        biz: Biz::Goods,
        tool,
        coupon: false,
        shadow: false,
    }
}

impl Lab {
    /// Sets the clock to second `at` of the run.
    pub fn at(&self, secs: u64) {
        self.clock.set(T0 + secs * S);
        self.steering.tick();
    }

    /// Digests written since the last call.
    pub fn fresh(&mut self) -> Vec<DigestRecord> {
        super::decode_since(&self.mem, &mut self.seen)
    }

    /// `count` payments one after another; their digests.
    pub async fn pay(&mut self, count: u32, tool: PayTool) -> Vec<DigestRecord> {
        for _ in 0..count {
            self.n += 1;
            self.sim.pay(payment(self.n, 1 + self.n % 13, tool)).await;
        }
        self.fresh()
    }

    /// `count` balance payments at once, all to `merchant`; their digests.
    pub async fn burst(&mut self, count: u32, merchant: u32) -> Vec<DigestRecord> {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..count {
            self.n += 1;
            let (sim, p) = (
                self.sim.clone(),
                payment(self.n, merchant, PayTool::Balance),
            );
            tasks.spawn(async move { sim.pay(p).await });
        }
        while tasks.join_next().await.is_some() {}
        self.fresh()
    }

    /// One control API request; the body parsed as JSON (`Null` when it is not).
    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut b = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json")
            .header("x-warroom-actor", "commander-li");
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        let body = body.map_or(Body::empty(), |v| Body::from(v.to_string()));
        let resp = self
            .app
            .clone()
            .oneshot(b.body(body).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    pub async fn get(&self, uri: &str) -> Value {
        let (s, v) = self.call("GET", uri, None, Some(TOKEN)).await;
        assert_eq!(s, StatusCode::OK, "GET {uri}: {v}");
        v
    }

    pub async fn put(&self, uri: &str, body: Value) -> (StatusCode, Value) {
        self.call("PUT", uri, Some(body), Some(TOKEN)).await
    }

    /// Change event details so far (and forgets them).
    pub fn take_events(&self) -> Vec<(String, String, String)> {
        self.events
            .lock()
            .drain(..)
            .map(|e| (e.service, e.detail, e.by))
            .collect()
    }
}

/// Server records of `service`.
pub fn servers<'a>(recs: &'a [DigestRecord], service: &'a str) -> Vec<&'a DigestRecord> {
    recs.iter()
        .filter(|r| r.kind == SpanKind::Server && r.service == service)
        .collect()
}

/// Median duration of `recs`' server records of `service`, µs.
pub fn p50(recs: &[DigestRecord], service: &str) -> u64 {
    let mut v: Vec<u64> = servers(recs, service)
        .iter()
        .map(|d| d.duration_us)
        .collect();
    assert!(!v.is_empty(), "no {service} server records");
    v.sort();
    v[v.len() / 2]
}

/// Failed records as `service:code` counts.
pub fn failures(recs: &[DigestRecord]) -> std::collections::BTreeMap<String, usize> {
    let mut m = std::collections::BTreeMap::new();
    for r in recs.iter().filter(|r| !r.success) {
        *m.entry(format!("{}:{}", r.service, r.code)).or_default() += 1;
    }
    m
}
