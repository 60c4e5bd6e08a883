//! payments-sim as two processes: this test serves cashier, trade and payment; a
//! child `payments-sim-node` serves the other six. Trace context crosses the
//! process boundary: every client record on either side has its server record,
//! in the same trace, in the other process's digests.

mod common;

use common::*;
use digest::MemorySink;
use digest::{decode_record, DigestRecord, SpanKind};
use payments_sim::msg::Service;
use payments_sim::{LoadConfig, Mode, SimBuilder};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_context_crosses_processes() {
    let dir = std::env::temp_dir().join(format!("payments-sim-mp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // Reserve our own listeners first, so the child knows where to call back.
    let here = [Service::Cashier, Service::Trade, Service::Payment];
    let there = [
        Service::Risk,
        Service::Marketing,
        Service::PaymentEngine,
        Service::BankGateway,
        Service::Accounting,
        Service::Clearing,
    ];
    // Start the child with placeholder peers it never calls back: the six services
    // it serves call only each other.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_payments-sim-node"));
    cmd.arg("--serve")
        .arg(there.iter().map(|s| s.name()).collect::<Vec<_>>().join(","))
        .args(["--delays", "virtual", "--hold-us", "0", "--digest-dir"])
        .arg(&dir);
    for s in here {
        cmd.args(["--peer", &format!("{}=http://127.0.0.1:9", s.name())]);
    }
    let mut child = Child(
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn payments-sim-node"),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).expect("address line");
    let mut b = SimBuilder::new()
        .config(fast_config())
        .mode(Mode::Http)
        .serve_only(here.to_vec());
    for s in there {
        let addr = v["services"][s.name()].as_str().expect("child serves it");
        b = b.remote(s, format!("http://{addr}"));
    }
    let sink = Arc::new(MemorySink::new());
    let sim = Arc::new(b.sink(sink.clone()).build().await.unwrap());
    let load = LoadConfig {
        coupon_fraction: 0.5,
        ..LoadConfig::default()
    };
    let out = pay_many(&sim, &load, 60, 8).await;
    assert!(
        out.iter().filter(|o| o.ok).count() >= 55,
        "{:?}",
        out.iter().map(|o| &o.code).collect::<Vec<_>>()
    );
    // Closing stdin makes the child flush its digests and exit.
    drop(child.0.stdin.take());
    assert!(child.0.wait().unwrap().success());
    let mut theirs: Vec<DigestRecord> = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let body = std::fs::read(e.unwrap().path()).unwrap();
        for l in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            theirs.push(decode_record(l).expect("child writes v1"));
        }
    }
    let ours = decode_all(&sink);
    assert!(ours
        .iter()
        .all(|r| here.iter().any(|s| s.name() == r.service)));
    assert!(theirs
        .iter()
        .all(|r| there.iter().any(|s| s.name() == r.service)));
    let all: Vec<DigestRecord> = ours.iter().chain(&theirs).cloned().collect();
    check_topology(&all);
    // The calls that crossed: ours → theirs.
    let servers: HashMap<_, _> = theirs
        .iter()
        .filter(|r| r.kind == SpanKind::Server)
        .filter_map(|r| r.parent_span_id.map(|p| ((r.trace_id, p), r)))
        .collect();
    let crossed: Vec<_> = ours
        .iter()
        .filter(|r| r.kind == SpanKind::Client && there.iter().any(|s| s.name() == r.peer))
        .collect();
    assert!(crossed.len() >= 60, "{} crossing calls", crossed.len());
    for c in crossed {
        let s = servers
            .get(&(c.trace_id, c.span_id))
            .expect("server side in the other process");
        assert_eq!(s.peer, c.service);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
