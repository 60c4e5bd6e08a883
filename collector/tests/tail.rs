//! File tailing: partial lines wait, bad lines are counted, a refused batch is
//! offered again, checkpoints make a restart neither re-read nor skip, and
//! rename rotation and copytruncate are followed. Each test drives
//! `Tailer::poll_once` step by step (no sleeping), on real files.

use collector::BoxFuture;
use collector::{TailBatch, TailConfig, TailError, TailSink, Tailer};
use digest::{encode_record, DigestRecord, SpanId, SpanKind, TraceId};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Sink {
    got: Arc<Mutex<Vec<TailBatch>>>,
    refuse: Arc<AtomicBool>,
}

impl TailSink for Sink {
    fn deliver(&self, batch: TailBatch) -> BoxFuture<'_, Result<(), TailError>> {
        Box::pin(async move {
            if self.refuse.load(Ordering::SeqCst) {
                return Err(TailError::Refused {
                    reason: "queue full".into(),
                    retry_after_s: Some(2),
                });
            }
            self.got.lock().unwrap().push(batch);
            Ok(())
        })
    }
}

impl Sink {
    fn records(&self) -> Vec<DigestRecord> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .flat_map(|b| b.records.clone())
            .collect()
    }
    fn ops(&self) -> Vec<String> {
        self.records().into_iter().map(|r| r.operation).collect()
    }
}

static N: AtomicU32 = AtomicU32::new(0);

