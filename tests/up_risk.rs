//! Issue 12's live check on `warroom up` (plans keep their own approval mode): latency on
//! every instance of `risk`, injected as from the Drills screen, opens exactly one incident
//! blamed on risk; no plan acts before a commander (risk is on the payment core) and no
//! breaker turns the slow payments into failed ones; the incident offers the business-aware
//! degrade (`risk-degrade`), the commander approves it, and the run recovers payments with
//! no harm counted.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Up {
    child: Child,
    dashboard: String,
    admin: (String, String),
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data_dir: &std::path::Path) -> Up {
    let mut child = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args([
            "up",
            "--listen",
            "127.0.0.1:0",
            "--collector-listen",
            "127.0.0.1:0",
        ])
        .args(["--tps", "80", "--data-dir"])
        .arg(data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start warroom up");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut dashboard, mut admin) = (None, None);
    while dashboard.is_none() || admin.is_none() {
        let line = lines
            .next()
            .expect("warroom up exited before printing its addresses")
            .unwrap();
        if let Some(u) = line.strip_prefix("dashboard: ") {
            dashboard = Some(u.to_string());
        } else if let Some(rest) = line.strip_prefix("first admin login: user ") {
            let (user, pw) = rest.split_once(" password ").expect("user and password");
            admin = Some((user.to_string(), pw.to_string()));
        }
    }
    std::thread::spawn(move || for _ in lines {});
    Up {
        child,
        dashboard: dashboard.unwrap(),
        admin: admin.unwrap(),
    }
}

struct Session {
    http: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
}

impl Session {
    async fn log_in(up: &Up) -> Session {
        let http = reqwest::Client::new();
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
        Session {
            csrf: me["csrf"].as_str().unwrap().to_string(),
            http,
            base: up.dashboard.clone(),
            cookie,
        }
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_wide_latency_on_risk_is_one_incident_cured_by_the_approved_degrade() {
    let dir = tempfile::tempdir().unwrap();
    let up = start(dir.path());
    let s = Session::log_in(&up).await;

    // Traffic through risk, and a quiet start (nothing open).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let t: screen::Topology = s.get("/api/topology").await;
        if t.nodes.iter().any(|n| n.id == "risk") {
            break;
        }
        assert!(Instant::now() < deadline, "risk never showed up");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // The analyzer's baseline (20 s) before the fault.
    tokio::time::sleep(Duration::from_secs(25)).await;
    let before: Vec<screen::IncidentRow> = s.get("/api/incidents").await;

    let (status, injected) = s
        .post("/api/drills", json!({"fault": "latency", "target": "risk"}))
        .await;
    assert_eq!(status, 202, "{injected}");

    // One incident on risk, its plan waiting for a commander.
    let deadline = Instant::now() + Duration::from_secs(30);
    let incident = loop {
        let rows: Vec<screen::IncidentRow> = s.get("/api/incidents").await;
        let new: Vec<&screen::IncidentRow> = rows
            .iter()
            .filter(|r| !before.iter().any(|b| b.id == r.id))
            .collect();
        if let Some(r) = new.iter().find(|r| r.title.contains("service:risk")) {
            let path = format!("/api/incidents/{}", r.id);
            let d: screen::IncidentDetail = s.get(&path).await;
            if d.plan.as_ref().map(|p| p.status) == Some(screen::PlanStatus::AwaitingApproval) {
                break d;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no risk incident awaiting approval: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let plan = incident.plan.as_ref().unwrap();
    assert_eq!(plan.name.as_deref(), Some("risk-degrade"), "{incident:?}");
    let plans: Vec<screen::PlanChoice> = s
        .get(&format!("/api/incidents/{}/plans", incident.id))
        .await;
    let degrade = plans
        .iter()
        .find(|p| p.name == "risk-degrade")
        .expect("the cure offered");
    assert!(
        degrade
            .changes
            .iter()
            .any(|c| c.contains("skip the sync risk check")),
        "{degrade:?}"
    );
    assert!(
        !plans.iter().any(|p| p.name.contains("breaker")),
        "no breaker offered on the payment path: {plans:?}"
    );

    // The commander approves; payments recover with no harm.
    let (status, body) = s
        .post(
            &format!("/api/incidents/{}/approve", incident.id),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let path = format!("/api/incidents/{}", incident.id);
    let deadline = Instant::now() + Duration::from_secs(30);
    let healed = loop {
        let d: screen::IncidentDetail = s.get(&path).await;
        if d.plan.as_ref().map(|p| p.status) == Some(screen::PlanStatus::Recovered) {
            break d;
        }
        assert!(
            d.plan.as_ref().map(|p| p.status) != Some(screen::PlanStatus::RolledBack),
            "the degrade was undone: {d:?}"
        );
        assert!(Instant::now() < deadline, "never recovered: {d:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    for r in &healed.runs {
        assert!(!r.harm_aborted && r.harm_failed_payments == 0.0, "{r:?}");
    }
    let rows: Vec<screen::IncidentRow> = s.get("/api/incidents").await;
    let new: Vec<&screen::IncidentRow> = rows
        .iter()
        .filter(|r| !before.iter().any(|b| b.id == r.id))
        .collect();
    assert_eq!(new.len(), 1, "exactly one incident for one fault: {new:?}");
}
