//! `warroom up` as a user runs it: the real binary on free loopback ports with
//! simulated traffic; the dashboard answers its API (login, topology with every
//! payments-sim service, services, incidents, alerts, SLO, drills) in the `screen`
//! crate's types exactly (a drill adds a healed incident and a trace is read back; the
//! commander's levers answer and refuse on it) and serves `/`; the collector's own listener takes digest lines; SIGTERM stops it cleanly.
//! `--approve` and the config's `approve` choose who lets plans act; bad values are
//! refused before anything starts.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Up {
    child: Child,
    dashboard: String,
    collector: String,
    admin: (String, String),
    /// What `up` printed as `approval: …`.
    approval: String,
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data_dir: &std::path::Path) -> Up {
    start_with(data_dir, &[])
}

fn start_with(data_dir: &std::path::Path, extra: &[&str]) -> Up {
    let mut child = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args([
            "up",
            "--listen",
            "127.0.0.1:0",
            "--collector-listen",
            "127.0.0.1:0",
        ])
        .args(extra)
        .args(["--tps", "80", "--data-dir"])
        .arg(data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start warroom up");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut dashboard, mut collector, mut admin, mut approval) = (None, None, None, None);
    while dashboard.is_none() || collector.is_none() || admin.is_none() || approval.is_none() {
        let line = lines
            .next()
            .expect("warroom up exited before printing its addresses")
            .unwrap();
        if let Some(u) = line.strip_prefix("dashboard: ") {
            dashboard = Some(u.to_string());
        } else if let Some(u) = line.strip_prefix("collector: ") {
            collector = Some(u.to_string());
        } else if let Some(a) = line.strip_prefix("approval: ") {
            approval = Some(a.to_string());
        } else if let Some(rest) = line.strip_prefix("first admin login: user ") {
            let (user, pw) = rest.split_once(" password ").expect("user and password");
            admin = Some((user.to_string(), pw.to_string()));
        }
    }
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Up {
        child,
        dashboard: dashboard.unwrap(),
        collector: collector.unwrap(),
        admin: admin.unwrap(),
        approval: approval.unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_serves_the_dashboard_api_and_the_collector() {
    let dir = std::env::temp_dir().join(format!("warroom-up-test-{}", std::process::id()));
    let mut up = start(&dir);
    assert_eq!(up.approval, "plan", "default --approve");
    let http = reqwest::Client::new();

    // Login as the generated first admin.
    let resp = http
        .post(format!("{}/api/login", up.dashboard))
        .json(&json!({"user": up.admin.0, "password": up.admin.1}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "login");
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .expect("session cookie")
        .to_string();
    let me: Value = resp.json().await.unwrap();
    let csrf = me["csrf"].as_str().unwrap().to_string();
    let get = |path: &str| {
        let path = path.to_string();
        let req = http
            .get(format!("{}{path}", up.dashboard))
            .header("cookie", &cookie);
        async move {
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), 200, "GET {path}");
            r.json::<Value>().await.unwrap()
        }
    };

    // Traffic flows: the topology fills with every payments-sim service.
    let want = [
        "cashier",
        "trade",
        "payment",
        "risk",
        "payment-engine",
        "bank-gateway",
        "accounting",
        "clearing",
    ];
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut topo;
    loop {
        topo = get("/api/topology").await;
        let ids: Vec<&str> = topo["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|n| n["id"].as_str())
            .collect();
        if want.iter().all(|w| ids.contains(w)) {
            break;
        }
        assert!(Instant::now() < deadline, "topology never complete: {topo}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(topo["edges"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["from"] == "cashier"
            && e["to"] == "trade"
            && e["rate"].as_f64().unwrap() > 0.0));
    let overview = get("/api/overview").await;
    assert!(
        overview["overview"]["payments_per_s"].as_f64().unwrap() > 0.0,
        "{overview}"
    );
    // The overview and scene board (the analyzer's entry view) agree with the
    // analyzer's cashier figures: payments/s, the scenes' sum and the success rate.
    // Their windows differ (last second vs last 10 s), so they are compared within
    // a tolerance, and a few times before calling it a disagreement.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let o = get("/api/overview").await;
        let services = get("/api/services").await;
        let cashier = services
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["service"] == "cashier")
            .cloned()
            .unwrap_or(Value::Null);
        let a_rate = cashier["last_10s"]["rate_per_s"].as_f64().unwrap_or(0.0);
        let a_ok = 1.0 - cashier["last_10s"]["error_ratio"].as_f64().unwrap_or(1.0);
        let r_rate = o["overview"]["payments_per_s"].as_f64().unwrap_or(0.0);
        let r_ok = o["overview"]["success_rate"].as_f64().unwrap_or(0.0);
        let scenes: f64 = o["scenes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["rate"].as_f64())
            .sum();
        let near = |x: f64, y: f64| (x - y).abs() <= 0.25 * y.max(1.0);
        if near(r_rate, a_rate) && near(scenes, a_rate) && (r_ok - a_ok).abs() < 0.02 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "overview {r_rate}/s, scenes {scenes}/s, success {r_ok} vs analyzer cashier {a_rate}/s, {a_ok}"
        );
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
    for path in [
        "/api/services",
        "/api/incidents",
        "/api/alerts",
        "/api/silences",
        "/api/changes",
    ] {
        assert!(get(path).await.is_array(), "{path}");
    }
    let slo = get("/api/slo").await;
    assert!(
        slo["objectives"].as_array().is_some_and(|o| !o.is_empty()),
        "{slo}"
    );
    assert!(get("/api/hotspots").await.is_object() || get("/api/hotspots").await.is_array());
    let kinds = get("/api/drills").await;
    assert!(kinds
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["fault"] == "bank-outage"));
    // An unknown incident is a 404; approving it a clean refusal, not a crash.
    let r = http
        .get(format!("{}/api/incidents/999999", up.dashboard))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = http
        .post(format!("{}/api/incidents/999999/approve", up.dashboard))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(r.status() == 404 || r.status() == 409, "{}", r.status());
    // A silence through the alerts manager.
    let r = http
        .post(format!("{}/api/silences", up.dashboard))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({"matchers": {"target": "bank:bank-b"}, "duration_s": 60}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    assert_eq!(get("/api/silences").await.as_array().unwrap().len(), 1);

    // Every read endpoint's JSON, with live figures, reads back into the `screen` type
    // the wasm app deserializes, unchanged; a drill adds an incident with its plan,
    // actions and reconciliation, and the change the plan made.
    let o: screen::OverviewBody = strict("/api/overview", &get("/api/overview").await);
    assert!(
        o.overview.payments_per_s > 0.0 && !o.scenes.is_empty(),
        "{o:?}"
    );
    strict::<Vec<screen::SceneStatus>>("/api/scenes", &get("/api/scenes").await);
    let t: screen::Topology = strict("/api/topology", &get("/api/topology").await);
    assert!(t.nodes.iter().all(|n| n.detail.is_some()), "{t:?}");
    let s: Vec<screen::ServiceRow> = strict("/api/services", &get("/api/services").await);
    assert!(s.iter().any(|r| r.service == "cashier"));
    strict::<Vec<screen::HotSpot>>("/api/hotspots", &get("/api/hotspots").await);
    strict::<Vec<screen::Alert>>("/api/alerts", &get("/api/alerts").await);
    strict::<Vec<screen::Silence>>("/api/silences", &get("/api/silences").await);
    strict::<screen::SloBoard>("/api/slo", &get("/api/slo").await);
    strict::<Vec<screen::DrillKind>>("/api/drills", &get("/api/drills").await);
    let r = http
        .post(format!("{}/api/drills", up.dashboard))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({"fault": "bank-outage", "target": "bank-b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    strict::<screen::DrillInjected>("POST /api/drills", &r.json().await.unwrap());
    let deadline = Instant::now() + Duration::from_secs(90);
    let healed = 'found: loop {
        let rows: Vec<screen::IncidentRow> = strict("/api/incidents", &get("/api/incidents").await);
        for i in &rows {
            let path = format!("/api/incidents/{}", i.id);
            let d: screen::IncidentDetail = strict(&path, &get(&path).await);
            if d.reconciliation.is_some()
                && d.plan.as_ref().map(|p| p.status) == Some(screen::PlanStatus::Recovered)
            {
                break 'found d;
            }
        }
        assert!(Instant::now() < deadline, "no healed incident: {rows:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let changes: Vec<screen::ChangeEvent> = strict("/api/changes", &get("/api/changes").await);
    assert!(changes.iter().any(|c| c.by == "healer"), "{changes:?}");

    // The commander's levers on the healed (closed) incident, through the real command
    // loop: its plans, its run with the applied action, the damage; Run and Resolve
    // refused once closed (409), an unknown action 404, a bad body 400; the action
    // undone once (then 409).
    let post = |path: String, body: Value| {
        let req = http
            .post(format!("{}{path}", up.dashboard))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .json(&body);
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let id = healed.id.clone();
    // The book closes a healed incident once it has stayed healthy for a while.
    let path = format!("/api/incidents/{id}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let healed = loop {
        let d: screen::IncidentDetail = strict(&path, &get(&path).await);
        if d.status != screen::IncidentStatus::Open {
            break d;
        }
        assert!(Instant::now() < deadline, "healed but never closed: {d:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let path = format!("/api/incidents/{id}/plans");
    let plans: Vec<screen::PlanChoice> = strict(&path, &get(&path).await);
    let pick = plans
        .iter()
        .find(|p| p.automatic)
        .expect("the healer's pick");
    assert_eq!(
        Some(&pick.name),
        healed.plan.as_ref().unwrap().name.as_ref()
    );
    assert!(!pick.changes.is_empty(), "{plans:?}");
    let run = healed
        .runs
        .iter()
        .find(|r| r.state == screen::PlanStatus::Recovered)
        .expect("the recovered run");
    assert_eq!(run.actions[0].id, format!("{}.0", run.id), "{run:?}");
    assert!(!healed.damage.is_empty(), "{healed:?}");
    let lever = |verb: &str| format!("/api/incidents/{id}/{verb}");
    let (s, v) = post(lever("run"), json!({"plan": pick.name})).await;
    assert_eq!(s, 409, "closed: {v}");
    strict::<screen::ErrorBody>("run", &v);
    let (s, v) = post(lever("resolve"), json!({"note": "closed already"})).await;
    assert_eq!(s, 409, "closed: {v}");
    let (s, v) = post(lever("run"), json!({"plan": "a b"})).await;
    assert_eq!(s, 400, "{v}");
    for unknown in [format!("{}.99", run.id), "999999.0".to_string()] {
        let (s, v) = post(lever("undo"), json!({ "action": unknown })).await;
        assert_eq!(s, 404, "{unknown}: {v}");
    }
    let action = run.actions[0].id.clone();
    let (s, v) = post(lever("undo"), json!({ "action": action })).await;
    assert_eq!(s, 200, "{v}");
    let undone: screen::Undone = strict("undo", &v);
    assert_eq!(undone.action, action);
    let path = format!("/api/incidents/{id}");
    let d: screen::IncidentDetail = strict(&path, &get(&path).await);
    let after = d.runs.iter().find(|r| r.id == run.id).unwrap();
    assert!(after.actions[0].undone, "{after:?}");
    let (s, v) = post(lever("undo"), json!({ "action": action })).await;
    assert_eq!(s, 409, "undone already: {v}");
    let (s, _) = post("/api/incidents/999999/run".into(), json!({"plan": "x"})).await;
    assert_eq!(s, 404);
    let records: Value = http
        .get(format!(
            "{}/api/records?limit=1&service=cashier",
            up.collector
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let trace = format!("/api/traces/{}", records[0]["trace_id"].as_str().unwrap());
    let spans: Vec<screen::TraceSpan> = strict(&trace, &get(&trace).await);
    assert!(
        spans.len() > 1 && spans[0].parent_span_id.is_none(),
        "{spans:?}"
    );

    // `/` serves the bundle (or says how to build it when there is none).
    let root = http.get(format!("{}/", up.dashboard)).send().await.unwrap();
    let bundle = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboard/dist/index.html");
    if bundle.exists() || std::env::var_os("WARROOM_DASHBOARD_DIST").is_some() {
        assert_eq!(root.status(), 200);
    } else {
        assert_eq!(root.status(), 503);
        assert!(root.text().await.unwrap().contains("build-dashboard"));
    }

    // The collector's own listener.
    let line = r#"{"time":"2026-01-01T00:00:00.000000Z","trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331","kind":"server","service":"outside","operation":"x","duration_us":10,"success":true}"#;
    let r = http
        .post(format!("{}/v1/digest", up.collector))
        .body(format!("{line}\nnot json\n"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (body["accepted"].as_u64(), body["rejected"].as_u64()),
        (Some(1), Some(1))
    );
    let stats: Value = http
        .get(format!("{}/api/stats", up.collector))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(stats["records_accepted"].as_u64().unwrap() > 100, "{stats}");

    // SIGTERM: a clean, prompt stop.
    let pid = up.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = up.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "warroom up did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The JSON the dashboard sent reads back into the screen's own type with nothing left
/// over, nothing missing and nothing respelled (re-serialised, it is the same JSON).
fn strict<T: serde::de::DeserializeOwned + serde::Serialize>(path: &str, v: &Value) -> T {
    let t: T = serde_json::from_value(v.clone())
        .unwrap_or_else(|e| panic!("{path}: not the screen's type: {e}\n{v}"));
    assert_eq!(
        &serde_json::to_value(&t).unwrap(),
        v,
        "{path}: fields the screen type does not know, or spelled differently"
    );
    t
}

/// `warroom up` with `args`, expected to refuse to start: its stderr.
fn refused(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .arg("up")
        .args(args)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--collector-listen",
            "127.0.0.1:0",
        ])
        .output()
        .expect("run warroom up");
    assert!(!out.status.success(), "up started with {args:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A fresh folder under the system's temp dir (removed on drop).
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("warroom-up-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn up_refuses_an_unknown_approval_mode() {
    let dir = TempDir::new("bad-approve");
    let err = refused(&[
        "--approve",
        "sometimes",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        err.contains("--approve") && err.contains("commander"),
        "{err}"
    );

    let cfg = dir.path().join("up.toml");
    std::fs::write(&cfg, "approve = \"sometimes\"\n").unwrap();
    let err = refused(&[
        "--config",
        cfg.to_str().unwrap(),
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        err.contains("sometimes") && err.contains("commander") && err.contains("up.toml"),
        "{err}"
    );
    // Nothing was started: no data written.
    assert!(!dir.path().join("healer-audit.jsonl").exists());
}

#[test]
fn up_takes_the_approval_mode_from_config_and_the_flag_wins() {
    let dir = TempDir::new("approve");
    let cfg = dir.path().join("up.toml");
    std::fs::write(&cfg, "approve = \"commander\"\ntps = 0\n").unwrap();
    let c = cfg.to_str().unwrap();
    let up = start_with(&dir.path().join("a"), &["--config", c]);
    assert_eq!(up.approval, "commander");
    drop(up);
    let up = start_with(&dir.path().join("b"), &["--config", c, "--approve", "auto"]);
    assert_eq!(up.approval, "auto");
}
