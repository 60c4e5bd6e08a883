//! A generator of realistic v1 digest lines (~440 bytes each) for benchmarks
//! and load tests: payment services, operations, scenes, zones, business keys
//! and a few percent failures. Deterministic for a seed; no I/O.

use digest::{encode_record, DigestRecord, Keys, SpanId, SpanKind, TraceId};

/// A small xorshift generator (deterministic, dependency-free).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

const CALLS: [(&str, &str, &str, SpanKind); 8] = [
    (
        "cashier",
        "CashierFacade.submitOrder",
        "trade",
        SpanKind::Client,
    ),
    (
        "trade",
        "TradeService.createAcquiringOrder",
        "cashier",
        SpanKind::Server,
    ),
    ("trade", "PaymentService.pay", "payment", SpanKind::Client),
    ("payment", "PaymentEngine.route", "trade", SpanKind::Server),
    (
        "payment",
        "AccountingCore.debitHotAccount",
        "accounting",
        SpanKind::Client,
    ),
    (
        "accounting",
        "LedgerService.post",
        "payment",
        SpanKind::Server,
    ),
    (
        "bank-gateway",
        "BankChannel.debit",
        "icbc",
        SpanKind::Integrator,
    ),
    ("risk", "RiskEngine.evaluate", "trade", SpanKind::Server),
];
const SCENES: [&str; 4] = ["quick_pay", "balance_pay", "red_envelope", "refund"];
const CHANNELS: [&str; 4] = ["SDK", "WAP", "PC", "POS"];
const ZONES: [&str; 3] = ["gz-a", "gz-b", "sh-a"];

/// One realistic record at `time_us`.
fn record(rng: &mut Rng, time_us: u64) -> DigestRecord {
    let (service, op, peer, kind) = CALLS[rng.below(CALLS.len() as u64) as usize];
    let ok = rng.below(100) >= 3;
    let mut keys = Keys::new();
    keys.insert("user".into(), format!("u{:08}", rng.below(5_000_000)));
    keys.insert("merchant".into(), format!("m{:06}", rng.below(20_000)));
    keys.insert(
        "bank".into(),
        ["icbc", "ccb", "abc", "boc"][rng.below(4) as usize].into(),
    );
    DigestRecord {
        time_us,
        trace_id: TraceId(((rng.next_u64() as u128) << 64 | rng.next_u64() as u128) | 1),
        span_id: SpanId(rng.next_u64() | 1),
        parent_span_id: (service != "cashier").then(|| SpanId(rng.next_u64() | 1)),
        kind,
        service: service.into(),
        instance: format!("{service}-{}", rng.below(8)),
        zone: ZONES[rng.below(3) as usize].into(),
        operation: op.into(),
        peer: peer.into(),
        duration_us: 200 + rng.below(20_000),
        success: ok,
        code: if ok {
            "SUCCESS".into()
        } else {
            "BANK_TIMEOUT".into()
        },
        error: (!ok).then(|| "TimeoutException".into()),
        scene: SCENES[rng.below(4) as usize].into(),
        channel: CHANNELS[rng.below(4) as usize].into(),
        shadow: rng.below(50) == 0,
        version: format!("2.{}.{}", rng.below(3), rng.below(10)),
        keys,
        amount_cents: Some(100 + rng.below(500_000) as i64),
        sql_count: None,
    }
}

/// `n` lines spread over `n / per_second` seconds from `start_us`.
pub fn generate_lines(n: usize, seed: u64, start_us: u64, per_second: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(n * 450);
    let step = 1_000_000 / per_second.max(1);
    for i in 0..n as u64 {
        encode_record(&mut out, &record(&mut rng, start_us + i * step.max(1)));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn lines_are_valid_and_about_440_bytes() {
        let b = super::generate_lines(1000, 7, 1_800_000_000_000_000, 10_000);
        let n = b.split(|&c| c == b'\n').filter(|l| !l.is_empty()).count();
        assert_eq!(n, 1000);
        let avg = b.len() / n;
        assert!((400..=480).contains(&avg), "average line {avg} bytes");
        for l in b.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
            assert!(crate::scan::scan_record(l).is_some());
        }
    }
}
