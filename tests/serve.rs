//! `warroom serve` as a platform team runs it, with no simulator: the real binary on free
//! loopback ports, its config naming a plans folder and a webhook lever; a small shop of
//! other names (gateway → orders → stock, orders → a card provider) sends v1 digest lines
//! to the collector over HTTP; `orders` starts failing on its own. The war room opens one
//! incident naming `orders`, its plan calls the webhook (with the token), the incident stays
//! open while the fault lasts and closes once it ends; every service shows up on the
//! topology and in the SLA board without being configured; the drills screen has nothing
//! to offer. A config with an unknown field, or a plan whose lever is not configured, is
//! refused before anything starts.

use axum::routing::post;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

struct Serve {
    child: Child,
    dashboard: String,
    collector: String,
    admin: (String, String),
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(config: &std::path::Path, data_dir: &std::path::Path) -> Serve {
    let mut child = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--collector-listen",
            "127.0.0.1:0",
        ])
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start warroom serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut dashboard, mut collector, mut admin) = (None, None, None);
    while dashboard.is_none() || collector.is_none() || admin.is_none() {
        let line = lines
            .next()
            .expect("warroom serve exited before printing its addresses")
            .unwrap();
        if let Some(u) = line.strip_prefix("dashboard: ") {
            dashboard = Some(u.to_string());
        } else if let Some(u) = line.strip_prefix("collector: ") {
            collector = Some(u.to_string());
        } else if let Some(rest) = line.strip_prefix("first admin login: user ") {
            let (user, pw) = rest.split_once(" password ").expect("user and password");
            admin = Some((user.to_string(), pw.to_string()));
        }
    }
    std::thread::spawn(move || for _ in lines {});
    Serve {
        child,
        dashboard: dashboard.unwrap(),
        collector: collector.unwrap(),
        admin: admin.unwrap(),
    }
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64
}

fn rfc3339(us: u64) -> String {
    let secs = (us / 1_000_000) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        us % 1_000_000
    )
}

/// One order through the shop, as digest lines: the gateway's root server span, its client
/// call to orders, orders' server span, its calls to stock and to the card provider.
fn order(n: u64, at_us: u64, orders_fail: bool) -> String {
    let trace = format!("{:032x}", 0xabc0_0000_0000u64 + n);
    let span = |k: u64| format!("{:016x}", n * 8 + k + 1);
    let line = |v: Value| format!("{v}\n");
    let t = rfc3339(at_us);
    let ok = !orders_fail;
    let code = if ok { "OK" } else { "ORDER_DB_ERROR" };
    let err = if ok {
        Value::Null
    } else {
        json!("SQLException")
    };
    let mut out = String::new();
    out += &line(
        json!({"time": t, "trace_id": trace, "span_id": span(0), "kind": "server",
        "service": "gateway", "operation": "POST /checkout", "duration_us": 9000,
        "success": ok, "code": if ok { "OK" } else { "UPSTREAM_ERROR" }, "scene": "checkout",
        "keys": {"user": format!("u{}", n % 97)}, "amount_cents": 2500}),
    );
    out += &line(
        json!({"time": t, "trace_id": trace, "span_id": span(1), "parent_span_id": span(0),
        "kind": "client", "service": "gateway", "peer": "orders", "operation": "OrderService.place",
        "duration_us": 8000, "success": ok, "code": code}),
    );
    let mut server = json!({"time": t, "trace_id": trace, "span_id": span(2), "parent_span_id": span(1),
        "kind": "server", "service": "orders", "peer": "gateway", "operation": "OrderService.place",
        "duration_us": 7500, "success": ok, "code": code});
    if !err.is_null() {
        server["error"] = err;
    }
    out += &line(server);
    out += &line(
        json!({"time": t, "trace_id": trace, "span_id": span(3), "parent_span_id": span(2),
        "kind": "client", "service": "orders", "peer": "stock", "operation": "StockService.reserve",
        "duration_us": 1500, "success": true, "code": "OK"}),
    );
    out += &line(
        json!({"time": t, "trace_id": trace, "span_id": span(4), "parent_span_id": span(3),
        "kind": "server", "service": "stock", "peer": "orders", "operation": "StockService.reserve",
        "duration_us": 1200, "success": true, "code": "OK"}),
    );
    out += &line(
        json!({"time": t, "trace_id": trace, "span_id": span(5), "parent_span_id": span(2),
        "kind": "integrator", "service": "orders", "peer": "cardpay", "operation": "cardpay.charge",
        "duration_us": 4000, "success": true, "code": "APPROVED"}),
    );
    out
}