/// A scratch directory, removed when the test ends.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch() -> Scratch {
    let d = std::env::temp_dir().join(format!(
        "wr-tail-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    Scratch(d)
}

fn rec(op: &str) -> DigestRecord {
    DigestRecord {
        time_us: 1_795_784_497_000_000,
        trace_id: TraceId(0xabc),
        span_id: SpanId(0x1 + op.len() as u64),
        kind: SpanKind::Server,
        service: "cashier".into(),
        operation: op.into(),
        duration_us: 10,
        success: true,
        code: "SUCCESS".into(),
        ..Default::default()
    }
}

fn line(op: &str) -> Vec<u8> {
    let mut v = Vec::new();
    encode_record(&mut v, &rec(op));
    v
}

fn append(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(bytes).unwrap();
}

fn tailer(dir: &Path, sink: &Sink) -> Tailer<Sink> {
    let cfg = TailConfig::new(
        vec![
            format!("{}/*-digest.log", dir.display()),
            format!("{}/*-stat.log", dir.display()),
        ],
        dir.join("ckpt/tail-checkpoints.json"),
    );
    Tailer::open(cfg, sink.clone()).unwrap()
}

#[tokio::test]
async fn partial_line_waits_for_its_newline() {
    let dir = scratch();
    let log = dir.join("cashier-digest.log");
    let l2 = line("two");
    append(&log, &[line("one"), l2[..20].to_vec()].concat());
    let sink = Sink::default();
    let mut t = tailer(&dir, &sink);
    let r = t.poll_once().await.unwrap();
    assert_eq!((r.lines, r.batches_delivered), (1, 1));
    assert_eq!(sink.ops(), ["one"]);
    assert_eq!(
        t.poll_once().await.unwrap().lines,
        0,
        "nothing new while the line is partial"
    );
    append(&log, &l2[20..]);
    t.poll_once().await.unwrap();
    assert_eq!(sink.ops(), ["one", "two"]);
    assert_eq!(sink.records()[1], rec("two"));
}

#[tokio::test]
async fn bad_lines_are_counted_and_spare_their_neighbours() {
    let dir = scratch();
    let log = dir.join("cashier-digest.log");
    append(
        &log,
        &[
            line("a"),
            b"not json\n".to_vec(),
            b"{\"time\":\"2026-11-27T13:01:37Z\"}\n".to_vec(),
            b"\r\n".to_vec(),
            line("b"),
        ]
        .concat(),
    );
    let sink = Sink::default();
    let mut t = tailer(&dir, &sink);
    t.poll_once().await.unwrap();
    assert_eq!(sink.ops(), ["a", "b"]);
    let s = t.stats();
    assert_eq!(s.rejected_total, 2);
    assert_eq!(s.rejected_by_reason.get("malformed_json"), Some(&1));
    assert_eq!(s.rejected_by_reason.get("missing_field"), Some(&1));
    assert_eq!(s.lines_accepted, 2);
    assert_eq!(s.recent_bad_lines[0].offset, line("a").len() as u64);
    assert_eq!(
        *t.shared_stats().lock(),
        *t.stats(),
        "the shared copy follows each poll"
    );
}

#[tokio::test]
async fn refused_batches_are_offered_again_and_not_checkpointed() {
    let dir = scratch();
    let log = dir.join("cashier-digest.log");
    append(&log, &[line("a"), line("b")].concat());
    let sink = Sink::default();
    sink.refuse.store(true, Ordering::SeqCst);
    let mut t = tailer(&dir, &sink);
    let r = t.poll_once().await.unwrap();
    assert!(r.refused);
    assert_eq!(r.retry_after_s, Some(2));
    assert_eq!(t.stats().deliveries_refused, 1);
    drop(t);
    // A restart after the refusal still has everything to deliver.
    let mut t = tailer(&dir, &sink);
    assert!(t.poll_once().await.unwrap().refused);
    sink.refuse.store(false, Ordering::SeqCst);
    t.poll_once().await.unwrap();
    assert_eq!(sink.ops(), ["a", "b"]);
    assert_eq!(
        t.stats().rejected_total,
        0,
        "refusals never count lines as bad"
    );
}

#[tokio::test]
async fn restart_neither_rereads_nor_skips() {
    let dir = scratch();
    let log = dir.join("cashier-digest.log");
    append(&log, &[line("a"), line("b")].concat());
    let sink = Sink::default();
    let mut t = tailer(&dir, &sink);
    t.poll_once().await.unwrap();
    drop(t);
    append(&log, &[line("c"), line("d")].concat());
    let mut t = tailer(&dir, &sink);
    t.poll_once().await.unwrap();
    assert_eq!(sink.ops(), ["a", "b", "c", "d"]);
    // A corrupt checkpoint file is an error, not a silent re-read.
    std::fs::write(dir.join("ckpt/tail-checkpoints.json"), b"{oops").unwrap();
    let cfg = TailConfig::new(
        vec![format!("{}/*.log", dir.display())],
        dir.join("ckpt/tail-checkpoints.json"),
    );
    assert!(matches!(
        Tailer::open(cfg, sink.clone()),
        Err(TailError::Checkpoint(_))
    ));
}

#[tokio::test]
async fn follows_rename_rotation() {
    let dir = scratch();
    let log = dir.join("cashier-digest.log");
    append(&log, &line("a"));
    let sink = Sink::default();
    let mut t = tailer(&dir, &sink);
    t.poll_once().await.unwrap();
    // Written just before rotation, not yet read:
    append(&log, &line("b"));
    std::fs::rename(&log, dir.join("cashier-digest.log.1")).unwrap();
    append(&log, &line("c"));
    t.poll_once().await.unwrap();
    let mut ops = sink.ops();
    ops.sort();
    assert_eq!(
        ops,
        ["a", "b", "c"],
        "old file drained through its handle, new file picked up"
    );
    for _ in 0..3 {
        t.poll_once().await.unwrap();
    }
    assert_eq!(t.stats().rotations, 1);
    assert_eq!(t.stats().files_followed, 1);
    append(&log, &line("d"));
    t.poll_once().await.unwrap();
    assert_eq!(sink.records().len(), 4);
    // After a restart the new file continues where it was.
    drop(t);
    let mut t = tailer(&dir, &sink);
    t.poll_once().await.unwrap();
    assert_eq!(sink.records().len(), 4);
}

#[tokio::test]
async fn follows_copytruncate() {
    let dir = scratch();
    let log = dir.join("cashier-digest.log");
    append(&log, &[line("a"), line("bb")].concat());
    let sink = Sink::default();
    let mut t = tailer(&dir, &sink);
    t.poll_once().await.unwrap();
    // copytruncate: same inode, emptied, then written again (shorter than before)
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&log)
        .unwrap();
    append(&log, &line("c"));
    t.poll_once().await.unwrap();
    assert_eq!(sink.ops(), ["a", "bb", "c"]);
    assert_eq!(t.stats().truncations, 1);
    // truncated and rewritten past the old offset before the next poll: the head changed
    std::fs::write(
        &log,
        [
            line("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
            line("e"),
        ]
        .concat(),
    )
    .unwrap();
    t.poll_once().await.unwrap();
    assert_eq!(t.stats().truncations, 2);
    assert_eq!(sink.records().len(), 5);
}

#[tokio::test]
async fn sofatracer_files_by_name() {
    let dir = scratch();
    append(
        &dir.join("rpc-client-digest.log"),
        br#"{"timestamp":"2018-05-20 17:03:20.708","tracerId":"1e27326d1526807000498100185597","spanId":"0.1","span.kind":"client","local.app":"cashier","service":"com.pay.TradeService:1.0","method":"create","remote.app":"trade","result.code":"00","client.elapse.time":"155"}
"#,
    );
    append(
        &dir.join("rpc-client-stat.log"),
        br#"{"time":"2018-06-03 16:44:02.473","stat.key":{"local.app":"cashier","service":"com.pay.TradeService:1.0","method":"create","remote.app":"trade"},"count":5,"total.cost.milliseconds":149,"success":"Y","load.test":"F"}
"#,
    );
    let sink = Sink::default();
    let mut t = tailer(&dir, &sink);
    t.poll_once().await.unwrap();
    let recs = sink.records();
    assert_eq!(recs.len(), 1);
    assert_eq!(
        (recs[0].service.as_str(), recs[0].peer.as_str()),
        ("cashier", "trade")
    );
    let stats: Vec<_> = sink
        .got
        .lock()
        .unwrap()
        .iter()
        .flat_map(|b| b.stats.clone())
        .collect();
    assert_eq!(stats.len(), 1);
    assert_eq!(stats[0].count, 5);
    assert_eq!((t.stats().records, t.stats().stat_lines), (1, 1));
}

#[tokio::test]
async fn over_long_lines_are_skipped() {
    let dir = scratch();
    let log = dir.join("cashier-digest.log");
    let mut long = vec![b'x'; 1000];
    assert!(line("a").len() < 300);
    long.push(b'\n');
    append(&log, &[line("a"), long, line("b")].concat());
    let sink = Sink::default();
    let mut cfg = TailConfig::new(
        vec![format!("{}/*-digest.log", dir.display())],
        dir.join("ck.json"),
    );
    cfg.max_line_bytes = 300;
    cfg.batch_bytes = 300;
    let mut t = Tailer::open(cfg, sink.clone()).unwrap();
    t.poll_once().await.unwrap();
    assert_eq!(sink.ops(), ["a", "b"]);
    assert_eq!(t.stats().rejected_by_reason.get("line_too_long"), Some(&1));
}

#[tokio::test]
async fn config_errors_name_the_field() {
    let e = Tailer::open(TailConfig::new(vec![], "/tmp/x.json"), Sink::default())
        .err()
        .unwrap();
    assert!(e.to_string().contains("`globs`"), "{e}");
    let e = Tailer::open(
        TailConfig::new(vec!["[".into()], "/tmp/x.json"),
        Sink::default(),
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("bad pattern"), "{e}");
    let e =
        serde_json::from_str::<TailConfig>(r#"{"globs":["a"],"checkpoint_path":"c","poll_ms":1}"#)
            .unwrap_err();
    assert!(e.to_string().contains("poll_ms"), "{e}");
}

#[tokio::test]
async fn run_polls_until_shutdown() {
    let dir = scratch();
    let log = dir.join("cashier-digest.log");
    append(&log, &line("a"));
    let sink = Sink::default();
    let mut cfg = TailConfig::new(
        vec![format!("{}/*-digest.log", dir.display())],
        dir.join("ck.json"),
    );
    cfg.poll_interval_ms = 5;
    let t = Tailer::open(cfg, sink.clone()).unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(t.run(async move {
        let _ = rx.await;
    }));
    append(&log, &line("b"));
    for _ in 0..400 {
        if sink.records().len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    tx.send(()).unwrap();
    let stats = task.await.unwrap().unwrap();
    assert_eq!(stats.records, 2);
}

/// Property: lines written in random pieces, with random refusals and restarts
/// between polls, arrive exactly once and in order.
#[tokio::test]
async fn random_pieces_refusals_and_restarts_deliver_exactly_once() {
    use rand::{rngs::SmallRng, Rng, SeedableRng};
    let mut rng = SmallRng::seed_from_u64(44);
    for round in 0..5 {
        let dir = scratch();
        let log = dir.join("cashier-digest.log");
        let want: Vec<String> = (0..200).map(|i| format!("op{round}-{i}")).collect();
        let bytes: Vec<u8> = want.iter().flat_map(|o| line(o)).collect();
        let sink = Sink::default();
        let mut t = tailer(&dir, &sink);
        let mut at = 0;
        while at < bytes.len() {
            let n = rng.random_range(1..400).min(bytes.len() - at);
            append(&log, &bytes[at..at + n]);
            at += n;
            sink.refuse.store(rng.random_bool(0.3), Ordering::SeqCst);
            t.poll_once().await.unwrap();
            if rng.random_bool(0.1) {
                drop(t);
                t = tailer(&dir, &sink);
            }
        }
        sink.refuse.store(false, Ordering::SeqCst);
        t.poll_once().await.unwrap();
        assert_eq!(sink.ops(), want);
    }
}
