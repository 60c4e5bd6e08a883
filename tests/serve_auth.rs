//! Authenticated ingest in `warroom serve` and `warroom up` (issue 14), the real binary on
//! free loopback ports. `serve`: a config with `[collector] tokens` (one in the file, one from an environment
//! variable, one from a file) and `tls_cert`/`tls_key`. Digest lines and OTLP spans
//! without a token, or with a wrong one, are refused with 401 and never reach the
//! analyzer (their services stay off the topology); with the token, they do. Requests are
//! counted per source in `/api/stats` and `/metrics`, and no token shows there or in
//! anything the process prints. Without tokens, a collector beyond loopback is refused
//! unless `--allow-unauthenticated-ingest`; bad TLS files and a missing token variable
//! are named at startup. `up` with tokens: its simulator still feeds the room (in
//! process), while its collector port wants the token.

use collector::bench::{Conn, HttpReply};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const GATEWAY: &str = "gw-9d1c0f6e2b7a4835aa01";
const ORDERS: &str = "orders-5e3f1a7c9b2d4e60ff02";
const STOCK: &str = "stock-0a1b2c3d4e5f60718293";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("collector/tests/fixtures/tls")
        .join(name)
}

struct Serve {
    child: Child,
    dashboard: String,
    collector: SocketAddr,
    admin: (String, String),
    /// Everything the process printed (stdout and stderr), as it goes.
    output: Arc<Mutex<String>>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_cmd(config: Option<&Path>, data_dir: &Path, collector_listen: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_warroom"));
    c.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--collector-listen",
        collector_listen,
    ])
    .arg("--data-dir")
    .arg(data_dir)
    .env("SHOP_ORDERS_TOKEN", ORDERS);
    if let Some(p) = config {
        c.arg("--config").arg(p);
    }
    c
}

fn start(config: &Path, data_dir: &Path) -> Serve {
    let mut child = serve_cmd(Some(config), data_dir, "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start warroom serve");
    let output = Arc::new(Mutex::new(String::new()));
    let mut err = child.stderr.take().unwrap();
    let o = output.clone();
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        o.lock().unwrap().push_str(&s);
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut dashboard, mut collector, mut admin) = (None, None, None);
    while dashboard.is_none() || collector.is_none() || admin.is_none() {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("warroom serve exited: {}", output.lock().unwrap()))
            .unwrap();
        output.lock().unwrap().push_str(&format!("{line}\n"));
        if let Some(u) = line.strip_prefix("dashboard: ") {
            dashboard = Some(u.to_string());
        } else if let Some(u) = line.strip_prefix("collector: ") {
            collector = Some(u.to_string());
        } else if let Some(rest) = line.strip_prefix("first admin login: user ") {
            let (user, pw) = rest.split_once(" password ").expect("user and password");
            admin = Some((user.to_string(), pw.to_string()));
        }
    }
    let o = output.clone();
    std::thread::spawn(move || {
        for l in lines.map_while(Result::ok) {
            o.lock().unwrap().push_str(&format!("{l}\n"));
        }
    });
    let collector = collector.unwrap();
    let addr = collector
        .strip_prefix("https://")
        .unwrap_or_else(|| panic!("the collector speaks TLS: {collector}"))
        .parse()
        .unwrap();
    Serve {
        child,
        dashboard: dashboard.unwrap(),
        collector: addr,
        admin: admin.unwrap(),
        output,
    }
}

fn write_config(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("stock.token"), format!("{STOCK}\n")).unwrap();
    let cfg = dir.join("serve.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"
[collector]
tokens = [
  {{name = "shop-gateway", token = "{GATEWAY}"}},
  {{name = "shop-orders", token_env = "SHOP_ORDERS_TOKEN"}},
  {{name = "shop-stock", token_file = "stock.token"}},
]
tls_cert = "{}"
tls_key = "{}"
"#,
            fixture("cert.pem").display(),
            fixture("key.pem").display()
        ),
    )
    .unwrap();
    cfg
}

/// One request to the collector over TLS, trusting only the test certificate.
async fn collector_req(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpReply {
    use tokio_rustls::rustls::{self, pki_types::pem::PemObject, pki_types::CertificateDer};
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(fixture("cert.pem")).unwrap())
        .unwrap();
    #[allow(deprecated)] // ring: see collector/src/http/tls.rs
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(cfg))
        .connect(name, tcp)
        .await
        .unwrap();
    Conn::over(tls)
        .request(method, path, headers, body)
        .await
        .unwrap()
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64
}