/// Sends `rate` orders a second for `secs`, orders failing while `fail` says so.
async fn traffic(
    http: &reqwest::Client,
    collector: &str,
    n: &mut u64,
    rate: u64,
    secs: f64,
    fail: impl Fn(u64) -> bool,
) {
    let end = Instant::now() + Duration::from_secs_f64(secs);
    while Instant::now() < end {
        let now = now_us();
        let mut body = String::new();
        for _ in 0..rate / 10 {
            *n += 1;
            body += &order(*n, now, fail(*n));
        }
        let r = http
            .post(format!("{collector}/v1/digest"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "ingest: {}", r.status());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn write_config(dir: &std::path::Path, webhook: &str, extra: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(dir.join("plans")).unwrap();
    std::fs::write(
        dir.join("plans/orders-restart.toml"),
        r#"
name = "orders-restart"
description = "orders fails on its own: ask the platform to restart its pods."
[trigger]
kind = ["errors", "latency"]
target = "service:*"
exclude = ["service:gateway"]
[approval]
mode = "auto"
[verify]
within_s = 30
[[steps]]
executor = "webhook"
call = { name = "restart", body = { service = "{target}" } }
"#,
    )
    .unwrap();
    let cfg = dir.join("serve.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"
[analyzer]
baseline_s = 10
retention_1s = 30
[healer]
plans = "plans"
[healer.webhook]
url = "{webhook}"
token = "hook-secret"
{extra}
"#
        ),
    )
    .unwrap();
    cfg
}

/// What the webhook was sent: its `Authorization` header and body.
type WebhookCall = (Option<String>, Value);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_watches_a_platform_it_was_never_told_about_and_acts_through_its_webhook() {
    let dir = std::env::temp_dir().join(format!("warroom-serve-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // The platform's own lever: a webhook that records what it is asked.
    let calls: Arc<Mutex<Vec<WebhookCall>>> = Arc::default();
    let app = {
        let calls = calls.clone();
        axum::Router::new().route(
            "/hook",
            post(
                move |h: axum::http::HeaderMap, axum::Json(v): axum::Json<Value>| {
                    let calls = calls.clone();
                    async move {
                        let auth = h
                            .get("authorization")
                            .and_then(|v| v.to_str().ok())
                            .map(String::from);
                        calls.lock().unwrap().push((auth, v));
                        axum::Json(
                            json!({"before": {"pods": 3}, "after": {"pods": 3, "restarted": true}}),
                        )
                    }
                },
            ),
        )
    };
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    let cfg = write_config(&dir, &hook, "");
    let s = start(&cfg, &dir.join("data"));

    let http = reqwest::Client::new();
    let resp = http
        .post(format!("{}/api/login", s.dashboard))
        .json(&json!({"user": s.admin.0, "password": s.admin.1}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_string();
    let get = |path: &str| {
        let req = http
            .get(format!("{}{path}", s.dashboard))
            .header("cookie", &cookie);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };

    // Healthy traffic long enough for the baselines.
    let mut n = 0;
    traffic(&http, &s.collector, &mut n, 200, 14.0, |_| false).await;
    let incidents = get("/api/incidents").await;
    assert_eq!(incidents, json!([]), "no incident in healthy traffic");
    let topo = get("/api/topology").await;
    let ids: Vec<&str> = topo["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["id"].as_str())
        .collect();
    for svc in ["gateway", "orders", "stock"] {
        assert!(ids.contains(&svc), "{svc} on the topology: {ids:?}");
    }
    let slo = get("/api/slo").await;
    let objectives: Vec<&str> = slo["objectives"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["id"].as_str())
        .collect();
    assert!(
        objectives.contains(&"service:orders") && objectives.contains(&"service:stock"),
        "every service gets the default objective: {objectives:?}"
    );
    assert_eq!(
        get("/api/drills").await,
        json!([]),
        "nothing to inject into"
    );

    // orders fails half its calls, on its own.
    traffic(&http, &s.collector, &mut n, 200, 8.0, |k| k % 2 == 0).await;
    let incidents = get("/api/incidents").await;
    let open: Vec<&Value> = incidents
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["status"] == "open")
        .collect();
    assert_eq!(open.len(), 1, "one incident for the fault: {incidents:#}");
    assert_eq!(
        open[0]["root_cause"], "errors service:orders",
        "{incidents:#}"
    );
    let id = open[0]["id"].as_str().unwrap().to_string();
    {
        let c = calls.lock().unwrap();
        assert!(!c.is_empty(), "the plan called the platform's webhook");
        assert_eq!(c[0].0.as_deref(), Some("Bearer hook-secret"));
        assert_eq!(c[0].1["phase"], "apply");
        assert_eq!(c[0].1["action"]["body"]["service"], "orders");
    }
    let detail = get(&format!("/api/incidents/{id}")).await;
    assert_eq!(detail["plan"]["name"], "orders-restart", "{detail:#}");
    // The fault goes on (the restart did not help): the incident stays open.
    traffic(&http, &s.collector, &mut n, 200, 6.0, |k| k % 2 == 0).await;
    let detail = get(&format!("/api/incidents/{id}")).await;
    assert_eq!(
        detail["status"], "open",
        "open while the fault lasts: {detail:#}"
    );
    // Fixed by the platform team: healthy again, the incident closes.
    traffic(&http, &s.collector, &mut n, 200, 7.0, |_| false).await;
    let detail = get(&format!("/api/incidents/{id}")).await;
    assert_eq!(detail["status"], "recovered", "{detail:#}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_refuses_bad_configs_before_starting() {
    let dir = std::env::temp_dir().join(format!("warroom-serve-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let run = |cfg: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_warroom"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--collector-listen",
                "127.0.0.1:0",
            ])
            .arg("--config")
            .arg(cfg)
            .arg("--data-dir")
            .arg(dir.join("data"))
            .output()
            .unwrap()
    };
    let cfg = write_config(&dir, "http://127.0.0.1:9/hook", "[nonsense]\nx = 1\n");
    let out = run(&cfg);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nonsense"), "names the unknown field: {err}");
    // A plan acting through payments-sim's control API, which serve does not have.
    let cfg = write_config(&dir, "http://127.0.0.1:9/hook", "");
    std::fs::write(
        dir.join("plans/zz-sim.toml"),
        "name = \"sim-only\"\n[trigger]\nkind = \"dependency\"\ntarget = \"bank:*\"\n[[steps]]\nchannel_weight = { bank = \"{target}\", weight = 0 }\n",
    )
    .unwrap();
    let out = run(&cfg);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sim-only") && err.contains("Sim"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
