//! Authenticated ingest (issue 14) over real loopback listeners: with tokens set, every
//! ingest endpoint and the record reads answer 401 to a missing or wrong token (same
//! length or not) and store nothing of the body; the right token is accepted, counted
//! under its source in `/api/stats` and `/metrics`, and no token ever shows there; TLS
//! with a committed self-signed test certificate round-trips; bad TLS files are named at
//! startup; a listener beyond loopback without tokens is refused.

mod common;

use collector::bench::{Conn, HttpReply};
use collector::{Edge, EdgeConfig, EdgeError, Pipeline, SourceToken, TlsFiles};
use common::*;
use digest::record_to_line;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

const CHECKOUT: &str = "tok-checkout-7f3a9c21d4e8b605";
const WEB: &str = "tok-web-1b2c3d4e5f60718293a4";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

fn tokens() -> Vec<SourceToken> {
    vec![
        SourceToken::new("checkout-svc", CHECKOUT).unwrap(),
        SourceToken::new("web", WEB).unwrap(),
    ]
}

async fn serve(p: Pipeline, edge: Edge) -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(collector::serve_edge(l, p, edge, std::future::pending()));
    addr
}

async fn req(
    addr: SocketAddr,
    method: &str,
    path: &str,
    h: &[(&str, &str)],
    body: &[u8],
) -> HttpReply {
    let mut c = Conn::connect(addr).await.unwrap();
    c.request(method, path, h, body).await.unwrap()
}

fn json(r: &HttpReply) -> serde_json::Value {
    serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&r.body)))
}

fn lines(t: u128, n: u64) -> String {
    recs(t, n).iter().map(record_to_line).collect()
}

const EVENT: &str = r#"{"time":"2026-11-27T13:00:00.000000Z","event":"deploy","service":"trade","version":"2.4.0","detail":"canary","by":"ci"}"#;

fn otlp_body(trace: &str) -> String {
    serde_json::json!({"resourceSpans":[{"resource":{"attributes":[
        {"key":"service.name","value":{"stringValue":"orders"}}]},
      "scopeSpans":[{"spans":[{"traceId":trace,"spanId":"eee19b7ec3c1b174",
        "name":"POST /order","kind":2,"startTimeUnixNano":"1800000000000000000",
        "endTimeUnixNano":"1800000000005000000","status":{}}]}]}]})
    .to_string()
}

