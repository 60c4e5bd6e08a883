//! The example's two sides, over any byte stream (a TCP connection in
//! `main.rs`, an in-memory pipe in `tests/layer_service.rs`): `checkout` serves
//! `PAY` requests and calls the bank; `web` is its caller. Every handler and
//! every outgoing call is a `tracing` span with target `"digest"` whose fields
//! are the digest record's, so the installed `digest::DigestLayer` writes one v1
//! line per span when it closes. The ids travel in the request, as a trace
//! context header would.
//!
//! Wire format, one line each way: `PAY <trace id hex> <caller span id hex>
//! <user> <amount_cents>` and `OK <code>` (or `ERR <reason>`).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tracing::field::Empty;
use tracing::{Instrument, Span};

/// The service this example runs.
pub const CHECKOUT: &str = "checkout";
/// Its caller.
pub const WEB: &str = "web";
/// The bank `checkout` debits (a call out of the platform).
pub const BANK: &str = "bank-a";
/// Payments above this many cents the bank declines.
pub const BANK_LIMIT_CENTS: i64 = 100_000;
/// How long the bank takes, as simulated time added to the span (`extra_us`).
pub const BANK_LATENCY_US: u64 = 1_500;

/// A fresh non-zero id (hashes of a counter under a random key).
fn fresh_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(NEXT.fetch_add(1, Ordering::Relaxed));
    h.finish() | 1
}

/// Serves `PAY` requests on `stream` until the caller closes it.
pub async fn serve<S: AsyncRead + AsyncWrite>(stream: S) -> io::Result<()> {
    let (read, mut write) = tokio::io::split(stream);
    let mut lines = BufReader::new(read).lines();
    while let Some(line) = lines.next_line().await? {
        let reply = match parse_request(&line) {
            Some(req) => handle_pay(req).await,
            None => "ERR bad request".to_string(),
        };
        write.write_all(format!("{reply}\n").as_bytes()).await?;
    }
    Ok(())
}

struct PayRequest {
    trace_id: u128,
    caller_span_id: u64,
    user: String,
    amount_cents: i64,
}

fn parse_request(line: &str) -> Option<PayRequest> {
    let mut words = line.split(' ');
    (words.next()? == "PAY").then_some(())?;
    let req = PayRequest {
        trace_id: u128::from_str_radix(words.next()?, 16).ok()?,
        caller_span_id: u64::from_str_radix(words.next()?, 16).ok()?,
        user: words.next()?.to_string(),
        amount_cents: words.next()?.parse().ok()?,
    };
    words.next().is_none().then_some(req)
}

/// The `checkout` handler: its server span is the caller's span's child.
async fn handle_pay(req: PayRequest) -> String {
    let span_id = fresh_id();
    let span = tracing::info_span!(target: "digest", "Checkout.pay",
        kind = "server", service = CHECKOUT, operation = "Checkout.pay", peer = WEB,
        scene = "quick_pay", trace_id = req.trace_id, span_id,
        parent_span_id = req.caller_span_id, amount_cents = req.amount_cents,
        key.user = req.user.as_str(), code = Empty, success = Empty);
    async move {
        let code = debit_bank(req.trace_id, span_id, req.amount_cents).await;
        let span = Span::current();
        span.record("code", code);
        span.record("success", code == "SUCCESS");
        format!("OK {code}")
    }
    .instrument(span)
    .await
}

/// The call to the bank, an `integrator` span under the handler's.
async fn debit_bank(trace_id: u128, parent_span_id: u64, amount_cents: i64) -> &'static str {
    let span = tracing::info_span!(target: "digest", "BankChannel.debit",
        kind = "integrator", service = CHECKOUT, operation = "BankChannel.debit", peer = BANK,
        trace_id, span_id = fresh_id(), parent_span_id, amount_cents,
        extra_us = BANK_LATENCY_US, code = Empty, success = Empty);
    async move {
        // Stands in for the bank's answer, without sleeping.
        tokio::task::yield_now().await;
        let code = if amount_cents > BANK_LIMIT_CENTS {
            "BANK_DECLINED"
        } else {
            "SUCCESS"
        };
        let span = Span::current();
        span.record("code", code);
        span.record("success", code == "SUCCESS");
        code
    }
    .instrument(span)
    .await
}

/// The caller's side of one payment over `conn`: a `web` client span around the
/// request, the root of a new trace. Returns `checkout`'s reply.
pub async fn pay<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut BufReader<S>,
    user: &str,
    amount_cents: i64,
) -> io::Result<String> {
    let trace_id = (fresh_id() as u128) << 64 | fresh_id() as u128;
    let span_id = fresh_id();
    let span = tracing::info_span!(target: "digest", "Checkout.pay",
        kind = "client", service = WEB, operation = "Checkout.pay", peer = CHECKOUT,
        scene = "quick_pay", trace_id, span_id, amount_cents, key.user = user,
        code = Empty, success = Empty);
    async move {
        let request = format!("PAY {trace_id:032x} {span_id:016x} {user} {amount_cents}\n");
        conn.write_all(request.as_bytes()).await?;
        let mut reply = String::new();
        conn.read_line(&mut reply).await?;
        let reply = reply.trim_end().to_string();
        let code = reply.strip_prefix("OK ").unwrap_or("CHECKOUT_ERROR");
        let span = Span::current();
        span.record("code", code);
        span.record("success", code == "SUCCESS");
        Ok(reply)
    }
    .instrument(span)
    .await
}
