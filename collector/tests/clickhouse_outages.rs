//! The ClickHouse store through outages: a server that goes down and comes
//! back turns into `Unavailable` and then into a successful retry, a hung one
//! times out as `Unavailable`, and the pipeline keeps acknowledged batches in
//! its write-ahead buffer until ClickHouse returns.
//!
//! The restart tests run a ClickHouse server of their own (Debian's
//! `clickhouse-server` binary); without it they fail when `CI=true` and print a
//! notice and pass otherwise.

mod clickhouse_common;

use clickhouse_common::{full_record, in_ci, minimal_record, unique_db, T0};
use collector::{ClickHouseConfig, ClickHouseStore, Store, StoreError};
use digest::{DigestRecord, SpanKind};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
