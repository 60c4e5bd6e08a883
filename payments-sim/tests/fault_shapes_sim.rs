//! Fault shapes and scopes in a real payments-sim (all services in one process,
//! digests on), installed as the drills install them — `PUT /control/faults` over
//! a real socket with the drill scenarios' JSON — and stepped on a manual clock:
//! a ramp grows, a flapping fault is on and off with its ground truth saying when,
//! a scoped fault touches only its scene, channel, merchants or shadow traffic,
//! and a config push fails its service until `PUT /control/configs` reverts it.
//! Issue 12.

mod common;

use common::phases::{run, Run, S, T0};
use digest::{ChangeKind, DigestRecord, SpanKind};
use payments_sim::control::api;
use payments_sim::msg::{Biz, PayTool};
use payments_sim::{PayOutcome, PaymentInput};
use serde_json::{json, Value};
use std::sync::Arc;

const TOKEN: &str = "shape-token";

/// A sim with no fault, its control API served on a real socket.
struct Lab {
    r: Run,
    base: String,
    http: reqwest::Client,
    _server: tokio::task::JoinHandle<()>,
}

async fn lab() -> Lab {
    let r = run(&[]).await;
    r.steering
        .set_builtin_versions([("payment".to_string(), "1.4.2".to_string())]);
    let (addr, server) = api::serve(r.steering.clone(), TOKEN, "127.0.0.1:0")
        .await
        .unwrap();
    Lab {
        r,
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
        _server: server,
    }
}

