//! The ClickHouse store against a real server: every row type round-trips,
//! queries filter and cut as the `Store` trait says, schema creation is
//! idempotent, retention drops daily partitions, and a server that goes down
//! and comes back turns into `Unavailable` and then into a successful retry.
//!
//! Needs `WARROOM_CLICKHOUSE_URL` (set by `scripts/test`); without it the tests
//! fail when `CI=true` and print a notice and pass otherwise. The restart test
//! runs a ClickHouse server of its own (Debian's `clickhouse-server` binary).

use collector::{ClickHouseConfig, ClickHouseStore};
use collector::{RecordQuery, Store, StoreError};
use digest::{ChangeEvent, ChangeKind, DigestRecord, Keys, SpanId, SpanKind, TraceId};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

const T0: u64 = 1_795_784_497_000_000; // 2026-11-27T13:01:37Z

fn in_ci() -> bool {
    std::env::var("CI").map(|v| v == "true").unwrap_or(false)
}

fn server_url() -> Option<String> {
    match std::env::var("WARROOM_CLICKHOUSE_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ if in_ci() => panic!("WARROOM_CLICKHOUSE_URL is not set and CI=true: run scripts/test"),
        _ => {
            eprintln!("NOTICE: WARROOM_CLICKHOUSE_URL not set; ClickHouse test skipped (run scripts/test)");
            None
        }
    }
}

static SEQ: AtomicU32 = AtomicU32::new(0);