#[tokio::test]
async fn ingest_needs_the_right_token_and_counts_per_source() {
    let dir = tempfile::tempdir().unwrap();
    let (p, _s, _c) = pipeline(dir.path(), config(dir.path()), true);
    let edge = Edge::new(EdgeConfig {
        tokens: tokens(),
        ..Default::default()
    })
    .unwrap();
    assert!(edge.requires_token());
    let addr = serve(p.clone(), edge).await;
    let bearer = |t: &str| format!("Bearer {t}");
    let wrong_same_len = format!("{}x", &CHECKOUT[..CHECKOUT.len() - 1]);
    assert_eq!(wrong_same_len.len(), CHECKOUT.len());
    let refusals: Vec<(String, Vec<(&str, String)>)> = vec![
        ("no header".into(), vec![]),
        (
            "basic auth".into(),
            vec![("Authorization", "Basic Y2hlY2tvdXQ6cHc=".into())],
        ),
        (
            "same length".into(),
            vec![("Authorization", bearer(&wrong_same_len))],
        ),
        (
            "prefix".into(),
            vec![("Authorization", bearer(&CHECKOUT[..10]))],
        ),
        (
            "longer".into(),
            vec![("Authorization", bearer(&format!("{CHECKOUT}0")))],
        ),
    ];
    let otlp = otlp_body("5b8efff798038103d269b633813fc60c");
    for (what, h) in &refusals {
        let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut ho = h.clone();
        ho.push(("Content-Type", "application/json"));
        for (path, headers, body) in [
            ("/v1/digest", &h, lines(0xA1, 3)),
            ("/v1/events", &h, format!("{EVENT}\n")),
            ("/v1/traces", &ho, otlp.clone()),
        ] {
            let r = req(addr, "POST", path, headers, body.as_bytes()).await;
            assert_eq!(r.status, 401, "{what} {path}");
            let err = json(&r)["error"].as_str().unwrap().to_string();
            assert!(err.contains("bearer token"), "{what} {path}: {err}");
            assert!(
                !err.contains(CHECKOUT) && !err.contains(&wrong_same_len),
                "{err}"
            );
            assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
        }
    }
    // Reads of payload data are guarded too.
    for path in [
        "/api/records",
        "/api/traces/5b8efff798038103d269b633813fc60c",
    ] {
        assert_eq!(req(addr, "GET", path, &[], b"").await.status, 401, "{path}");
    }
    p.flush().await;
    let stats = json(&req(addr, "GET", "/api/stats", &[], b"").await);
    assert_eq!(
        stats["records_stored"], 0,
        "nothing of a refused body is stored"
    );
    assert_eq!(stats["records_accepted"], 0);
    assert_eq!(stats["events_accepted"], 0);
    assert_eq!(stats["bytes_in"], 0, "a refused body is not even read");

    // The right tokens, one source each.
    let ck = bearer(CHECKOUT);
    let r = req(
        addr,
        "POST",
        "/v1/digest",
        &[("Authorization", &ck)],
        lines(0xB2, 4).as_bytes(),
    )
    .await;
    assert_eq!((r.status, json(&r)["accepted"].as_u64()), (200, Some(4)));
    let r = req(
        addr,
        "POST",
        "/v1/events",
        &[("authorization", &format!("bearer {CHECKOUT}"))],
        format!("{EVENT}\n").as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let wb = bearer(WEB);
    let r = req(
        addr,
        "POST",
        "/v1/traces",
        &[("Authorization", &wb), ("Content-Type", "application/json")],
        otlp.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    // A refused body under a good token counts as refused for its source.
    let r = req(
        addr,
        "POST",
        "/v1/digest",
        &[("Authorization", &wb)],
        b"{}\n",
    )
    .await;
    assert_eq!(r.status, 400);
    p.flush().await;
    let r = req(
        addr,
        "GET",
        "/api/records?service=trade",
        &[("Authorization", &ck)],
        b"",
    )
    .await;
    assert_eq!((r.status, json(&r).as_array().unwrap().len()), (200, 4));
    let r = req(
        addr,
        "GET",
        "/api/traces/5b8efff798038103d269b633813fc60c",
        &[("Authorization", &wb)],
        b"",
    )
    .await;
    assert_eq!((r.status, json(&r).as_array().unwrap().len()), (200, 1));

    let raw = req(addr, "GET", "/api/stats", &[], b"").await;
    let stats = json(&raw);
    assert_eq!(stats["records_stored"], 5);
    let by = &stats["auth"]["by_source"];
    assert_eq!(stats["auth"]["required"], true);
    assert_eq!(
        by["checkout-svc"],
        serde_json::json!({"accepted": 3, "refused": 0})
    );
    assert_eq!(by["web"], serde_json::json!({"accepted": 2, "refused": 1}));
    // No header / Basic: 4 requests × 3 endpoints … the reads were unauthenticated too.
    assert_eq!(by["unauthenticated"]["refused"], 2 * 3 + 2);
    assert_eq!(by["invalid_token"]["refused"], 3 * 3);
    let metrics = String::from_utf8(req(addr, "GET", "/metrics", &[], b"").await.body).unwrap();
    for needle in [
        "warroom_collector_auth_required 1",
        "warroom_collector_auth_requests_total{source=\"checkout-svc\",outcome=\"accepted\"} 3",
        "warroom_collector_auth_requests_total{source=\"web\",outcome=\"refused\"} 1",
        "warroom_collector_auth_requests_total{source=\"unauthenticated\",outcome=\"refused\"} 8",
        "warroom_collector_auth_requests_total{source=\"invalid_token\",outcome=\"refused\"} 9",
    ] {
        assert!(metrics.contains(needle), "missing {needle} in\n{metrics}");
    }
    for out in [String::from_utf8_lossy(&raw.body).to_string(), metrics] {
        for secret in [CHECKOUT, WEB, &CHECKOUT[4..20], &WEB[4..20]] {
            assert!(!out.contains(secret), "a token leaked into {out}");
        }
    }
}

#[tokio::test]
async fn without_tokens_loopback_stays_open() {
    let dir = tempfile::tempdir().unwrap();
    let (p, _s, _c) = pipeline(dir.path(), config(dir.path()), true);
    let addr = serve(p.clone(), Edge::open()).await;
    let r = req(addr, "POST", "/v1/digest", &[], lines(0xC3, 2).as_bytes()).await;
    assert_eq!(r.status, 200);
    // A token sent to an open collector is simply not needed.
    let r = req(
        addr,
        "POST",
        "/v1/digest",
        &[("Authorization", "Bearer whatever-it-is-0000")],
        lines(0xC4, 1).as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(req(addr, "GET", "/api/records", &[], b"").await.status, 200);
    let stats = json(&req(addr, "GET", "/api/stats", &[], b"").await);
    assert_eq!(
        stats["auth"],
        serde_json::json!({"required": false, "by_source": {}})
    );
}

#[tokio::test]
async fn beyond_loopback_without_tokens_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let (p, _s, _c) = pipeline(dir.path(), config(dir.path()), true);
    // Bound on every interface, but refused before anything is served.
    let l = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let e = collector::serve_edge(l, p, Edge::open(), std::future::pending())
        .await
        .unwrap_err();
    assert!(
        matches!(e, EdgeError::UnauthenticatedBeyondLoopback { .. }),
        "{e}"
    );
    let msg = e.to_string();
    assert!(msg.contains(&format!("0.0.0.0:{port}")), "{msg}");
    assert!(
        msg.contains("without ingest tokens") && msg.contains("--allow-unauthenticated-ingest"),
        "{msg}"
    );
    let any: SocketAddr = "0.0.0.0:4318".parse().unwrap();
    let v6: SocketAddr = "[::]:4318".parse().unwrap();
    let lan: SocketAddr = "192.0.2.7:4318".parse().unwrap();
    for a in [any, v6, lan] {
        assert!(Edge::open().check_listen(a).is_err(), "{a}");
    }
    let allowed = Edge::new(EdgeConfig {
        allow_unauthenticated: true,
        ..Default::default()
    })
    .unwrap();
    let with_tokens = Edge::new(EdgeConfig {
        tokens: tokens(),
        ..Default::default()
    })
    .unwrap();
    for edge in [allowed, with_tokens] {
        edge.check_listen(any).unwrap();
    }
    Edge::open()
        .check_listen("127.0.0.1:4318".parse().unwrap())
        .unwrap();
    Edge::open()
        .check_listen("[::1]:4318".parse().unwrap())
        .unwrap();
}

#[test]
fn bad_tls_files_are_named_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    let edge = |cert: PathBuf, key: PathBuf| {
        Edge::new(EdgeConfig {
            tls: Some(TlsFiles { cert, key }),
            ..Default::default()
        })
        .err()
        .expect("refused")
        .to_string()
    };
    let missing = dir.path().join("nope.pem");
    let e = edge(missing.clone(), fixture("key.pem"));
    assert!(
        e.contains("certificate") && e.contains(&missing.display().to_string()),
        "{e}"
    );
    let e = edge(fixture("cert.pem"), missing.clone());
    assert!(
        e.contains("key") && e.contains(&missing.display().to_string()),
        "{e}"
    );
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a pem file\n").unwrap();
    let e = edge(garbage.clone(), fixture("key.pem"));
    assert!(
        e.contains("no CERTIFICATE") && e.contains("garbage.pem"),
        "{e}"
    );
    let e = edge(fixture("cert.pem"), garbage.clone());
    assert!(
        e.contains("private key") && e.contains("garbage.pem"),
        "{e}"
    );
    // The certificate given as its own key.
    let e = edge(fixture("cert.pem"), fixture("cert.pem"));
    assert!(e.contains("cert.pem"), "{e}");
    // Another key than the certificate's.
    let e = edge(fixture("cert.pem"), fixture("other-key.pem"));
    assert!(e.contains("with key") && e.contains("other-key.pem"), "{e}");
}

/// A TLS client that trusts only the fixture certificate.
async fn tls_conn(
    addr: SocketAddr,
) -> std::io::Result<Conn<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>> {
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
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(cfg))
        .connect(name, tcp)
        .await?;
    Ok(Conn::over(tls))
}

