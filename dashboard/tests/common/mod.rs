//! Shared by the dashboard's tests: a dashboard on a real loopback port with users of
//! every role, a RecordBackend on a manual clock, and payment traces built from the
//! real digest types (cashier → trade → payment → engine → bank).
#![allow(dead_code)]

use dashboard::{Dashboard, DashboardConfig, DashboardOptions, RecordBackend};
use digest::{DigestRecord, ManualClock, SpanId, SpanKind, TraceId};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub const PASSWORD: &str = "correct horse battery";
/// 2026-11-27T12:00:00Z
pub const T0_US: u64 = 1_795_780_800_000_000;

pub struct Running {
    pub addr: SocketAddr,
    pub clock: ManualClock,
    pub backend: Arc<RecordBackend>,
    pub dashboard: Arc<Dashboard>,
    pub audit: PathBuf,
    pub _dir: tempfile::TempDir,
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
    pub fn audit_text(&self) -> String {
        std::fs::read_to_string(&self.audit).unwrap_or_default()
    }
}

pub fn config_text(audit: &std::path::Path) -> String {
    let h = |pw: &str| dashboard::hash_password_with(pw, 1000);
    format!(
        "audit_log = {audit:?}\nsession_ttl_s = 600\n\
         [[users]]\nname = \"vera\"\nrole = \"viewer\"\npassword_hash = \"{}\"\n\
         [[users]]\nname = \"cole\"\nrole = \"commander\"\npassword_hash = \"{}\"\n\
         [[users]]\nname = \"ada\"\nrole = \"admin\"\npassword_hash = \"{}\"\n",
        h(PASSWORD),
        h(PASSWORD),
        h(PASSWORD)
    )
}

/// A dashboard serving `dist` (or a missing folder) on 127.0.0.1:0.
pub async fn start(dist: Option<PathBuf>) -> Running {
    start_with(dist, Duration::from_millis(100)).await
}

/// Same, with the live stream's interval.
pub async fn start_with(dist: Option<PathBuf>, stream_interval: Duration) -> Running {
    start_wrapped(dist, stream_interval, |r| r).await
}

/// Same, serving a backend built around the RecordBackend.
pub async fn start_wrapped(
    dist: Option<PathBuf>,
    stream_interval: Duration,
    wrap: impl FnOnce(Arc<RecordBackend>) -> Arc<dyn dashboard::DashboardBackend>,
) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let cfg = DashboardConfig::from_toml_str(&config_text(&audit), "test").unwrap();
    let clock = ManualClock::new(T0_US);
    let backend = Arc::new(RecordBackend::new(Arc::new(clock.clone())));
    let opts = DashboardOptions {
        config: Some(cfg),
        dist_dir: dist.unwrap_or_else(|| dir.path().join("no-dist")),
        audit_log: audit.clone(),
        stream_interval,
    };
    let (dashboard, first) =
        Dashboard::new(opts, wrap(backend.clone()), Arc::new(clock.clone())).unwrap();
    assert!(first.is_none());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(dashboard.clone().serve(listener));
    Running {
        addr,
        clock,
        backend,
        dashboard,
        audit,
        _dir: dir,
    }
}

/// One payment as the platform records it: five services and a bank, ten records.
pub fn payment_trace(
    n: u64,
    time_us: u64,
    success: bool,
    scene: &str,
    bank: &str,
) -> Vec<DigestRecord> {
    let trace = TraceId(0x4000_0000_0000_0000_0000_0000_0000_0000 | n as u128);
    let chain = ["cashier", "trade", "payment", "engine"];
    let mut out = Vec::new();
    let mut parent: Option<SpanId> = None;
    let code = if success { "SUCCESS" } else { "BANK_TIMEOUT" };
    for (i, svc) in chain.iter().enumerate() {
        let server = SpanId((n << 8) | (2 * i as u64 + 1));
        out.push(DigestRecord {
            time_us: time_us + i as u64 * 100,
            trace_id: trace,
            span_id: server,
            parent_span_id: parent,
            kind: SpanKind::Server,
            service: svc.to_string(),
            instance: format!("{svc}-1"),
            zone: "gz01".into(),
            operation: format!("{svc}.pay"),
            peer: if i == 0 {
                "sdk".into()
            } else {
                chain[i - 1].into()
            },
            duration_us: 40_000 - i as u64 * 5_000,
            success,
            code: code.into(),
            scene: scene.into(),
            channel: "SDK".into(),
            version: "1.0.0".into(),
            amount_cents: Some(1999),
            ..Default::default()
        });
        let client = SpanId((n << 8) | (2 * i as u64 + 2));
        let (kind, peer) = if i + 1 < chain.len() {
            (SpanKind::Client, chain[i + 1].to_string())
        } else {
            (SpanKind::Integrator, bank.to_string())
        };
        out.push(DigestRecord {
            time_us: time_us + i as u64 * 100 + 50,
            trace_id: trace,
            span_id: client,
            parent_span_id: Some(server),
            kind,
            service: svc.to_string(),
            instance: format!("{svc}-1"),
            zone: "gz01".into(),
            operation: format!("{peer}.pay"),
            peer,
            duration_us: 35_000 - i as u64 * 5_000,
            success,
            code: code.into(),
            scene: scene.into(),
            channel: "SDK".into(),
            version: "1.0.0".into(),
            ..Default::default()
        });
        parent = Some(client);
    }
    out
}

/// Feeds `count` payments into the second starting at `second_us` (one in `fail_every` fails).
pub fn feed_second(b: &RecordBackend, second_us: u64, count: u64, fail_every: u64, first_n: u64) {
    for i in 0..count {
        let ok = fail_every == 0 || i % fail_every != 0;
        let scene = if i % 3 == 0 {
            "quick_pay"
        } else {
            "balance_pay"
        };
        for r in payment_trace(
            first_n + i,
            second_us + i * (900_000 / count.max(1)),
            ok,
            scene,
            "bank_icbc",
        ) {
            b.ingest(r);
        }
    }
}
pub mod layout;
pub mod scripted;
pub mod webdriver;