impl Lab {
    async fn put(&self, path: &str, body: Value, actor: &str) -> (u16, Value) {
        let resp = self
            .http
            .put(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .header("x-warroom-actor", actor)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    fn at(&self, secs: f64) {
        self.r.clock.set(T0 + (secs * 1e6) as u64);
        self.r.steering.tick();
    }

    /// `count` payments of `scene`/`channel`/`shadow`, merchants cycling 1..=5.
    async fn pay(
        &mut self,
        count: u32,
        scene: &str,
        channel: &str,
        shadow: bool,
    ) -> Vec<(u32, PayOutcome)> {
        let mut out = Vec::new();
        for _ in 0..count {
            self.r.n += 1;
            let merchant = 1 + self.r.n % 5;
            let p = PaymentInput {
                user: 1 + self.r.n % 97,
                merchant,
                amount_cents: 1_000,
                scene: Arc::from(scene),
                channel: Arc::from(channel),
                biz: Biz::Goods,
                tool: PayTool::BankCard,
                coupon: false,
                shadow,
            };
            out.push((merchant, self.r.sim.pay(p).await));
        }
        out
    }

    fn records(&mut self) -> Vec<DigestRecord> {
        common::decode_since(&self.r.mem, &mut self.r.seen)
    }
}

fn failed(outs: &[(u32, PayOutcome)]) -> usize {
    outs.iter().filter(|(_, o)| !o.ok).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_errors_ramp_grows_from_nothing_to_full_rate() {
    let mut l = lab().await;
    l.at(0.0);
    let (s, b) = l
        .put(
            "/control/faults",
            json!([{"kind": "errors", "target": "payment-engine", "ramp_s": 60, "rate": 1.0}]),
            "drill",
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let mut share = Vec::new();
    for t in [0.5, 15.0, 45.0, 61.0, 120.0] {
        l.at(t);
        let outs = l.pay(200, "quick_pay", "SDK", false).await;
        share.push(failed(&outs) as f64 / 200.0);
    }
    assert!(share[0] < 0.05, "{share:?}");
    assert!(
        (0.1..0.4).contains(&share[1]),
        "a quarter at 15 s: {share:?}"
    );
    assert!(
        (0.6..0.9).contains(&share[2]),
        "three quarters at 45 s: {share:?}"
    );
    assert_eq!(share[3], 1.0, "{share:?}");
    assert_eq!(share[4], 1.0, "{share:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_latency_ramp_grows_the_delay() {
    let mut l = lab().await;
    l.at(0.0);
    let (s, b) = l
        .put(
            "/control/faults",
            json!([{"kind": "latency", "target": "payment-engine", "ramp_s": 10, "delay_ms": 1000}]),
            "drill",
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let mut mean_ms = Vec::new();
    for t in [2.5, 7.5, 20.0] {
        l.at(t);
        l.pay(40, "quick_pay", "SDK", false).await;
        let recs = l.records();
        let d: Vec<u64> = recs
            .iter()
            .filter(|r| r.kind == SpanKind::Server && r.service == "payment-engine")
            .map(|r| r.duration_us / 1000)
            .collect();
        assert!(!d.is_empty());
        mean_ms.push(d.iter().sum::<u64>() / d.len() as u64);
    }
    assert!((250..500).contains(&mean_ms[0]), "{mean_ms:?}");
    assert!((750..1000).contains(&mean_ms[1]), "{mean_ms:?}");
    assert!((1000..1300).contains(&mean_ms[2]), "{mean_ms:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flapping_fault_is_on_and_off_and_its_ground_truth_says_when() {
    // Errors at rate 1 rather than the drill's bank outage: the bank router sends an
    // unhealthy bank only probes, which would make the on phases' counts a matter of luck.
    let mut l = lab().await;
    l.at(0.0);
    let (s, b) = l
        .put(
            "/control/faults",
            json!([{"kind": "errors", "target": "payment-engine", "rate": 1.0, "flap_on_s": 4, "flap_off_s": 4}]),
            "drill",
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let mut fails = Vec::new();
    for t in [1.0, 5.0, 9.0, 13.0] {
        l.at(t);
        fails.push(failed(&l.pay(40, "quick_pay", "SDK", false).await));
    }
    assert_eq!(fails, vec![40, 0, 40, 0], "on, off, on, off");
    let gt = l.get("/control/faults").await;
    let active = &gt[0]["active"];
    let periods: Vec<(u64, Option<u64>)> = active
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["start_us"].as_u64().unwrap(), p["end_us"].as_u64()))
        .collect();
    assert_eq!(
        periods,
        vec![(T0, Some(T0 + 4 * S)), (T0 + 8 * S, Some(T0 + 12 * S))],
        "{gt}"
    );
    assert_eq!(gt[0]["active_periods_dropped"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scoped_faults_touch_only_their_scene_channel_merchants_or_shadow_traffic() {
    let mut l = lab().await;
    l.at(0.0);
    // One scene.
    let (s, b) = l
        .put(
            "/control/faults",
            json!([{"kind": "errors", "target": "payment-engine", "scene": "scan_pay", "rate": 1.0}]),
            "drill",
        )
        .await;
    assert_eq!(s, 200, "{b}");
    l.at(1.0);
    assert_eq!(failed(&l.pay(40, "quick_pay", "SDK", false).await), 0);
    assert_eq!(failed(&l.pay(40, "scan_pay", "SDK", false).await), 40);
    // One channel.
    l.put(
        "/control/faults",
        json!([{"kind": "errors", "target": "trade", "channel": "WAP", "rate": 1.0}]),
        "drill",
    )
    .await;
    l.at(2.0);
    assert_eq!(failed(&l.pay(40, "quick_pay", "SDK", false).await), 0);
    assert_eq!(failed(&l.pay(40, "quick_pay", "WAP", false).await), 40);
    // A merchant group, on a bank call.
    l.put(
        "/control/faults",
        json!([{"kind": "bank-outage", "target": "bank-a", "merchants": "m-1,m-2"}]),
        "drill",
    )
    .await;
    l.at(3.0);
    l.pay(200, "quick_pay", "SDK", false).await;
    let outage_merchants: std::collections::BTreeSet<String> = l
        .records()
        .iter()
        .filter(|r| r.code == "BANK_UNAVAILABLE")
        .filter_map(|r| r.keys.get("merchant").cloned())
        .collect();
    assert!(!outage_merchants.is_empty(), "the group's bank calls fail");
    assert!(
        outage_merchants.iter().all(|m| m == "m-1" || m == "m-2"),
        "{outage_merchants:?}"
    );
    // Shadow traffic only: real payments never.
    l.put(
        "/control/faults",
        json!([{"kind": "errors", "target": "accounting", "shadow_only": true, "rate": 1.0}]),
        "drill",
    )
    .await;
    l.at(4.0);
    assert_eq!(failed(&l.pay(60, "quick_pay", "SDK", false).await), 0);
    assert_eq!(failed(&l.pay(20, "quick_pay", "SDK", true).await), 20);
    // A scope where it cannot apply is refused, naming the field.
    let (s, b) = l
        .put(
            "/control/faults",
            json!([{"kind": "surge", "channel": "SDK"}]),
            "drill",
        )
        .await;
    assert_eq!(s, 400, "{b}");
    assert!(b.to_string().contains("channel"), "{b}");
    let (s, b) = l
        .put(
            "/control/faults",
            json!([{"kind": "bank-outage", "ramp_s": 10}]),
            "drill",
        )
        .await;
    assert_eq!(s, 400, "{b}");
    assert!(b.to_string().contains("ramp_s"), "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_push_fails_its_service_until_its_config_is_reverted() {
    let mut l = lab().await;
    l.at(0.0);
    assert_eq!(l.get("/control/configs").await, json!({"payment": "cfg-1"}));
    let (s, b) = l
        .put(
            "/control/faults",
            json!([{"kind": "config-push", "target": "payment"}]),
            "drill",
        )
        .await;
    assert_eq!(s, 200, "{b}");
    l.at(1.0);
    let outs = l.pay(200, "quick_pay", "SDK", false).await;
    let share = failed(&outs) as f64 / 200.0;
    assert!((0.35..0.65).contains(&share), "about half fail: {share}");
    let ev = l.r.mem.events();
    let push: Vec<_> = ev
        .iter()
        .filter(|e| e.event == ChangeKind::Config)
        .collect();
    assert_eq!(push.len(), 1, "{ev:?}");
    assert_eq!(push[0].service, "payment");
    assert_eq!(push[0].by, "ops-lin");
    assert!(
        push[0].detail.contains("cfg-1 -> cfg-2"),
        "{}",
        push[0].detail
    );
    assert_eq!(l.get("/control/configs").await, json!({"payment": "cfg-2"}));
    // Only "previous" or null reverts.
    let (s, b) = l
        .put("/control/configs", json!({"payment": "cfg-9"}), "healer")
        .await;
    assert_eq!(s, 400, "{b}");
    assert!(b.to_string().contains("payment"), "{b}");
    let (s, b) = l
        .put("/control/configs", json!({"payment": "previous"}), "healer")
        .await;
    assert_eq!((s, b), (200, json!({"payment": "cfg-1"})));
    let ev = l.r.mem.events();
    let last = ev.last().unwrap();
    assert_eq!(
        (last.event, last.by.as_str(), last.service.as_str()),
        (ChangeKind::Rollback, "healer", "payment")
    );
    l.at(2.0);
    assert_eq!(failed(&l.pay(100, "quick_pay", "SDK", false).await), 0);
    let gt = l.get("/control/faults").await;
    assert_eq!(gt[0]["rolled_back"], true, "{gt}");
    // Reverting again changes nothing and says nothing.
    let n = l.r.mem.events().len();
    let (s, _) = l
        .put("/control/configs", json!({"payment": null}), "healer")
        .await;
    assert_eq!(s, 200);
    assert_eq!(l.r.mem.events().len(), n);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revert_before_a_scheduled_push_does_not_cancel_it() {
    let mut l = lab().await;
    l.at(0.0);
    let (s, b) = l
        .put(
            "/control/faults",
            json!([{"kind": "config-push", "target": "payment", "start_s": 5, "rate": 1.0}]),
            "drill",
        )
        .await;
    assert_eq!(s, 200, "{b}");
    l.at(1.0);
    let (s, b) = l
        .put("/control/configs", json!({"payment": "previous"}), "healer")
        .await;
    assert_eq!((s, b), (200, json!({"payment": "cfg-1"})));
    assert!(l.r.mem.events().is_empty(), "nothing to revert yet");
    assert_eq!(failed(&l.pay(20, "quick_pay", "SDK", false).await), 0);
    l.at(6.0);
    assert_eq!(failed(&l.pay(20, "quick_pay", "SDK", false).await), 20);
    assert_eq!(l.get("/control/configs").await, json!({"payment": "cfg-2"}));
}