#[tokio::test]
async fn tls_round_trip_with_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let (p, _s, _c) = pipeline(dir.path(), config(dir.path()), true);
    let edge = Edge::new(EdgeConfig {
        tokens: tokens(),
        tls: Some(TlsFiles {
            cert: fixture("cert.pem"),
            key: fixture("key.pem"),
        }),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(edge.scheme(), "https");
    let addr = serve(p.clone(), edge).await;
    // A client that connects and says nothing holds no one else up.
    let _silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut c = tokio::time::timeout(std::time::Duration::from_secs(5), tls_conn(addr))
        .await
        .expect("a handshake waits behind a silent client")
        .unwrap();
    let r = c
        .request("POST", "/v1/digest", &[], lines(0xD5, 2).as_bytes())
        .await
        .unwrap();
    assert_eq!(r.status, 401);
    let auth = format!("Bearer {CHECKOUT}");
    // The same connection, kept alive.
    let r = c
        .request(
            "POST",
            "/v1/digest",
            &[("Authorization", &auth)],
            lines(0xD5, 2).as_bytes(),
        )
        .await
        .unwrap();
    assert_eq!((r.status, json(&r)["accepted"].as_u64()), (200, Some(2)));
    p.flush().await;
    let r = c
        .request("GET", "/api/records", &[("Authorization", &auth)], b"")
        .await
        .unwrap();
    assert_eq!(json(&r).as_array().unwrap().len(), 2);
    // Plain HTTP to the TLS port gets no HTTP answer, and counts as a failed handshake.
    let plain = Conn::connect(addr)
        .await
        .unwrap()
        .request("GET", "/api/stats", &[], b"")
        .await;
    assert!(plain.is_err(), "plain HTTP answered over TLS: {plain:?}");
    let stats = json(&c.request("GET", "/api/stats", &[], b"").await.unwrap());
    assert_eq!(stats["tls"]["enabled"], true);
    assert_eq!(stats["tls"]["handshakes_failed"], 1);
    assert_eq!(stats["auth"]["by_source"]["checkout-svc"]["accepted"], 2);
}

/// The digest crate's HTTP shipper (what `warroom sim --collector` ships with) sends its
/// token; without one, the collector refuses every batch and the shipper counts them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_shipper_sends_its_token() {
    use digest::{HttpShipper, HttpShipperConfig, Sink};
    let dir = tempfile::tempdir().unwrap();
    let (p, _s, _c) = pipeline(dir.path(), config(dir.path()), true);
    let edge = Edge::new(EdgeConfig {
        tokens: tokens(),
        ..Default::default()
    })
    .unwrap();
    let addr = serve(p.clone(), edge).await;
    let ship = move |token: Option<&str>| {
        let cfg = HttpShipperConfig {
            url: format!("http://{addr}"),
            token: token.map(str::to_string),
            flush_interval_ms: 5,
            max_retries: 1,
            backoff_initial_ms: 1,
            ..Default::default()
        };
        assert!(
            !format!("{cfg:?}").contains(CHECKOUT),
            "Debug shows the token"
        );
        HttpShipper::start(cfg).unwrap()
    };
    let stats = tokio::task::spawn_blocking(move || {
        let with = ship(Some(CHECKOUT));
        let without = ship(None);
        for r in recs(0xE6, 5) {
            with.record(&r);
        }
        for r in recs(0xE7, 3) {
            without.record(&r);
        }
        assert!(with.flush(std::time::Duration::from_secs(20)));
        assert!(without.flush(std::time::Duration::from_secs(20)));
        (with.stats(), without.stats())
    })
    .await
    .unwrap();
    assert_eq!(
        (stats.0.delivered, stats.0.rejected),
        (5, 0),
        "{:?}",
        stats.0
    );
    assert_eq!(
        (stats.1.delivered, stats.1.rejected),
        (0, 3),
        "{:?}",
        stats.1
    );
    p.flush().await;
    let s = json(&req(addr, "GET", "/api/stats", &[], b"").await);
    assert_eq!(s["records_stored"], 5);
    assert_eq!(s["auth"]["by_source"]["checkout-svc"]["accepted"], 1);
    assert_eq!(s["auth"]["by_source"]["unauthenticated"]["refused"], 1);
}
