//! The dashboard's HTTP surface over a real loopback socket: login and sessions,
//! 401/403 by role, CSRF and Origin checks, the audit log, bad input, the live stream,
//! the static bundle, and config errors.

mod common;

use common::client::{get, login, post};
use common::fixed::FixedBackend;
use common::*;
use dashboard::{Dashboard, DashboardConfig, DashboardOptions};
use reqwest::header::{CONTENT_TYPE, COOKIE, ORIGIN, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test]
async fn without_a_session_everything_but_login_is_401() {
    let r = start(None).await;
    let c = reqwest::Client::new();
    for path in [
        "/api/me",
        "/api/overview",
        "/api/topology",
        "/api/incidents",
        "/api/stream",
        "/api/traces/0123",
    ] {
        assert_eq!(
            c.get(r.url(path)).send().await.unwrap().status(),
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }
    for path in [
        "/api/incidents/i1/approve",
        "/api/drills",
        "/api/silences",
        "/api/logout",
    ] {
        let s = c
            .post(r.url(path))
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{path}");
    }
    let forged = c
        .get(r.url("/api/me"))
        .header(COOKIE, "warroom_session=deadbeef")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_logins_are_refused_audited_and_the_password_never_written() {
    let r = start(None).await;
    let c = reqwest::Client::new();
    for (user, pw) in [("cole", "wrong password"), ("nobody", PASSWORD)] {
        let resp = c
            .post(r.url("/api/login"))
            .json(&json!({"user": user, "password": pw}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert!(resp.headers().get(SET_COOKIE).is_none());
    }
    let bad = c
        .post(r.url("/api/login"))
        .header(CONTENT_TYPE, "application/json")
        .body("{\"user\":1")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let extra = c
        .post(r.url("/api/login"))
        .json(&json!({"user": "cole", "password": PASSWORD, "role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        extra.status(),
        StatusCode::BAD_REQUEST,
        "unknown fields are refused"
    );
    let l = login(&r, "cole").await;
    let audit = r.audit_text();
    assert_eq!(audit.matches("\"action\":\"login\"").count(), 3, "{audit}");
    assert!(audit.contains("\"user\":\"nobody\"") && audit.contains("failed"));
    assert!(
        !audit.contains(PASSWORD) && !audit.contains("wrong password") && !audit.contains(&l.csrf)
    );
    assert!(
        !audit.contains(l.cookie.split('=').nth(1).unwrap()),
        "session ids stay out of the audit"
    );
}

#[tokio::test]
async fn roles_gate_actions_with_403_and_each_attempt_is_audited() {
    let r = start(None).await;
    let viewer = login(&r, "vera").await;
    let (s, me) = get(&r, &viewer, "/api/me").await;
    assert_eq!((s, me["role"].as_str()), (StatusCode::OK, Some("viewer")));
    assert_eq!(get(&r, &viewer, "/api/topology").await.0, StatusCode::OK);
    assert_eq!(
        post(&r, &viewer, "/api/incidents/inc-1/approve", json!({}))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(&r, &viewer, "/api/incidents/inc-1/reject", json!({}))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(
            &r,
            &viewer,
            "/api/silences",
            json!({"matchers": {"service": "trade"}, "duration_s": 60})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(&r, &viewer, "/api/drills", json!({"fault": "bank_outage"}))
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    let commander = login(&r, "cole").await;
    assert_eq!(
        post(
            &r,
            &commander,
            "/api/drills",
            json!({"fault": "bank_outage"})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    // Past the role check, the fixed backend has no healer: 503 from the backend itself.
    let (s, body) = post(&r, &commander, "/api/incidents/inc-1/approve", json!({})).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let admin = login(&r, "ada").await;
    assert_eq!(
        post(
            &r,
            &admin,
            "/api/drills",
            json!({"fault": "bank_outage", "target": "bank_icbc"})
        )
        .await
        .0,
        StatusCode::SERVICE_UNAVAILABLE
    );

    let audit = r.audit_text();
    let lines: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let denied = lines.iter().filter(|l| l["outcome"] == "denied").count();
    assert_eq!(denied, 5, "{audit}");
    let approve: Vec<&Value> = lines
        .iter()
        .filter(|l| l["action"] == "approve" && l["user"] == "cole")
        .collect();
    assert_eq!(approve.len(), 2, "intent then outcome");
    assert_eq!(approve[0]["outcome"], "requested");
    assert!(approve[1]["outcome"]
        .as_str()
        .unwrap()
        .starts_with("failed: unavailable"));
    assert!(lines.iter().any(|l| l["action"] == "drill"
        && l["target"] == "bank_outage@bank_icbc"
        && l["user"] == "ada"));
}

#[tokio::test]
async fn state_changes_need_the_csrf_token_and_the_own_origin() {
    let r = start(None).await;
    let l = login(&r, "ada").await;
    let c = reqwest::Client::new();
    let no_token = c
        .post(r.url("/api/drills"))
        .header(COOKIE, &l.cookie)
        .json(&json!({"fault": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    let wrong = c
        .post(r.url("/api/drills"))
        .header(COOKIE, &l.cookie)
        .header("x-csrf-token", "00")
        .json(&json!({"fault": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let evil = c
        .post(r.url("/api/drills"))
        .header(COOKIE, &l.cookie)
        .header("x-csrf-token", &l.csrf)
        .header(ORIGIN, "http://evil.example")
        .json(&json!({"fault": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    let evil_login = c
        .post(r.url("/api/login"))
        .header(ORIGIN, "http://evil.example")
        .json(&json!({"user": "ada", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        evil_login.status(),
        StatusCode::FORBIDDEN,
        "login CSRF refused too"
    );
    assert!(
        !r.audit_text().contains("\"action\":\"drill\""),
        "nothing reached the action"
    );
}

#[tokio::test]
async fn bad_input_is_a_400_naming_the_problem_and_changes_nothing() {
    let r = start(None).await;
    let l = login(&r, "ada").await;
    let cases = [
        ("/api/drills", json!({"fault": "rm -rf /"}), "fault"),
        (
            "/api/drills",
            json!({"fault": "ok", "blast": 1}),
            "unknown field",
        ),
        ("/api/drills", json!({"target": "x"}), "fault"),
        (
            "/api/silences",
            json!({"matchers": {}, "duration_s": 60}),
            "matchers",
        ),
        (
            "/api/silences",
            json!({"matchers": {"a": "b"}, "duration_s": 0}),
            "duration_s",
        ),
        ("/api/incidents/a%20b/approve", json!({}), "incident id"),
    ];
    for (path, body, word) in cases {
        let (s, v) = post(&r, &l, path, body.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path} {body}");
        assert!(v["error"].as_str().unwrap().contains(word), "{path}: {v}");
    }
    let (s, v) = get(&r, &l, "/api/traces/not-hex").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let audit = r.audit_text();
    assert!(
        !audit.contains("\"outcome\":\"requested\""),
        "no action started: {audit}"
    );
}

#[tokio::test]
async fn logout_and_idle_expiry_end_the_session() {
    let r = start(None).await;
    let l = login(&r, "vera").await;
    assert_eq!(
        post(&r, &l, "/api/logout", json!({})).await.0,
        StatusCode::OK
    );
    assert_eq!(get(&r, &l, "/api/me").await.0, StatusCode::UNAUTHORIZED);
    let l = login(&r, "vera").await;
    r.clock.advance_secs(599);
    assert_eq!(get(&r, &l, "/api/me").await.0, StatusCode::OK);
    r.clock.advance_secs(601);
    assert_eq!(get(&r, &l, "/api/me").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn figures_topology_and_traces_are_the_backends_answers() {
    let r = start(None).await;
    let l = login(&r, "vera").await;
    r.backend.set(|a| a.payments(T0_US, 40.0, 0.9));
    let (_, o) = get(&r, &l, "/api/overview").await;
    assert_eq!(o["overview"]["payments_per_s"], 40.0);
    assert!(
        (o["overview"]["success_rate"].as_f64().unwrap() - 0.9).abs() < 1e-9,
        "{o}"
    );
    let scenes: Vec<&str> = o["scenes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["scene"].as_str().unwrap())
        .collect();
    assert_eq!(scenes, ["balance_pay", "quick_pay"]);
    let (_, t) = get(&r, &l, "/api/topology").await;
    let ids: Vec<&str> = t["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["bank_icbc", "cashier", "engine", "payment", "trade"]);
    let bank = t["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == "bank_icbc")
        .unwrap();
    assert_eq!(bank["kind"], "bank");
    assert_eq!(bank["health"], "red", "10% failures");
    let e = t["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["from"] == "engine")
        .unwrap();
    assert_eq!(
        (e["to"].as_str(), e["rate"].as_f64()),
        (Some("bank_icbc"), Some(40.0))
    );
    let tid = common::fixed::trace_id(3).to_hex();
    let (s, spans) = get(&r, &l, &format!("/api/traces/{tid}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        spans.as_array().unwrap().len(),
        8,
        "four services, a server and a client record each"
    );
    assert_eq!(spans[0]["service"], "cashier");
    let (s, _) = get(&r, &l, &format!("/api/traces/{:032x}", 7)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_stream_pushes_new_figures_within_a_second() {
    let r = start(None).await;
    let l = login(&r, "vera").await;
    let mut resp = reqwest::Client::new()
        .get(r.url("/api/stream"))
        .header(COOKIE, &l.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let first = String::from_utf8(resp.chunk().await.unwrap().unwrap().to_vec()).unwrap();
    assert!(
        first.contains("event: overview") && first.contains("\"payments_per_s\":0.0"),
        "{first}"
    );
    r.backend.set(|a| a.payments(T0_US, 25.0, 1.0));
    let changed_at = Instant::now();
    let mut seen = String::new();
    while !seen.contains("\"payments_per_s\":25.0") {
        let chunk = tokio::time::timeout(Duration::from_secs(2), resp.chunk())
            .await
            .expect("an event within 2 s")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        changed_at.elapsed() < Duration::from_secs(1),
        "pushed after {:?}",
        changed_at.elapsed()
    );
}

#[tokio::test]
async fn the_bundle_is_served_with_the_right_types_and_a_page_when_missing() {
    let missing = start(None).await;
    let resp = reqwest::get(missing.url("/")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("scripts/build-dashboard"));

    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<!doctype html><title>war-room</title>",
    )
    .unwrap();
    std::fs::write(
        dist.path().join("dashboard_app_bg.wasm"),
        b"\0asm\x01\0\0\0",
    )
    .unwrap();
    std::fs::write(dist.path().join("style.css"), "body{}").unwrap();
    let r = start(Some(dist.path().to_path_buf())).await;
    let wasm = reqwest::get(r.url("/dashboard_app_bg.wasm")).await.unwrap();
    assert_eq!(wasm.headers()[CONTENT_TYPE], "application/wasm");
    let css = reqwest::get(r.url("/style.css")).await.unwrap();
    assert!(css.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    for route in ["/", "/topology", "/incidents/inc-7"] {
        let page = reqwest::get(r.url(route)).await.unwrap();
        assert_eq!(page.status(), StatusCode::OK, "{route}");
        assert!(page.text().await.unwrap().contains("war-room"));
    }
    assert_eq!(
        reqwest::get(r.url("/nope.js")).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        reqwest::get(r.url("/api/nope")).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    // A raw request that tries to climb out of dist/.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(r.addr).await.unwrap();
    s.write_all(b"GET /../Cargo.toml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert!(
        out.starts_with("HTTP/1.1 404") || out.starts_with("HTTP/1.1 400"),
        "{out}"
    );
}

#[tokio::test]
async fn without_config_a_first_admin_is_generated_and_can_log_in() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(digest::ManualClock::new(T0_US));
    let opts = DashboardOptions {
        audit_log: dir.path().join("a.jsonl"),
        dist_dir: dir.path().into(),
        ..Default::default()
    };
    let (d, first) = Dashboard::new(opts, Arc::new(FixedBackend::default()), clock).unwrap();
    let first = first.expect("a generated admin");
    assert_eq!(first.name, "admin");
    assert!(first.password.len() >= 20);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(d.serve(listener));
    let c = reqwest::Client::new();
    let ok = c
        .post(format!("http://{addr}/api/login"))
        .json(&json!({"user": "admin", "password": first.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.json::<Value>().await.unwrap()["role"], "admin");
}

#[test]
fn config_errors_name_the_field() {
    let good = dashboard::hash_password_with("x", 1000);
    let cases = [
        (format!("[[users]]\nname = \"a\"\nrole = \"viewer\"\npassword_hash = \"{good}\"\ncolour = 1\n"), "colour"),
        (format!("[[users]]\nname = \"a\"\nrole = \"boss\"\npassword_hash = \"{good}\"\n"), "boss"),
        ("[[users]]\nname = \"a\"\nrole = \"viewer\"\npassword_hash = \"plain\"\n".to_string(), "users[0].password_hash"),
        (format!("[[users]]\nname = \"a\"\nrole = \"viewer\"\npassword_hash = \"{good}\"\n[[users]]\nname = \"a\"\nrole = \"admin\"\npassword_hash = \"{good}\"\n"), "appears twice"),
        ("users = []\n".to_string(), "at least one user"),
        (format!("session_ttl_s = 5\n[[users]]\nname = \"a\"\nrole = \"viewer\"\npassword_hash = \"{good}\"\n"), "session_ttl_s"),
    ];
    for (text, word) in cases {
        let e = DashboardConfig::from_toml_str(&text, "dash.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains(word) && e.contains("dash.toml"), "{word}: {e}");
    }
}

#[tokio::test]
async fn repeated_bad_passwords_lock_the_name_for_five_minutes() {
    let r = start(None).await;
    let c = reqwest::Client::new();
    let try_login = |pw: &'static str| {
        let c = c.clone();
        let url = r.url("/api/login");
        async move {
            c.post(url)
                .json(&json!({"user": "cole", "password": pw}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    for _ in 0..5 {
        assert_eq!(try_login("guess").await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        try_login(PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    login(&r, "vera").await; // other users are unaffected
    r.clock.advance_secs(300);
    login(&r, "cole").await;
    assert!(r.audit_text().contains("denied: too many failures"));
}
