//! `payments-sim-node`: some of payments-sim's services in this process, each on its
//! own loopback port, the others reached over HTTP at the URLs given — so the
//! system can run as several processes. Prints one JSON line with the bound
//! addresses, serves until its standard input closes, then flushes its digests and
//! exits.
//!
//! ```text
//! payments-sim-node --serve payment-engine,bank-gateway,accounting,risk,marketing,clearing \
//!     --peer cashier=http://127.0.0.1:7001 --peer trade=http://127.0.0.1:7002 --peer payment=http://127.0.0.1:7003 \
//!     [--digest-dir DIR] [--delays real|virtual] [--hold-us N]
//! ```

use digest::Sink;
use digest::{FileSink, FileSinkConfig};
use payments_sim::msg::Service;
use payments_sim::{Delays, Mode, SimBuilder, SimConfig};
use std::io::BufRead;
use std::sync::Arc;
use std::time::Duration;

fn usage(msg: &str) -> ! {
    eprintln!("payments-sim-node: {msg}\nusage: payments-sim-node --serve SVC[,SVC…] [--peer SVC=URL]… [--digest-dir DIR] [--delays real|virtual] [--hold-us N]");
    std::process::exit(2)
}

fn service(name: &str) -> Service {
    Service::from_name(name).unwrap_or_else(|| {
        let known: Vec<_> = Service::ALL.iter().map(|s| s.name()).collect();
        usage(&format!("unknown service {name:?} (known: {known:?})"))
    })
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut serve = Vec::new();
    let mut peers = Vec::new();
    let mut dir = None;
    let mut cfg = SimConfig::default();
    while let Some(a) = args.next() {
        let mut val = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--serve" => serve.extend(val().split(',').map(service)),
            "--peer" => {
                let v = val();
                let (s, u) = v
                    .split_once('=')
                    .unwrap_or_else(|| usage("--peer is SVC=URL"));
                peers.push((service(s), u.to_string()));
            }
            "--digest-dir" => dir = Some(val()),
            "--delays" => {
                cfg.delays = match val().as_str() {
                    "real" => Delays::Real,
                    "virtual" => Delays::Virtual,
                    o => usage(&format!("--delays {o:?} is not real or virtual")),
                }
            }
            "--hold-us" => {
                cfg.ledger.hold_us = val()
                    .parse()
                    .unwrap_or_else(|_| usage("--hold-us is a number"))
            }
            o => usage(&format!("unknown argument {o:?}")),
        }
    }
    if serve.is_empty() {
        usage("--serve is required");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| usage(&format!("runtime: {e}")));
    rt.block_on(async move {
        let sink: Option<Arc<dyn Sink>> = dir.map(|d| {
            let s = FileSink::start(FileSinkConfig {
                dir: d.into(),
                flush_interval_ms: 50,
                ..Default::default()
            })
            .unwrap_or_else(|e| usage(&format!("--digest-dir: {e}")));
            Arc::new(s) as Arc<dyn Sink>
        });
        let mut b = SimBuilder::new()
            .config(cfg)
            .mode(Mode::Http)
            .serve_only(serve);
        for (s, u) in peers {
            b = b.remote(s, u);
        }
        if let Some(s) = &sink {
            b = b.sink(s.clone());
        }
        let sim = b.build().await.unwrap_or_else(|e| usage(&e.to_string()));
        let addrs: serde_json::Map<String, serde_json::Value> = sim
            .addrs()
            .into_iter()
            .map(|(s, a)| (s.to_string(), a.to_string().into()))
            .collect();
        println!("{}", serde_json::json!({ "services": addrs }));
        // Serve until stdin closes.
        let _ = tokio::task::spawn_blocking(|| {
            let stdin = std::io::stdin();
            for line in stdin.lock().lines() {
                if line.is_err() {
                    break;
                }
            }
        })
        .await;
        sim.shutdown();
        if let Some(s) = sink {
            s.flush(Duration::from_secs(10));
        }
    });
}
