//! Cost of alerting on this machine (not a test: `cargo bench -p alerts --bench alerting`).
//! Prints one JSON object per measurement: rule evaluation over a snapshot of samples, and
//! the whole manager step (rules → silences/inhibition → routing → groups) during a storm.

use alerts::*;
use digest::ManualClock;
use std::sync::Arc;
use std::time::Instant;

fn rules(n: usize) -> Vec<RuleConfig> {
    (0..n)
        .map(|i| RuleConfig {
            name: format!("Rule{i}"),
            series: format!("series{}", i % 5),
            matchers: vec![format!("zone=~\"zone-{}|zone-x*\"", i % 3)],
            op: Op::Gt,
            threshold: 0.5,
            for_s: 1.0,
            labels: [("severity".to_string(), "page".to_string())].into(),
            annotations: [(
                "summary".to_string(),
                "{{ $labels.service }} at {{ $value }}".to_string(),
            )]
            .into(),
        })
        .collect()
}

fn samples(n: usize, bad_every: usize) -> Vec<Sample> {
    (0..n)
        .map(|i| {
            let v = if i % bad_every == 0 { 0.9 } else { 0.1 };
            Sample::new(
                &format!("series{}", i % 5),
                &[
                    ("service", &format!("svc{}", i % 200)),
                    ("zone", &format!("zone-{}", i % 3)),
                    ("op", &format!("op{i}")),
                ],
                v,
            )
        })
        .collect()
}

fn main() {
    delivery_latency();
    let t0 = 1_795_785_000_000_000u64;
    // 1. Rule evaluation alone.
    for (nrules, nsamples) in [(20usize, 10_000usize), (100, 10_000)] {
        let mut rs = RuleSet::new(rules(nrules)).unwrap();
        let snap = samples(nsamples, 50);
        let rounds = 20;
        let start = Instant::now();
        let mut firing = 0;
        for r in 0..rounds {
            firing = rs.evaluate(&snap, t0 + r * 1_000_000).firing.len();
        }
        let el = start.elapsed().as_secs_f64() / rounds as f64;
        println!(
            "{{\"bench\":\"rules_evaluate\",\"rules\":{nrules},\"samples\":{nsamples},\"firing\":{firing},\"ms_per_snapshot\":{:.3},\"rule_sample_pairs_per_s\":{:.0}}}",
            el * 1e3,
            (nrules * nsamples) as f64 / el
        );
    }
    // 2. The whole manager step, once a second, during a storm (2% of series bad).
    let cfg: ManagerConfig = serde_json::from_value(serde_json::json!({
        "rules": rules(20),
        "route": {"receiver": "oncall", "group_by": ["alertname", "zone"], "group_wait_s": 1.0, "group_interval_s": 5.0,
                  "routes": [{"matchers": ["severity=page"], "receiver": "oncall", "group_by": ["alertname"]}]},
        "receivers": [{"name": "oncall", "dashboard": true}],
    }))
    .unwrap();
    let clock = ManualClock::new(t0);
    let mut m = Manager::new(&cfg, Arc::new(clock.clone()), None).unwrap();
    m.create_silence(&SilenceRequest {
        matchers: vec!["service=svc7".into()],
        starts_at: None,
        ends_at: digest::format_rfc3339(t0 + 3_600_000_000),
        created_by: "bench".into(),
        comment: String::new(),
    })
    .unwrap();
    let snap = samples(10_000, 50);
    let rounds = 30;
    let mut notes = 0;
    let start = Instant::now();
    for _ in 0..rounds {
        notes += m.evaluate(&snap).unwrap().len();
        clock.advance_secs(1);
    }
    let el = start.elapsed().as_secs_f64() / rounds as f64;
    println!(
        "{{\"bench\":\"manager_step\",\"rules\":20,\"samples\":10000,\"firing\":{},\"notifications_total\":{notes},\"ms_per_step\":{:.3},\"share_of_1s_tick\":{:.5}}}",
        m.firing().len(),
        el * 1e3,
        el
    );
}

/// From the evaluation that sees a bad sample to the notification accepted by a real
/// webhook listener (and by the SMTP relay when `WARROOM_SMTP_ADDR` is set), with
/// `for_s = 0` and `group_wait_s = 0`: the war room's own alerting path, end to end.
fn delivery_latency() {
    use axum::{routing::post, Router};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", l.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(l, Router::new().route("/hook", post(|| async { "ok" }))).await.unwrap() });
        let smtp = std::env::var("WARROOM_SMTP_ADDR").ok();
        let mut receivers = vec![serde_json::json!({"name": "hook", "webhook": {"url": url}})];
        if let Some(a) = &smtp {
            receivers.push(serde_json::json!({"name": "mail", "email": {"smarthost": a, "from": "bench@pay.test", "to": ["bench@pay.test"]}}));
        }
        for r in receivers {
            let name = r["name"].as_str().unwrap().to_string();
            let cfg: ManagerConfig = serde_json::from_value(serde_json::json!({
                "rules": [{"name": "Errors", "series": "error_ratio", "op": ">", "threshold": 0.05}],
                "route": {"receiver": name, "group_by": ["service"], "group_wait_s": 0.0, "group_interval_s": 1.0},
                "receivers": [r],
            }))
            .unwrap();
            let clock = ManualClock::new(1_795_785_000_000_000);
            let mut m = Manager::new(&cfg, Arc::new(clock.clone()), None).unwrap();
            let mut n = Notifier::new(cfg.receivers.clone(), cfg.retry, DashboardFeed::new(10), "").unwrap();
            let mut lat = Vec::new();
            for i in 0..100 {
                let bad = [Sample::new("error_ratio", &[("service", &format!("svc{i}"))], 0.5)];
                let start = Instant::now();
                let notes = m.evaluate(&bad).unwrap();
                let now = digest::Clock::now_us(&clock);
                n.enqueue(notes, now);
                assert_eq!(n.deliver_due(now).await, 1);
                lat.push(start.elapsed().as_secs_f64() * 1e3);
                clock.advance_secs(1);
                m.evaluate(&[]).unwrap(); // resolves: next round is a fresh incident
                n.enqueue(m.flush().unwrap(), now);
                n.deliver_due(now).await;
            }
            lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
            println!(
                "{{\"bench\":\"sample_to_delivered\",\"channel\":\"{}\",\"n\":{},\"p50_ms\":{:.2},\"p99_ms\":{:.2}}}",
                if name == "hook" { "webhook" } else { "email" },
                lat.len(),
                lat[lat.len() / 2],
                lat[lat.len() * 99 / 100]
            );
        }
    });
}
