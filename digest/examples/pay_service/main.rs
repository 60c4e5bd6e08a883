//! A small tokio service that writes digests through `digest::DigestLayer`:
//! `checkout` listens on a loopback port, `web` pays over one connection, and
//! every handler and call (see `service.rs`) is a `tracing` span the layer turns
//! into a v1 line in `DIR/<service>-digest.log` (a rolling `digest::FileSink`,
//! which `warroom collect --tail 'DIR/*-digest.log'` can follow).
//!
//! `cargo run -p digest --example pay_service [DIR]` (default `digests`).

mod service;

use digest::{DigestLayer, FileSink, FileSinkConfig, Sink, SystemClock};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::BufReader;
use tokio::net::{TcpListener, TcpStream};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "digests".into());
    let sink = Arc::new(FileSink::start(FileSinkConfig {
        dir: dir.clone().into(),
        ..FileSinkConfig::default()
    })?);
    // One layer for the whole process; `instance` is written for spans that
    // do not name their own.
    let layer = DigestLayer::new(sink.clone(), Arc::new(SystemClock), "pay-example-1");
    let invalid = layer.invalid();
    tracing::subscriber::set_global_default(digest::subscriber(layer))?;

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(service::serve(stream));
        }
    });

    let mut conn = BufReader::new(TcpStream::connect(addr).await?);
    for (user, amount_cents) in [("u-1", 1_999), ("u-2", 45_000), ("u-3", 250_000)] {
        let reply = service::pay(&mut conn, user, amount_cents).await?;
        println!("{user} pays {amount_cents} cents: {reply}");
    }
    drop(conn);

    sink.flush(Duration::from_secs(5));
    let stats = sink.stats();
    println!(
        "{} digest lines written to {dir}/{{{},{}}}-digest.log ({} spans lacked a required field)",
        stats.delivered,
        service::WEB,
        service::CHECKOUT,
        invalid.load(std::sync::atomic::Ordering::Relaxed)
    );
    Ok(())
}