/// `n` server spans of `service` as v1 digest lines, at now.
fn digest_lines(service: &str, seed: u64, n: u64) -> String {
    let t = digest::format_rfc3339(now_us());
    (0..n)
        .map(|i| {
            let v = json!({"time": t, "trace_id": format!("{:032x}", (seed << 32) + i),
                "span_id": format!("{:016x}", i + 1), "kind": "server", "service": service,
                "operation": "GET /", "duration_us": 2000, "success": true, "code": "OK"});
            format!("{v}\n")
        })
        .collect()
}

/// One OTLP/JSON server span of `service`, at now.
fn otlp_span(service: &str, seed: u64) -> String {
    let start = now_us() * 1000;
    json!({"resourceSpans":[{"resource":{"attributes":[
        {"key":"service.name","value":{"stringValue":service}}]},
      "scopeSpans":[{"spans":[{"traceId":format!("{:032x}", seed),"spanId":"00000000000000a1",
        "name":"POST /reserve","kind":2,"startTimeUnixNano":start.to_string(),
        "endTimeUnixNano":(start + 3_000_000).to_string(),"status":{}}]}]}]})
    .to_string()
}

async fn topology_ids(http: &reqwest::Client, s: &Serve, cookie: &str) -> Vec<String> {
    let topo: Value = http
        .get(format!("{}/api/topology", s.dashboard))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    topo["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["id"].as_str().map(String::from))
        .collect()
}

fn json_of(r: &HttpReply) -> Value {
    serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&r.body)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_ingest_without_its_token_and_analyses_what_has_one() {
    let dir = std::env::temp_dir().join(format!("warroom-serve-auth-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = write_config(&dir);
    let mut s = start(&cfg, &dir.join("data"));
    assert!(
        s.output
            .lock()
            .unwrap()
            .contains("collector ingest: bearer tokens, TLS"),
        "{}",
        s.output.lock().unwrap()
    );
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

    // Forged traffic: no token, a wrong one of the same length, a Basic header.
    let wrong = format!("Bearer {}", GATEWAY.replace('9', "8"));
    assert_eq!(wrong.len(), GATEWAY.len() + 7);
    let json_ct = ("Content-Type", "application/json");
    for h in [
        vec![],
        vec![("Authorization", wrong.as_str())],
        vec![("Authorization", "Basic eDp5")],
    ] {
        let r = collector_req(
            s.collector,
            "POST",
            "/v1/digest",
            &h,
            digest_lines("forged-digest", 1, 20).as_bytes(),
        )
        .await;
        assert_eq!(r.status, 401, "{}", String::from_utf8_lossy(&r.body));
        assert!(json_of(&r)["error"]
            .as_str()
            .unwrap()
            .contains("bearer token"));
        let mut ho = h.clone();
        ho.push(json_ct);
        let r = collector_req(
            s.collector,
            "POST",
            "/v1/traces",
            &ho,
            otlp_span("forged-otlp", 2).as_bytes(),
        )
        .await;
        assert_eq!(r.status, 401);
    }
    let r = collector_req(s.collector, "GET", "/api/records", &[], b"").await;
    assert_eq!(r.status, 401, "records carry payment data");

    // The real sources, each with its own token.
    let bearer = |t: &str| format!("Bearer {t}");
    let (g, o, st) = (bearer(GATEWAY), bearer(ORDERS), bearer(STOCK));
    let r = collector_req(
        s.collector,
        "POST",
        "/v1/digest",
        &[("Authorization", &g)],
        digest_lines("shop-web", 3, 20).as_bytes(),
    )
    .await;
    assert_eq!(
        (r.status, json_of(&r)["accepted"].as_u64()),
        (200, Some(20))
    );
    let r = collector_req(
        s.collector,
        "POST",
        "/v1/traces",
        &[("Authorization", &o), json_ct],
        otlp_span("shop-orders", 4).as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let r = collector_req(
        s.collector,
        "POST",
        "/v1/digest",
        &[("Authorization", &st)],
        digest_lines("shop-stock", 5, 5).as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200);

    // What had a token reaches the analyzer; what had none never does.
    let until = Instant::now() + Duration::from_secs(20);
    let ids = loop {
        let ids = topology_ids(&http, &s, &cookie).await;
        if ["shop-web", "shop-orders", "shop-stock"]
            .iter()
            .all(|x| ids.iter().any(|i| i == x))
            || Instant::now() > until
        {
            break ids;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for svc in ["shop-web", "shop-orders", "shop-stock"] {
        assert!(
            ids.iter().any(|i| i == svc),
            "{svc} on the topology: {ids:?}"
        );
    }
    for forged in ["forged-digest", "forged-otlp"] {
        assert!(
            !ids.iter().any(|i| i.contains(forged)),
            "{forged} reached the analyzer: {ids:?}"
        );
    }
    let r = collector_req(
        s.collector,
        "GET",
        "/api/records?service=forged-digest",
        &[("Authorization", &g)],
        b"",
    )
    .await;
    assert_eq!(json_of(&r), json!([]), "nothing forged was stored");

    let stats_reply = collector_req(s.collector, "GET", "/api/stats", &[], b"").await;
    let stats = json_of(&stats_reply);
    let by = &stats["auth"]["by_source"];
    assert_eq!(by["shop-gateway"]["accepted"], 2, "{stats:#}");
    assert_eq!(by["shop-orders"]["accepted"], 1);
    assert_eq!(by["shop-stock"]["accepted"], 1);
    assert_eq!(by["unauthenticated"]["refused"], 2 * 2 + 1);
    assert_eq!(by["invalid_token"]["refused"], 2);
    assert_eq!(stats["tls"]["enabled"], true);
    let metrics = collector_req(s.collector, "GET", "/metrics", &[], b"").await;
    let metrics = String::from_utf8(metrics.body).unwrap();
    assert!(
        metrics.contains(
            "warroom_collector_auth_requests_total{source=\"shop-orders\",outcome=\"accepted\"} 1"
        ),
        "{metrics}"
    );
    let _ = s.child.kill();
    let _ = s.child.wait();
    std::thread::sleep(Duration::from_millis(100));
    let printed = s.output.lock().unwrap().clone();
    for secret in [GATEWAY, ORDERS, STOCK, &wrong[7..]] {
        for (what, text) in [
            (
                "stats",
                String::from_utf8_lossy(&stats_reply.body).to_string(),
            ),
            ("metrics", metrics.clone()),
            ("output", printed.clone()),
        ] {
            assert!(!text.contains(secret), "a token in the {what}: {text}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_refuses_an_open_collector_beyond_loopback_unless_told() {
    let dir = std::env::temp_dir().join(format!("warroom-serve-open-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = serve_cmd(None, &dir.join("a"), "0.0.0.0:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--collector-listen 0.0.0.0:0")
            && err.contains("without ingest tokens")
            && err.contains("--allow-unauthenticated-ingest"),
        "{err}"
    );
    // Said explicitly: it starts, and says it is open.
    let mut child = serve_cmd(None, &dir.join("b"), "0.0.0.0:0")
        .arg("--allow-unauthenticated-ingest")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    for l in BufReader::new(child.stdout.take().unwrap()).lines() {
        let l = l.unwrap();
        let last = l.starts_with("collector ingest:");
        lines.push(l);
        if last {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("collector: http://0.0.0.0:")),
        "{lines:?}"
    );
    assert!(
        lines
            .last()
            .is_some_and(|l| l.contains("OPEN beyond loopback")),
        "{lines:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_names_bad_tls_files_and_missing_tokens_at_startup() {
    let dir = std::env::temp_dir().join(format!("warroom-serve-badtls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let run = |body: &str| {
        let cfg = dir.join("c.toml");
        std::fs::write(&cfg, body).unwrap();
        let out = serve_cmd(Some(&cfg), &dir.join("data"), "127.0.0.1:0")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{body}");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let tok = format!("tokens = [{{name = \"a\", token = \"{GATEWAY}\"}}]\n");
    let err = run(&format!(
        "[collector]\n{tok}tls_cert = \"nope.pem\"\ntls_key = \"{}\"\n",
        fixture("key.pem").display()
    ));
    assert!(
        err.contains("nope.pem") && err.contains("certificate"),
        "{err}"
    );
    std::fs::write(dir.join("junk.pem"), "junk\n").unwrap();
    let err = run(&format!(
        "[collector]\n{tok}tls_cert = \"{}\"\ntls_key = \"junk.pem\"\n",
        fixture("cert.pem").display()
    ));
    assert!(
        err.contains("junk.pem") && err.contains("private key"),
        "{err}"
    );
    let err = run(&format!(
        "[collector]\n{tok}tls_cert = \"{}\"\n",
        fixture("cert.pem").display()
    ));
    assert!(err.contains("tls_key"), "{err}");
    let err =
        run("[collector]\ntokens = [{name = \"b\", token_env = \"WARROOM_TEST_NO_SUCH_VAR\"}]\n");
    assert!(
        err.contains("tokens[0]") && err.contains("WARROOM_TEST_NO_SUCH_VAR"),
        "{err}"
    );
    let err = run("[collector]\ntokens = [{name = \"c\", token = \"tiny\"}]\n");
    assert!(
        err.contains("shorter than 16") && !err.contains("tiny"),
        "{err}"
    );
    let err = run("[collector]\ntoken = \"x\"\n");
    assert!(err.contains("token"), "unknown field named: {err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_with_tokens_feeds_its_room_and_guards_its_collector() {
    let dir = std::env::temp_dir().join(format!("warroom-up-auth-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("up.toml");
    std::fs::write(
        &cfg,
        format!("[collector]\ntokens = [{{name = \"edge-probe\", token = \"{GATEWAY}\"}}]\n"),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args([
            "up",
            "--listen",
            "127.0.0.1:0",
            "--collector-listen",
            "127.0.0.1:0",
            "--tps",
            "40",
        ])
        .arg("--config")
        .arg(&cfg)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    struct Kill(Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let _child = Kill(child);
    let (mut collector, mut note) = (None, None);
    while collector.is_none() || note.is_none() {
        let l = lines.next().expect("warroom up exited early").unwrap();
        if let Some(u) = l.strip_prefix("collector: ") {
            collector = Some(u.to_string());
        } else if l.starts_with("collector ingest:") {
            note = Some(l);
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let (collector, note) = (collector.unwrap(), note.unwrap());
    assert!(note.contains("bearer tokens"), "{note}");
    let http = reqwest::Client::new();
    // The simulator's own traffic reaches the store: no token needed in process.
    let until = Instant::now() + Duration::from_secs(30);
    let stored = loop {
        let v: Value = http
            .get(format!("{collector}/api/stats"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let n = v["records_stored"].as_u64().unwrap_or(0);
        if n > 0 || Instant::now() > until {
            break n;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(stored > 0, "the simulator feeds the room");
    let post = |auth: Option<String>| {
        let mut r = http
            .post(format!("{collector}/v1/digest"))
            .body(digest_lines("probe-svc", 9, 3));
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        async move { r.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(post(None).await, 401);
    assert_eq!(post(Some(format!("Bearer {ORDERS}"))).await, 401);
    assert_eq!(post(Some(format!("Bearer {GATEWAY}"))).await, 200);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `warroom sim --collector URL --collector-token T` ships with the token; without it, every
/// batch is refused and reported as rejected (not silently lost).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_ships_to_a_guarded_collector_with_its_token() {
    let dir = tempfile_dir("warroom-sim-auth");
    let clock: digest::SharedClock = Arc::new(digest::SystemClock);
    let store = Arc::new(
        collector::EmbeddedStore::open(
            &dir.join("store"),
            collector::EmbeddedConfig::default(),
            clock.clone(),
        )
        .unwrap(),
    );
    let cfg = collector::PipelineConfig {
        data_dir: dir.clone(),
        fsync: collector::FsyncPolicy::Never,
        ..Default::default()
    };
    let p = collector::Pipeline::open(cfg, store, clock).unwrap();
    let edge = collector::Edge::new(collector::EdgeConfig {
        tokens: vec![collector::SourceToken::new("payments-sim", STOCK).unwrap()],
        ..Default::default()
    })
    .unwrap();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(collector::serve_edge(l, p, edge, std::future::pending()));
    let sim = |token: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_warroom"));
        c.args([
            "sim",
            "--tps",
            "30",
            "--duration",
            "1.5",
            "--delays",
            "virtual",
            "--json",
        ])
        .args(["--collector", &url])
        .env_remove("WARROOM_COLLECTOR_TOKEN")
        .stderr(Stdio::null());
        if let Some(t) = token {
            c.args(["--collector-token", t]);
        }
        async move {
            let out = tokio::task::spawn_blocking(move || c.output().unwrap())
                .await
                .unwrap();
            assert!(out.status.success());
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            (
                v["digests_written"].as_u64().unwrap(),
                v["digests_rejected"].as_u64().unwrap(),
            )
        }
    };
    let (written, rejected) = sim(Some(STOCK)).await;
    assert!(written > 0 && rejected == 0, "{written} {rejected}");
    let (written, rejected) = sim(None).await;
    assert!(written == 0 && rejected > 0, "{written} {rejected}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir(prefix: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