fn unique_db(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "wr_{name}_{}_{}_{nanos}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

async fn open(url: &str, name: &str) -> (ClickHouseStore, String) {
    let db = unique_db(name);
    let mut cfg = ClickHouseConfig::new(url);
    cfg.database = db.clone();
    (ClickHouseStore::open(cfg).await.expect("open store"), db)
}

async fn drop_db(url: &str, db: &str) {
    let c = clickhouse::Client::default()
        .with_url(url)
        .with_validation(false);
    let _ = c
        .query(&format!("DROP DATABASE IF EXISTS {db}"))
        .execute()
        .await;
}

fn full_record(i: u64) -> DigestRecord {
    let mut keys = Keys::new();
    keys.insert("merchant".into(), format!("m-{i}"));
    keys.insert("user".into(), "u-7".into());
    DigestRecord {
        time_us: T0 + i * 1_000,
        trace_id: TraceId(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
        span_id: SpanId(0x00f0_67aa_0ba9_0200 + i),
        parent_span_id: Some(SpanId(0x00f0_67aa_0ba9_02b7)),
        kind: SpanKind::Integrator,
        service: "bank-gateway".into(),
        instance: "bg-1".into(),
        zone: "gz-a".into(),
        operation: "icbc.debit".into(),
        peer: "icbc".into(),
        duration_us: 12_345 + i,
        success: false,
        code: "BANK_TIMEOUT".into(),
        error: Some("Timeout".into()),
        scene: "quick_pay".into(),
        channel: "SDK".into(),
        shadow: true,
        version: "2.1.0".into(),
        keys,
        amount_cents: Some(-12_500),
        sql_count: Some(3),
    }
}

fn minimal_record(i: u64, service: &str, kind: SpanKind) -> DigestRecord {
    DigestRecord {
        time_us: T0 + i * 1_000,
        trace_id: TraceId(0x1000 + i as u128),
        span_id: SpanId(0x2000 + i),
        kind,
        service: service.into(),
        operation: if i % 2 == 0 { "pay" } else { "query" }.into(),
        duration_us: i,
        success: true,
        code: if i % 3 == 0 { "SUCCESS" } else { "LIMIT" }.into(),
        scene: if i % 4 == 0 { "quick_pay" } else { "" }.into(),
        shadow: i % 5 == 0,
        ..Default::default()
    }
}

fn events() -> Vec<ChangeEvent> {
    [
        ChangeKind::Deploy,
        ChangeKind::Config,
        ChangeKind::Rule,
        ChangeKind::Switch,
        ChangeKind::Rollback,
    ]
    .into_iter()
    .enumerate()
    .map(|(i, event)| ChangeEvent {
        time_us: T0 + i as u64 * 1_000_000,
        event,
        service: "trade".into(),
        version: if i == 0 {
            "1.2.0".into()
        } else {
            String::new()
        },
        detail: format!("change {i}: \"quoted\"\n"),
        by: "healer".into(),
    })
    .collect()
}

#[tokio::test]
async fn every_row_type_round_trips() {
    let Some(url) = server_url() else { return };
    let (store, db) = open(&url, "roundtrip").await;
    let full: Vec<DigestRecord> = (0..3).map(full_record).collect();
    let mut minimal = minimal_record(1, "cashier", SpanKind::Server);
    minimal.trace_id = full[0].trace_id;
    minimal.time_us = T0 - 5;
    let internal = minimal_record(2, "cashier", SpanKind::Internal);
    let client = minimal_record(3, "cashier", SpanKind::Client);
    let mut batch = full.clone();
    batch.extend([minimal.clone(), internal.clone(), client.clone()]);
    store.insert(&batch).await.unwrap();
    store.insert(&[]).await.unwrap();
    assert_eq!(store.count().await.unwrap(), 6);

    let trace = store.trace(full[0].trace_id).await.unwrap();
    let mut want = vec![minimal.clone()];
    want.extend(full.clone());
    assert_eq!(
        trace, want,
        "whole trace, ordered by time, every field intact"
    );
    assert!(store.trace(TraceId(0xdead)).await.unwrap().is_empty());

    let all = store
        .query(&RecordQuery {
            from_us: 0,
            to_us: u64::MAX / 2,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 6);
    for r in [&internal, &client] {
        assert!(all.contains(r), "{r:?}");
    }

    let evs = events();
    store.insert_events(&evs).await.unwrap();
    assert_eq!(store.events(0, u64::MAX / 2).await.unwrap(), evs);
    assert_eq!(
        store.events(T0 + 1_000_000, T0 + 3_000_000).await.unwrap(),
        evs[1..3]
    );
    assert_eq!(
        store.count().await.unwrap(),
        6,
        "events are not call records"
    );
    drop_db(&url, &db).await;
}

#[tokio::test]
async fn queries_filter_and_cut() {
    let Some(url) = server_url() else { return };
    let (store, db) = open(&url, "query").await;
    let mut recs: Vec<DigestRecord> = (0..40)
        .map(|i| minimal_record(i, "cashier", SpanKind::Server))
        .collect();
    recs.extend((40..60).map(|i| minimal_record(i, "trade", SpanKind::Server)));
    // Insert in two batches, out of order.
    store.insert(&recs[30..]).await.unwrap();
    store.insert(&recs[..30]).await.unwrap();
    let q = |f: &dyn Fn(&mut RecordQuery)| {
        let mut q = RecordQuery {
            from_us: T0,
            to_us: T0 + 60_000,
            ..Default::default()
        };
        f(&mut q);
        q
    };
    let check = |got: Vec<DigestRecord>, pred: &dyn Fn(&DigestRecord) -> bool| {
        let want: Vec<_> = recs.iter().filter(|r| pred(r)).cloned().collect();
        assert_eq!(got, want);
    };
    check(store.query(&q(&|_| {})).await.unwrap(), &|_| true);
    check(
        store
            .query(&q(&|q| q.service = Some("trade".into())))
            .await
            .unwrap(),
        &|r| r.service == "trade",
    );
    check(
        store
            .query(&q(&|q| {
                q.operation = Some("pay".into());
                q.code = Some("SUCCESS".into());
            }))
            .await
            .unwrap(),
        &|r| r.operation == "pay" && r.code == "SUCCESS",
    );
    check(
        store
            .query(&q(&|q| q.scene = Some("quick_pay".into())))
            .await
            .unwrap(),
        &|r| r.scene == "quick_pay",
    );
    check(
        store.query(&q(&|q| q.shadow = Some(true))).await.unwrap(),
        &|r| r.shadow,
    );
    check(
        store.query(&q(&|q| q.shadow = Some(false))).await.unwrap(),
        &|r| !r.shadow,
    );
    // from inclusive, to exclusive
    check(
        store
            .query(&q(&|q| {
                q.from_us = T0 + 10_000;
                q.to_us = T0 + 20_000;
            }))
            .await
            .unwrap(),
        &|r| (T0 + 10_000..T0 + 20_000).contains(&r.time_us),
    );
    // limit keeps the newest, still ordered by time
    let cut = store.query(&q(&|q| q.limit = 5)).await.unwrap();
    assert_eq!(cut, recs[55..60]);
    // filter values are bound, not pasted into SQL
    let evil = store
        .query(&q(&|q| q.service = Some("x' OR 1=1 --".into())))
        .await
        .unwrap();
    assert!(evil.is_empty());
    drop_db(&url, &db).await;
}

#[tokio::test]
async fn schema_is_idempotent_and_retention_drops_days() {
    let Some(url) = server_url() else { return };
    let (store, db) = open(&url, "schema").await;
    let mut cfg = ClickHouseConfig::new(&url);
    cfg.database = db.clone();
    let again = ClickHouseStore::open(cfg.clone()).await.unwrap();
    assert_eq!(again.uses_low_cardinality(), store.uses_low_cardinality());
    assert_eq!(store.name(), "clickhouse");

    // The write-ahead sequence is stored with the rows: a reopened store knows it.
    assert_eq!(store.applied_seq(), Some(0));
    store
        .insert_batch(7, &[minimal_record(9, "x", SpanKind::Server)])
        .await
        .unwrap();
    store.insert_events_batch(8, &events()[..1]).await.unwrap();
    assert_eq!(store.applied_seq(), Some(8));
    let reopened = ClickHouseStore::open(cfg.clone()).await.unwrap();
    assert_eq!(reopened.applied_seq(), Some(8));
    assert_eq!(
        ClickHouseStore::new(cfg).unwrap().applied_seq(),
        None,
        "unknown until opened"
    );
    let c = clickhouse::Client::default()
        .with_url(&url)
        .with_database(&db)
        .with_validation(false);
    c.query("TRUNCATE TABLE digest_records")
        .execute()
        .await
        .unwrap();
    c.query("TRUNCATE TABLE change_events")
        .execute()
        .await
        .unwrap();
    let day = 86_400_000_000u64;
    let mut old = minimal_record(1, "cashier", SpanKind::Server);
    old.time_us = T0 - 3 * day;
    let new = minimal_record(2, "cashier", SpanKind::Server);
    store.insert(&[old, new.clone()]).await.unwrap();
    let mut ev = events();
    ev[0].time_us = T0 - 3 * day;
    again.insert_events(&ev).await.unwrap();
    let dropped = store.drop_days_before(T0 - day).await.unwrap();
    assert_eq!(dropped, 2, "one old partition in each table");
    assert_eq!(store.count().await.unwrap(), 1);
    let all = store
        .query(&RecordQuery {
            from_us: 0,
            to_us: u64::MAX / 2,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all, vec![new]);
    assert_eq!(store.events(0, u64::MAX / 2).await.unwrap(), ev[1..]);
    drop_db(&url, &db).await;
}

#[tokio::test]
async fn bad_config_is_refused_with_the_field_named() {
    let mut cfg = ClickHouseConfig::new("127.0.0.1:8123");
    let e = ClickHouseStore::new(cfg.clone()).err().unwrap();
    assert!(e.to_string().contains("`url`"), "{e}");
    cfg.url = "http://127.0.0.1:8123".into();
    cfg.database = "x; DROP".into();
    let e = ClickHouseStore::new(cfg).err().unwrap();
    assert!(e.to_string().contains("`database`"), "{e}");
    let e = serde_json::from_str::<ClickHouseConfig>(r#"{"url":"http://h:1","databse":"x"}"#)
        .unwrap_err();
    assert!(e.to_string().contains("databse"), "{e}");
}

#[tokio::test]
async fn a_down_server_is_unavailable_not_a_panic() {
    // A port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let store =
        ClickHouseStore::new(ClickHouseConfig::new(format!("http://127.0.0.1:{port}"))).unwrap();
    let e = store.insert(&[full_record(1)]).await.unwrap_err();
    assert!(matches!(e, StoreError::Unavailable(_)), "{e}");
    assert!(matches!(
        store.count().await.unwrap_err(),
        StoreError::Unavailable(_)
    ));
    assert!(matches!(
        ClickHouseStore::open(store.config().clone())
            .await
            .err()
            .unwrap(),
        StoreError::Unavailable(_)
    ));
}

// ------------------------------------------------------------ own server

fn find_server_binary() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/bin", "/usr/sbin", "/usr/local/bin"].map(PathBuf::from));
    dirs.into_iter()
        .map(|d| d.join("clickhouse-server"))
        .find(|p| p.exists())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A throwaway ClickHouse server (same config approach as `scripts/lib.sh`).
struct OwnServer {
    bin: PathBuf,
    dir: PathBuf,
    http: u16,
    child: Option<Child>,
}

impl OwnServer {
    fn new(bin: PathBuf) -> Self {
        let dir = std::env::temp_dir().join(unique_db("chsrv"));
        for sub in ["data", "tmp", "log"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let (http, tcp, inter) = (free_port(), free_port(), free_port());
        let d = dir.display();
        std::fs::write(
            dir.join("config.xml"),
            format!(
                r#"<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{d}/log/server.log</log><errorlog>{d}/log/error.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>{http}</http_port><tcp_port>{tcp}</tcp_port><interserver_http_port>{inter}</interserver_http_port>
  <path>{d}/data/</path><tmp_path>{d}/tmp/</tmp_path>
  <users_config>{d}/users.xml</users_config>
  <default_profile>default</default_profile><default_database>default</default_database>
  <timezone>UTC</timezone><mark_cache_size>268435456</mark_cache_size>
</yandex>
"#
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("users.xml"),
            r#"<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
"#,
        )
        .unwrap();
        Self {
            bin,
            dir,
            http,
            child: None,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http)
    }

    fn ping(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.http)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        if s.write_all(b"GET /ping HTTP/1.0\r\n\r\n").is_err() {
            return false;
        }
        let mut buf = String::new();
        let _ = s.read_to_string(&mut buf);
        buf.starts_with("HTTP/1.0 200") || buf.starts_with("HTTP/1.1 200")
    }

    fn start(&mut self) {
        let child = Command::new(&self.bin)
            .arg(format!(
                "--config-file={}",
                self.dir.join("config.xml").display()
            ))
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start clickhouse-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.ping() {
            assert!(
                Instant::now() < deadline,
                "own ClickHouse did not answer /ping; see {}",
                self.dir.display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGTERM and wait for the process to end (SIGKILL after 20 s).
    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while c.try_wait().ok().flatten().is_none() {
                if Instant::now() > deadline {
                    let _ = c.kill();
                    let _ = c.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn own_server() -> Option<OwnServer> {
    match find_server_binary() {
        Some(bin) => Some(OwnServer::new(bin)),
        None if in_ci() => panic!("clickhouse-server binary not found and CI=true"),
        None => {
            eprintln!(
                "NOTICE: clickhouse-server not installed; restart test skipped (run scripts/test)"
            );
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_down_then_back_loses_nothing() {
    let Some(mut srv) = own_server() else { return };
    let store = ClickHouseStore::new(ClickHouseConfig::new(srv.url())).unwrap();
    // Down before the first write: Unavailable, schema not yet made.
    let first: Vec<DigestRecord> = (0..100)
        .map(|i| minimal_record(i, "cashier", SpanKind::Server))
        .collect();
    assert!(matches!(
        store.insert(&first).await.unwrap_err(),
        StoreError::Unavailable(_)
    ));
    tokio::task::block_in_place(|| srv.start());
    store
        .insert(&first)
        .await
        .expect("written once the server is up");

    // Down mid-run: the batch is refused as Unavailable, then written on retry.
    tokio::task::block_in_place(|| srv.stop());
    let second: Vec<DigestRecord> = (100..300)
        .map(|i| minimal_record(i, "trade", SpanKind::Client))
        .collect();
    let e = store.insert(&second).await.unwrap_err();
    assert!(matches!(e, StoreError::Unavailable(_)), "{e}");
    assert!(matches!(
        store.count().await.unwrap_err(),
        StoreError::Unavailable(_)
    ));
    tokio::task::block_in_place(|| srv.start());
    let mut tries = 0;
    loop {
        match store.insert(&second).await {
            Ok(()) => break,
            Err(StoreError::Unavailable(e)) if tries < 50 => {
                tries += 1;
                eprintln!("retry {tries}: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(store.count().await.unwrap(), 300);
    assert_eq!(
        store.trace(second[7].trace_id).await.unwrap(),
        vec![second[7].clone()]
    );
    let _ = Path::new(&srv.dir);
}

#[tokio::test]
async fn a_hung_server_times_out_as_unavailable() {
    // Accepts connections, never answers.
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut conns = Vec::new();
        while let Ok((c, _)) = l.accept().await {
            conns.push(c);
        }
    });
    let mut cfg = ClickHouseConfig::new(format!("http://127.0.0.1:{port}"));
    cfg.timeout_ms = 300;
    let store = ClickHouseStore::new(cfg).unwrap();
    let e = store.insert(&[full_record(1)]).await.unwrap_err();
    assert!(matches!(e, StoreError::Unavailable(_)), "{e}");
    assert!(e.to_string().contains("300 ms"), "{e}");
    hold.abort();
}

/// The contract end to end: batches acknowledged while ClickHouse is down wait
/// in the write-ahead buffer and are written when it returns; a restarted
/// pipeline replays nothing twice (the rows carry their `wal_seq`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_keeps_batches_while_clickhouse_is_down() {
    use collector::{Pipeline, PipelineConfig};
    use std::sync::Arc;
    let Some(mut srv) = own_server() else { return };
    let data = srv.dir.join("collector-data");
    let clock: digest::SharedClock = Arc::new(digest::ManualClock::new(T0));
    let cfg = PipelineConfig {
        data_dir: data.clone(),
        ..PipelineConfig::default()
    };
    let store = Arc::new(ClickHouseStore::new(ClickHouseConfig::new(srv.url())).unwrap());
    let p = Pipeline::open(cfg.clone(), store.clone(), clock.clone()).unwrap();
    for b in 0..5u64 {
        let recs: Vec<DigestRecord> = (b * 100..b * 100 + 100)
            .map(|i| minimal_record(i, "cashier", SpanKind::Server))
            .collect();
        let receipt = p
            .ingest_records(recs)
            .await
            .expect("acknowledged while ClickHouse is down");
        assert_eq!(receipt.accepted, 100);
    }
    assert!(matches!(
        store.count().await.unwrap_err(),
        StoreError::Unavailable(_)
    ));
    tokio::task::block_in_place(|| srv.start());
    tokio::time::timeout(Duration::from_secs(90), p.flush())
        .await
        .expect("everything stored once ClickHouse is back");
    assert_eq!(store.count().await.unwrap(), 500);
    drop(p);

    let store2 = Arc::new(
        ClickHouseStore::open(ClickHouseConfig::new(srv.url()))
            .await
            .unwrap(),
    );
    assert!(store2.applied_seq().unwrap_or(0) >= 1, "wal_seq read back");
    let p2 = Pipeline::open(cfg, store2.clone(), clock).unwrap();
    tokio::time::timeout(Duration::from_secs(60), p2.flush())
        .await
        .unwrap();
    assert_eq!(store2.count().await.unwrap(), 500, "nothing replayed twice");
    drop(p2);

    // A client retries a batch stored before the restart, and the write-ahead
    // buffer no longer holds it (a fresh data dir): the duplicate window is
    // rebuilt from ClickHouse itself.
    let store3 = Arc::new(
        ClickHouseStore::open(ClickHouseConfig::new(srv.url()))
            .await
            .unwrap(),
    );
    assert_eq!(store3.recent_keys(1_000).len(), 500);
    let fresh = PipelineConfig {
        data_dir: srv.dir.join("collector-data-2"),
        ..PipelineConfig::default()
    };
    let clock3: digest::SharedClock = Arc::new(digest::ManualClock::new(T0));
    let p3 = Pipeline::open(fresh, store3.clone(), clock3).unwrap();
    let retry: Vec<DigestRecord> = (0..100)
        .map(|i| minimal_record(i, "cashier", SpanKind::Server))
        .collect();
    let receipt = p3.ingest_records(retry).await.unwrap();
    assert_eq!(
        receipt.accepted, 100,
        "a duplicate is acknowledged, not refused"
    );
    tokio::time::timeout(Duration::from_secs(60), p3.flush())
        .await
        .unwrap();
    assert_eq!(
        store3.count().await.unwrap(),
        500,
        "the retry was not stored twice"
    );
}
